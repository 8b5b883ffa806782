namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// Bounded reads of target memory. Nothing here reads more than its caller's cap, and an address
/// range that would wrap around the top of the address space is treated as unreadable.
/// </summary>
internal readonly struct TargetReader(ITargetMemory memory, LinuxLayout layout)
{
    public LinuxLayout Layout => layout;

    /// <summary>Reads as much as is readable, up to into.Length.</summary>
    public int ReadSome(ulong address, Span<byte> into)
    {
        if (into.IsEmpty || address == 0)
            return 0;
        var room = ulong.MaxValue - address + 1; // bytes up to the top of the address space
        if (room != 0 && (ulong)into.Length > room)
            into = into[..(int)room];
        var read = memory.Read(address, into);
        return Math.Clamp(read, 0, into.Length);
    }

    /// <summary>All or nothing, like strace's umoven.</summary>
    public bool TryRead(ulong address, Span<byte> into) => into.IsEmpty || ReadSome(address, into) == into.Length;

    public bool TryReadU32(ulong address, out uint value)
    {
        Span<byte> b = stackalloc byte[4];
        if (!TryRead(address, b))
        {
            value = 0;
            return false;
        }
        value = BitConverter.ToUInt32(b);
        return true;
    }

    public bool TryReadU64(ulong address, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        if (!TryRead(address, b))
        {
            value = 0;
            return false;
        }
        value = BitConverter.ToUInt64(b);
        return true;
    }

    /// <summary>Reads one unsigned long / pointer of the target's word size.</summary>
    public bool TryReadWord(ulong address, out ulong value)
    {
        if (layout.Is64)
            return TryReadU64(address, out value);
        var ok = TryReadU32(address, out var v32);
        value = v32;
        return ok;
    }

    /// <summary>
    /// Reads up to <paramref name="length"/> bytes (capped at <paramref name="cap"/>) in page-sized
    /// pieces, stopping at the first unreadable byte; returns what was read.
    /// </summary>
    public byte[] ReadUpTo(ulong address, long length, int cap)
    {
        var want = (int)Math.Clamp(length, 0, cap);
        var bytes = new byte[want];
        var done = 0;
        while (done < want)
        {
            var piece = Math.Min(4096, want - done);
            var got = ReadSome(address + (ulong)done, bytes.AsSpan(done, piece));
            done += got;
            if (got < piece)
                break;
        }
        return done == want ? bytes : bytes[..done];
    }

    /// <summary>Reads a struct of <paramref name="size"/> bytes (capped at 4 KiB), or null when unreadable.</summary>
    public byte[]? ReadStruct(ulong address, int size)
    {
        if (address == 0 || size <= 0 || size > 4096)
            return null;
        var bytes = new byte[size];
        return TryRead(address, bytes) ? bytes : null;
    }
}
