using System.Globalization;
using System.Text;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// strace's output conventions for values: quoting with C escapes, the 32-byte string cut
/// (strace's default -s 32), hex and NULL for pointers, octal modes, and flags/xval printing with
/// "/* X_??? */" for unknown values. strace 6.x is the reference; tests compare with its output.
/// </summary>
internal static class StraceText
{
    /// <summary>strace's default string and array limit (-s 32).</summary>
    public const int MaxStrlen = 32;

    /// <summary>PATH_MAX: how much of a path strace prints.</summary>
    public const int PathMax = 4096;

    /// <summary>The "more data" mark strace appends to cut strings and arrays.</summary>
    public const string More = "...";

    public static string Hex(ulong value) =>
        value == 0 ? "0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Addr(ulong value) => value == 0 ? "NULL" : "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Dec(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string UDec(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>C's %#03o: "000", "007", "0644".</summary>
    public static string Octal(ulong value)
    {
        var digits = value == 0 ? "0" : "0" + Convert.ToString((long)value, 8);
        return digits.PadLeft(3, '0');
    }

    /// <summary>
    /// Quotes bytes as strace's string_quote does without -x: printable ASCII as is, the usual C
    /// escapes, everything else as the shortest octal escape (three digits when an octal digit
    /// follows). <paramref name="hexAll"/> prints every byte as \xHH (getrandom's buffers).
    /// </summary>
    public static string Quote(ReadOnlySpan<byte> bytes, bool hexAll = false)
    {
        var sb = new StringBuilder(bytes.Length + 2);
        AppendQuoted(sb, bytes, hexAll);
        return sb.ToString();
    }

    public static void AppendQuoted(StringBuilder sb, ReadOnlySpan<byte> bytes, bool hexAll = false)
    {
        sb.Append('"');
        for (var i = 0; i < bytes.Length; i++)
        {
            var c = bytes[i];
            if (hexAll)
            {
                sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
                continue;
            }
            switch (c)
            {
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'\f': sb.Append("\\f"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case (byte)'\v': sb.Append("\\v"); break;
                default:
                    if (c >= 0x20 && c < 0x7f)
                    {
                        sb.Append((char)c);
                    }
                    else
                    {
                        var pad = i + 1 < bytes.Length && bytes[i + 1] >= (byte)'0' && bytes[i + 1] <= (byte)'7';
                        sb.Append('\\');
                        if (pad || c >> 6 != 0)
                            sb.Append((char)('0' + (c >> 6)));
                        if (pad || c >> 3 != 0)
                            sb.Append((char)('0' + ((c >> 3) & 7)));
                        sb.Append((char)('0' + (c & 7)));
                    }
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>
    /// strace's printflags: known flags in the set's order joined by '|', leftover bits as hex;
    /// "0" (or the set's zero-valued name) for 0; an all-unknown value as "0x40 /* PROT_??? */".
    /// </summary>
    public static string Flags(ConstantSet set, ulong flags, string? unknown)
    {
        if (flags == 0)
            return ZeroName(set) ?? "0";
        var sb = new StringBuilder();
        AppendFlags(sb, set, ref flags);
        if (flags != 0)
        {
            if (sb.Length > 0)
                sb.Append('|').Append(Hex(flags));
            else
            {
                sb.Append(Hex(flags));
                if (unknown is not null)
                    sb.Append(" /* ").Append(unknown).Append(" */");
            }
        }
        return sb.ToString();
    }

    /// <summary>Appends the known flags of <paramref name="flags"/> and clears their bits.</summary>
    public static void AppendFlags(StringBuilder sb, ConstantSet set, ref ulong flags)
    {
        foreach (var entry in set.Entries)
        {
            var bits = (ulong)entry.Value;
            if (bits != 0 && (flags & bits) == bits)
            {
                if (sb.Length > 0)
                    sb.Append('|');
                sb.Append(entry.Name);
                flags &= ~bits;
            }
        }
    }

    /// <summary>strace's printxval: the name, or "0x3001 /* ARCH_??? */".</summary>
    public static string Xval(ConstantSet set, long value, string unknown) =>
        set.NameOf(value) ?? Hex((ulong)value) + " /* " + unknown + " */";

    /// <summary>Like <see cref="Xval"/> for an int-sized argument (negative values as 32-bit hex).</summary>
    public static string XvalInt(ConstantSet set, ulong raw, string unknown)
    {
        var value = (int)(uint)raw;
        return set.NameOf(value) ?? Hex((uint)value) + " /* " + unknown + " */";
    }

    public static string Signal(long signal) => Signals.Name((int)signal) is { } name && signal == (int)signal
        ? name
        : Dec(signal);

    private static string? ZeroName(ConstantSet set)
    {
        foreach (var entry in set.Entries)
            if (entry.Value == 0)
                return entry.Name;
        return null;
    }
}
