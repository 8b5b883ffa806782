using System.Text;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>Strings, buffers and pointer arrays read from the target, bounded as strace bounds them.</summary>
internal static class StringRenderer
{
    /// <summary>Most execve environment entries counted before giving up (hostile envp).</summary>
    public const int MaxEnvCount = 65536;

    /// <summary>
    /// A buffer of known length (strace's printstr with a length): the first 32 bytes quoted, "..."
    /// when longer; the pointer when it cannot be read. Like strace it reads 33 bytes when the buffer
    /// is longer than 32, so a buffer whose 33rd byte is unreadable prints as its pointer.
    /// </summary>
    public static string Buffer(in TargetReader reader, ulong address, ulong length, bool hexAll = false)
    {
        if (address == 0)
            return "NULL";
        var size = (int)Math.Min(length, MaxStrlen + 1);
        Span<byte> bytes = stackalloc byte[MaxStrlen + 1];
        if (!reader.TryRead(address, bytes[..size]))
            return Addr(address);
        var shown = Math.Min(size, MaxStrlen);
        var quoted = Quote(bytes[..shown], hexAll);
        return length > MaxStrlen ? quoted + More : quoted;
    }

    /// <summary>A NUL-terminated string cut at 32 bytes (strace's printstr without a length).</summary>
    public static string CString(in TargetReader reader, ulong address) => Terminated(reader, address, MaxStrlen);

    /// <summary>A NUL-terminated path, up to PATH_MAX bytes.</summary>
    public static string Path(in TargetReader reader, ulong address) => Terminated(reader, address, PathMax - 1);

    /// <summary>
    /// Reads up to max+1 bytes looking for the NUL. A string that ends before the NUL is found
    /// (unreadable memory) prints as its pointer, as strace does; a longer one is cut with "...".
    /// </summary>
    public static string Terminated(in TargetReader reader, ulong address, int max)
    {
        if (address == 0)
            return "NULL";
        var buffer = max < 256 ? stackalloc byte[max + 1] : new byte[max + 1];
        var read = reader.ReadSome(address, buffer);
        var nul = buffer[..read].IndexOf((byte)0);
        if (nul >= 0)
            return Quote(buffer[..nul]);
        if (read < buffer.Length)
            return Addr(address);
        return Quote(buffer[..max]) + More;
    }

    /// <summary>Bytes of a fixed-size char array field (utsname, sun_path): up to the first NUL.</summary>
    public static string CharArray(ReadOnlySpan<byte> field)
    {
        var nul = field.IndexOf((byte)0);
        return nul >= 0 ? Quote(field[..nul]) : Quote(field) + More;
    }

    /// <summary>execve's argv: ["ls", "-la"], at most 32 elements, each cut at 32 bytes.</summary>
    public static string Argv(in TargetReader reader, ulong address)
    {
        if (address == 0)
            return "NULL";
        var word = reader.Layout.WordSize;
        var sb = new StringBuilder();
        for (var n = 0; ; n++)
        {
            var slot = address + (ulong)(n * word);
            if (slot < address || !reader.TryReadWord(slot, out var pointer))
            {
                if (n == 0)
                    return Addr(address);
                sb.Append(", ").Append(More).Append(" /* ").Append(Addr(slot)).Append(" */");
                break;
            }
            if (n == 0)
                sb.Append('[');
            if (pointer == 0)
                break;
            if (n != 0)
                sb.Append(", ");
            if (n >= MaxStrlen)
            {
                sb.Append(More);
                break;
            }
            sb.Append(CString(reader, pointer));
        }
        return sb.Append(']').ToString();
    }

    /// <summary>execve's envp as strace abbreviates it: the pointer and /* N vars */.</summary>
    public static string Envp(in TargetReader reader, ulong address)
    {
        if (address == 0)
            return "NULL";
        var word = reader.Layout.WordSize;
        Span<byte> chunk = stackalloc byte[512];
        var count = 0;
        var terminated = false;
        var readable = true;
        while (count < MaxEnvCount && !terminated)
        {
            var at = address + (ulong)(count * word);
            if (at < address)
            {
                readable = false;
                break;
            }
            var got = reader.ReadSome(at, chunk) / word;
            if (got == 0)
            {
                readable = false;
                break;
            }
            for (var i = 0; i < got; i++)
            {
                var pointer = word == 8 ? BitConverter.ToUInt64(chunk[(i * 8)..]) : BitConverter.ToUInt32(chunk[(i * 4)..]);
                if (pointer == 0)
                {
                    terminated = true;
                    break;
                }
                count++;
            }
        }
        if (count == 0 && !terminated && !readable)
            return Addr(address);
        var comment = count == 1 ? "1 var" : $"{count} vars";
        if (!terminated && readable)
            comment = $"more than {count} vars";
        else if (!terminated)
            comment += ", unterminated";
        return $"{Addr(address)} /* {comment} */";
    }

    /// <summary>
    /// An iovec array: [{iov_base="...", iov_len=N}, ...], at most 32 elements. <paramref name="dataSize"/>
    /// is how many bytes of data to show in total (the return value of readv); null shows each iov_len.
    /// </summary>
    public static string Iovec(in TargetReader reader, ulong address, ulong count, ulong? dataSize)
    {
        if (address == 0)
            return "NULL";
        var layout = reader.Layout;
        var sb = new StringBuilder("[");
        var remaining = dataSize ?? ulong.MaxValue;
        for (ulong i = 0; i < count; i++)
        {
            if (i >= MaxStrlen)
            {
                sb.Append(", ").Append(More);
                break;
            }
            var at = address + i * (ulong)layout.IovecSize;
            if (!reader.TryReadWord(at, out var @base) || !reader.TryReadWord(at + (ulong)layout.WordSize, out var length))
            {
                if (i == 0)
                    return Addr(address);
                sb.Append(", ").Append(More).Append(" /* ").Append(Addr(at)).Append(" */");
                break;
            }
            var shown = Math.Min(length, remaining);
            remaining -= shown;
            if (i > 0)
                sb.Append(", ");
            sb.Append("{iov_base=").Append(Buffer(reader, @base, shown)).Append(", iov_len=").Append(UDec(length)).Append('}');
        }
        return sb.Append(']').ToString();
    }
}
