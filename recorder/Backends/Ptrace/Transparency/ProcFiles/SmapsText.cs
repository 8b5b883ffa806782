using System.Globalization;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// A counter line of /proc/&lt;pid&gt;/smaps, "Rss:                  44 kB": the kernel prints a
/// fixed label (its name, a colon and padding spaces) and the value right-aligned in 8 columns
/// (SEQ_PUT_DEC); <see cref="With"/> prints another value the same way.
/// </summary>
internal sealed record SmapsField(string Line, string Label, long Value, int LabelLength)
{
    private const string Unit = " kB";

    public static SmapsField? Parse(string line)
    {
        int colon = line.IndexOf(':');
        if (colon <= 0 || !line.EndsWith(Unit, StringComparison.Ordinal)) return null;
        var number = line.AsSpan(colon + 1, line.Length - Unit.Length - colon - 1);
        var digits = number.TrimStart(' ');
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value)) return null;
        // The label's own padding: what the value does not fill of its 8 columns is padding to it.
        int labelLength = colon + 1 + number.Length - Math.Max(8, digits.Length);
        return new SmapsField(line, line[..colon], value, labelLength);
    }

    public string With(long value) =>
        Line[..LabelLength] + value.ToString(CultureInfo.InvariantCulture).PadLeft(8) + Unit;
}

/// <summary>The "VmFlags: rd wr mr mw me ac " line of smaps (two letters per flag, in flag-bit order, each followed by a space).</summary>
internal static class SmapsFlags
{
    private const string Prefix = "VmFlags: ";

    /// <summary>The mnemonics up to VM_ACCOUNT's, in bit order (fs/proc/task_mmu.c show_smap_vma_flags): where "ac" goes.</summary>
    private static readonly string[] BitOrder = ["rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "lo", "io", "sr", "rr", "dc", "de", "lf", "ac"];

    /// <summary>The flags with rd/wr/ex of <paramref name="perms"/> ("rw-p"), and "ac" if a private mapping is or
    /// <paramref name="wasWritable"/> (the kernel accounts it from then on, unless MAP_NORESERVE).</summary>
    public static string WithProtection(string line, string perms, bool wasWritable)
    {
        var flags = line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => f is not ("rd" or "wr" or "ex")).ToList();
        var own = new List<string>(3);
        if (perms[0] == 'r') own.Add("rd");
        if (perms[1] == 'w') own.Add("wr");
        if (perms[2] == 'x') own.Add("ex");
        flags.InsertRange(0, own);
        if ((perms[1] == 'w' || wasWritable) && perms[3] == 'p' && !flags.Contains("ac") && !flags.Contains("nr"))
        {
            int at = flags.FindIndex(f => Array.IndexOf(BitOrder, f) < 0); // the first flag of a higher bit
            flags.Insert(at < 0 ? flags.Count : at, "ac");
        }
        return Prefix + string.Concat(flags.Select(f => f + " "));
    }
}
