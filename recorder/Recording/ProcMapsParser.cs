using System.Globalization;
using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// Reads the text of /proc/PID/maps (pure: the caller reads the file). One line per mapping:
/// <c>start-end perms offset dev inode   name</c>, e.g.
/// <c>7f3a1c000000-7f3a1c021000 r-xp 00002000 08:01 1234   /usr/lib/x.so</c>.
/// The name is padded with spaces after the inode and runs to the end of the line; it may itself
/// contain spaces (" (deleted)"); the kernel escapes newlines in it as "\012".
/// </summary>
public static class ProcMapsParser
{
    /// <summary>Parses the whole file; a malformed line throws <see cref="FormatException"/> naming it.</summary>
    public static MemoryMap Parse(string text)
    {
        var regions = new List<Region>();
        int lineNumber = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            if (line.IsWhiteSpace()) continue;
            regions.Add(ParseLine(line, lineNumber));
        }
        try
        {
            return new MemoryMap(regions);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"/proc maps: {e.Message}", e);
        }
    }

    /// <summary>Parses one line; <paramref name="lineNumber"/> only labels errors.</summary>
    public static Region ParseLine(ReadOnlySpan<char> line, int lineNumber = 1)
    {
        var rest = line;
        var range = NextField(ref rest);
        int dash = range.IndexOf('-');
        if (dash <= 0
            || !ulong.TryParse(range[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
            || !ulong.TryParse(range[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end)
            || end <= start)
            throw Bad(lineNumber, "address range", line);

        var perms = NextField(ref rest);
        if (perms.Length != 4) throw Bad(lineNumber, "permissions", line);
        var protection = RegionProtection.None;
        protection |= Flag(perms[0], 'r', RegionProtection.Read, lineNumber, line);
        protection |= Flag(perms[1], 'w', RegionProtection.Write, lineNumber, line);
        protection |= Flag(perms[2], 'x', RegionProtection.Execute, lineNumber, line);
        protection |= perms[3] switch
        {
            's' => RegionProtection.Shared,
            'p' => RegionProtection.None,
            _ => throw Bad(lineNumber, "permissions", line),
        };

        if (!ulong.TryParse(NextField(ref rest), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong offset))
            throw Bad(lineNumber, "offset", line);
        var device = NextField(ref rest);
        int colon = device.IndexOf(':');
        if (colon < 0
            || !ulong.TryParse(device[..colon], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong major)
            || !ulong.TryParse(device[(colon + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong minor))
            throw Bad(lineNumber, "device", line);
        if (!ulong.TryParse(NextField(ref rest), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            throw Bad(lineNumber, "inode", line);

        string name = rest.TrimStart(' ').ToString();
        return new Region(start, end, protection, offset, name) { Device = inode == 0 ? 0 : MakeDev(major, minor), Inode = inode };
    }

    /// <summary>glibc's makedev: the st_dev that stat(2) reports for a device maps shows as major:minor.</summary>
    public static ulong MakeDev(ulong major, ulong minor) =>
        ((major & 0xfffff000UL) << 32) | ((major & 0xfffUL) << 8) | ((minor & 0xffffff00UL) << 12) | (minor & 0xffUL);

    private static ReadOnlySpan<char> NextField(ref ReadOnlySpan<char> rest)
    {
        rest = rest.TrimStart(' ');
        int space = rest.IndexOf(' ');
        var field = space < 0 ? rest : rest[..space];
        rest = space < 0 ? [] : rest[(space + 1)..];
        return field;
    }

    private static RegionProtection Flag(char c, char set, RegionProtection flag, int lineNumber, ReadOnlySpan<char> line) =>
        c == set ? flag : c == '-' ? RegionProtection.None : throw Bad(lineNumber, "permissions", line);

    private static FormatException Bad(int lineNumber, string what, ReadOnlySpan<char> line) =>
        new($"/proc maps line {lineNumber}: bad {what} in \"{line}\"");
}
