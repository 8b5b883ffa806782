namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// What the trace has shown of one process's memory so far, page by page: the pages its snapshots
/// held, with every write the recorder logged since applied. Before an instruction reads memory,
/// the recorder compares the bytes it is about to read with this copy: a page the trace has no bytes
/// for is snapshotted (reason <c>read</c>), a page whose bytes differ — changed by something the trace
/// does not record: another process through a shared mapping, a device, the kernel behind a call the
/// recorder does not model (madvise, io_uring), a debugger — is snapshotted again (reason
/// <c>changed</c>). So every byte an instruction reads is in the trace, and the replay's memory is
/// right at every read.
///
/// Per process (pid), like the replay's memory: a forked or CLONE_VM child starts with a
/// <see cref="Copy"/> and then diverges (its writes are logged under its own pid); the copy shares the
/// parent's page arrays until either side changes one (copy on write), so a fork costs a dictionary
/// of references, not the pages. Bounded: past <see cref="MaxPages"/> pages an arbitrary page is
/// dropped (a later read of it snapshots it again).
/// </summary>
internal sealed class ReadShadow
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    /// <summary>256 MiB of copies per process.</summary>
    public const int DefaultMaxPages = 1 << 16;

    private readonly Dictionary<ulong, byte[]> _pages;
    /// <summary>Pages whose array another shadow may hold too (since a <see cref="Copy"/>): copied before a change.</summary>
    private readonly HashSet<ulong> _shared;

    public ReadShadow(int maxPages = DefaultMaxPages) : this(new Dictionary<ulong, byte[]>(), new HashSet<ulong>(), maxPages)
    {
    }

    private ReadShadow(Dictionary<ulong, byte[]> pages, HashSet<ulong> shared, int maxPages)
    {
        _pages = pages;
        _shared = shared;
        MaxPages = maxPages;
    }

    public int MaxPages { get; }
    public int Count => _pages.Count;
    /// <summary>Pages dropped to stay under <see cref="MaxPages"/>.</summary>
    public long Dropped { get; private set; }

    /// <summary>The copy of page number <paramref name="page"/>, if the trace holds it.</summary>
    public byte[]? Find(ulong page) => _pages.GetValueOrDefault(page);

    /// <summary>A snapshot showed <paramref name="bytes"/> at <paramref name="address"/>: the whole pages
    /// inside it are known from now on (a partial page at either end is not).</summary>
    public void Observe(ulong address, ReadOnlySpan<byte> bytes)
    {
        ulong first = (address + PageSize - 1) >> PageShift;
        ulong end = (address + (ulong)bytes.Length) >> PageShift;
        for (ulong page = first; page < end; page++)
        {
            int offset = (int)((page << PageShift) - address);
            var copy = Own(page) ?? Add(page);
            bytes.Slice(offset, PageSize).CopyTo(copy);
        }
    }

    private byte[] Add(ulong page)
    {
        if (_pages.Count >= MaxPages)
        {
            foreach (ulong victim in _pages.Keys)
            {
                Remove(victim);
                Dropped++;
                break;
            }
        }
        return _pages[page] = new byte[PageSize];
    }

    /// <summary>The page's array, this shadow's own (copied first if a fork shares it); null if not held.</summary>
    private byte[]? Own(ulong page)
    {
        if (!_pages.TryGetValue(page, out var bytes)) return null;
        if (_shared.Count == 0 || !_shared.Remove(page)) return bytes;
        return _pages[page] = (byte[])bytes.Clone();
    }

    private void Remove(ulong page)
    {
        _pages.Remove(page);
        if (_shared.Count > 0) _shared.Remove(page);
    }

    /// <summary>The trace logged a write of <paramref name="size"/> bytes at <paramref name="address"/> whose first
    /// <paramref name="value"/>.Length bytes it kept: known pages take them; a page with bytes the trace did not
    /// keep is no longer known.</summary>
    public void Write(ulong address, ReadOnlySpan<byte> value, long size)
    {
        if (size <= 0 || _pages.Count == 0) return;
        long done = 0;
        while (done < size)
        {
            ulong at = address + (ulong)done;
            int offset = (int)(at & (PageSize - 1));
            int n = (int)Math.Min(PageSize - offset, size - done);
            ulong page = at >> PageShift;
            if (Own(page) is { } copy)
            {
                int kept = (int)Math.Clamp(value.Length - done, 0, n);
                value.Slice((int)done, kept).CopyTo(copy.AsSpan(offset));
                if (kept < n) Remove(page);
            }
            done += n;
            if (at + (ulong)n < at) break; // the top of the address space
        }
    }

    /// <summary>A map or unmap: whatever was in [start, end) is gone.</summary>
    public void Forget(ulong start, ulong end)
    {
        if (end <= start || _pages.Count == 0) return;
        ulong first = start >> PageShift, last = (end - 1) >> PageShift;
        if (last - first < (ulong)_pages.Count)
        {
            for (ulong page = first; ; page++)
            {
                Remove(page);
                if (page == last) break;
            }
            return;
        }
        foreach (ulong page in _pages.Keys.Where(p => p >= first && p <= last).ToList()) Remove(page);
    }

    /// <summary>An exec: the process's memory is new.</summary>
    public void Clear()
    {
        _pages.Clear();
        _shared.Clear();
    }

    /// <summary>What a forked child starts with: the same pages, shared until either side changes one.</summary>
    public ReadShadow Copy()
    {
        _shared.UnionWith(_pages.Keys);
        return new ReadShadow(new Dictionary<ulong, byte[]>(_pages), new HashSet<ulong>(_pages.Keys), MaxPages);
    }
}
