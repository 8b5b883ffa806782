using System.Globalization;
using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// One header line of /proc/&lt;pid&gt;/maps and smaps ("start-end perms offset dev inode [name]"),
/// parsed and printed exactly as the kernel prints it (fs/proc/task_mmu.c show_vma_header_prefix):
/// addresses and offset in lowercase hex, at least 8 digits; the prefix up to the inode and one
/// space padded to 72 columns, then one space and the name; no name = the line ends after "inode ".
/// </summary>
internal readonly record struct MapsLine(ulong Start, ulong End, string Perms, ulong Offset, string Device, string Inode, string Name)
{
    private const int NameColumn = 25 + 8 * 6 - 1; // seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)

    /// <summary>Backed by a file (the offset is the file's; anonymous memory shows 0 whatever its pages).</summary>
    public bool HasFile => Inode != "0" || Device != "00:00";

    /// <summary>'p' (private) or 's' (shared).</summary>
    public char Sharing => Perms[3];

    public static MapsLine? Parse(string line)
    {
        // start-end
        int dash = line.IndexOf('-');
        if (dash <= 0) return null;
        int sp1 = line.IndexOf(' ', dash);
        if (sp1 < 0 || !Hex(line.AsSpan(0, dash), out ulong start) || !Hex(line.AsSpan(dash + 1, sp1 - dash - 1), out ulong end)) return null;
        var fields = new string[4];
        int at = sp1 + 1;
        for (int i = 0; i < 4; i++)
        {
            int sp = line.IndexOf(' ', at);
            if (sp < 0) sp = line.Length;
            fields[i] = line[at..sp];
            at = Math.Min(sp + 1, line.Length);
        }
        if (fields[0].Length != 4 || !Hex(fields[1], out ulong offset) || fields[2].IndexOf(':') < 0 || fields[3].Length == 0) return null;
        foreach (char c in fields[3]) if (c is < '0' or > '9') return null;
        return new MapsLine(start, end, fields[0], offset, fields[2], fields[3], line[at..].TrimStart(' '));
    }

    public override string ToString()
    {
        var sb = new StringBuilder(NameColumn + Name.Length + 1);
        sb.Append(Start.ToString("x8", CultureInfo.InvariantCulture)).Append('-').Append(End.ToString("x8", CultureInfo.InvariantCulture))
          .Append(' ').Append(Perms).Append(' ').Append(Offset.ToString("x8", CultureInfo.InvariantCulture))
          .Append(' ').Append(Device).Append(' ').Append(Inode).Append(' ');
        if (Name.Length == 0) return sb.ToString();
        if (sb.Length < NameColumn) sb.Append(' ', NameColumn - sb.Length);
        return sb.Append(' ').Append(Name).ToString();
    }

    private static bool Hex(ReadOnlySpan<char> s, out ulong value) =>
        ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && s.Length > 0;
}
