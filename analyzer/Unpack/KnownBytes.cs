namespace Ether.Replay.Analyzer.Unpack;

/// <summary>
/// The values of a few pages of one address space, as far as the trace showed them: pages start
/// known from a snapshot (the initial stack the recorder takes at exec) and follow every write
/// into them. Other pages are not kept: the unpack analysis only needs the process's entry block
/// (argc, argv, envp, auxv), not a replay of all memory.
/// </summary>
internal sealed class KnownBytes
{
    private const int PageShift = 12, PageSize = 1 << PageShift;

    private sealed class Page
    {
        public readonly byte[] Bytes = new byte[PageSize];
        public readonly ulong[] Known = new ulong[PageSize / 64];
    }

    private readonly Dictionary<ulong, Page> _pages = new();
    private ulong _low = ulong.MaxValue, _high;

    public bool IsEmpty => _pages.Count == 0;

    /// <summary>Starts keeping the pages of [address, address+bytes.Length) with these values.</summary>
    public void Adopt(ulong address, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return;
        for (ulong page = address >> PageShift; page <= (address + (ulong)bytes.Length - 1) >> PageShift; page++)
            if (!_pages.ContainsKey(page)) _pages.Add(page, new Page());
        _low = Math.Min(_low, address & ~(ulong)(PageSize - 1));
        _high = Math.Max(_high, ((address + (ulong)bytes.Length - 1) | (PageSize - 1)) + 1);
        Write(address, bytes);
    }

    /// <summary>A write: updates the kept pages it touches (cheap when it touches none).</summary>
    public void Write(ulong address, ReadOnlySpan<byte> value)
    {
        if (value.Length == 0 || address >= _high || address + (ulong)value.Length <= _low) return;
        for (int i = 0; i < value.Length;)
        {
            ulong a = address + (ulong)i;
            int offset = (int)(a & (PageSize - 1));
            int n = Math.Min(PageSize - offset, value.Length - i);
            if (_pages.TryGetValue(a >> PageShift, out var p))
            {
                value.Slice(i, n).CopyTo(p.Bytes.AsSpan(offset));
                for (int k = offset; k < offset + n; k++) p.Known[k >> 6] |= 1UL << k;
            }
            i += n;
        }
    }

    /// <summary>Forgets what [start, end) held (unmapped or mapped afresh).</summary>
    public void Forget(ulong start, ulong end)
    {
        if (end <= _low || start >= _high) return;
        foreach (var page in _pages.Keys.Where(k => (k << PageShift) < end && ((k + 1) << PageShift) > start).ToList())
            _pages.Remove(page);
    }

    public void Clear()
    {
        _pages.Clear();
        (_low, _high) = (ulong.MaxValue, 0);
    }

    public KnownBytes Copy()
    {
        var copy = new KnownBytes { _low = _low, _high = _high };
        foreach (var (key, page) in _pages)
        {
            var p = new Page();
            page.Bytes.CopyTo(p.Bytes, 0);
            page.Known.CopyTo(p.Known, 0);
            copy._pages.Add(key, p);
        }
        return copy;
    }

    public bool TryRead64(ulong address, out ulong value)
    {
        value = 0;
        for (int i = 7; i >= 0; i--)
        {
            ulong a = address + (ulong)i;
            if (!_pages.TryGetValue(a >> PageShift, out var p)) return false;
            int offset = (int)(a & (PageSize - 1));
            if ((p.Known[offset >> 6] & (1UL << offset)) == 0) return false;
            value = value << 8 | p.Bytes[offset];
        }
        return true;
    }

    /// <summary>
    /// Whether the stack at <paramref name="rsp"/> is a process entry block (argc, argv[], NULL,
    /// envp[], NULL, auxv pairs up to AT_NULL) whose AT_ENTRY is <paramref name="rip"/>: what a
    /// program's first instruction sees, whether the kernel, ld.so or an unpacker set it up.
    /// </summary>
    public bool IsEntryState(ulong rsp, ulong rip, out ulong atEntry)
    {
        atEntry = 0;
        if (!TryRead64(rsp, out ulong argc) || argc > 65536) return false;
        ulong p = rsp + 8 + argc * 8;
        if (!TryRead64(p, out ulong end) || end != 0) return false;
        p += 8;
        for (int n = 0; ; n++, p += 8)
        {
            if (n > 65536 || !TryRead64(p, out ulong env)) return false;
            if (env == 0) break;
        }
        p += 8;
        for (int n = 0; n < 128; n++, p += 16)
        {
            if (!TryRead64(p, out ulong type) || !TryRead64(p + 8, out ulong value)) return false;
            if (type == 0) return false; // AT_NULL before AT_ENTRY
            if (type == 9)
            {
                atEntry = value;
                return value == rip;
            }
        }
        return false;
    }
}
