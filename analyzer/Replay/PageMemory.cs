namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// Every process's memory as a pass over a trace in log order knows it, page by page: what
/// snapshots showed, with the writes since applied. Answers "what did this step read" for a
/// sequential pass (the memory_reads table, the Tenet export), where <see cref="ReplaySession"/>
/// answers it for one step at a time.
///
/// Only snapshots bring pages in; writes change pages already here. That mirrors the recorder, whose
/// check of every read keeps pages the same way: the first time a process reads a page the trace has
/// no bytes for, it snapshots the page before the step, and it snapshots again when a read finds a
/// page changed by something the trace does not record. So the pages a read touches are always here.
/// A write's bytes beyond what the trace kept (a truncated write) become unknown.
///
/// A forked child starts with its parent's pages, shared until one of them changes a page (copy on
/// write), as the replay's rule says. A map, unmap or exec forgets the range; so does a process exit.
/// Bounded: past <see cref="MaxPages"/> pages no new page is taken (reads there stay unknown) and
/// <see cref="PagesRefused"/> counts them.
/// </summary>
internal sealed class PageMemory(long maxPages = PageMemory.DefaultMaxPages)
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    /// <summary>1 GiB of pages.</summary>
    public const long DefaultMaxPages = 1L << 18;

    private sealed class Page
    {
        public readonly byte[] Data = new byte[PageSize];
        /// <summary>One bit per byte: the trace shows it.</summary>
        public readonly ulong[] Known = new ulong[PageSize / 64];
        /// <summary>Processes sharing this page since a fork: a change copies it first.</summary>
        public int Owners = 1;

        public Page Copy()
        {
            var copy = new Page();
            Data.CopyTo(copy.Data, 0);
            Known.CopyTo(copy.Known, 0);
            return copy;
        }
    }

    private readonly Dictionary<int, Dictionary<ulong, Page>> _processes = new();
    private long _pages;

    public long MaxPages { get; } = maxPages;
    public long Pages => _pages;
    public long PagesRefused { get; private set; }

    /// <summary>The bytes a snapshot shows: pages come in.</summary>
    public void Observe(int pid, ulong address, ReadOnlySpan<byte> bytes) => Store(pid, address, bytes, bytes.Length, create: true);

    /// <summary>A write of <paramref name="size"/> bytes whose first <paramref name="value"/>.Length the trace kept.</summary>
    public void Write(int pid, ulong address, ReadOnlySpan<byte> value, long size) => Store(pid, address, value, size, create: false);

    private void Store(int pid, ulong address, ReadOnlySpan<byte> value, long size, bool create)
    {
        if (size <= 0) return;
        var pages = Process(pid, create);
        if (pages == null) return;
        long done = 0;
        while (done < size)
        {
            ulong at = address + (ulong)done;
            ulong number = at >> PageShift;
            int offset = (int)(at & (PageSize - 1));
            int n = (int)Math.Min(PageSize - offset, size - done);
            var page = Writable(pages, number, create);
            if (page != null)
            {
                int stored = (int)Math.Clamp(value.Length - done, 0, n);
                value.Slice((int)done, stored).CopyTo(page.Data.AsSpan(offset));
                SetKnown(page.Known, offset, stored, true);
                SetKnown(page.Known, offset + stored, n - stored, false);
            }
            done += n;
            if (at + (ulong)n < at) break; // the top of the address space
        }
    }

    /// <summary>Copies [address, address+into.Length) into <paramref name="into"/>, marking in
    /// <paramref name="known"/> which bytes the trace shows; returns whether all of them are.</summary>
    public bool Read(int pid, ulong address, Span<byte> into, Span<bool> known)
    {
        bool all = true;
        _processes.TryGetValue(pid, out var pages);
        int done = 0;
        while (done < into.Length)
        {
            ulong at = address + (ulong)done;
            int offset = (int)(at & (PageSize - 1));
            int n = Math.Min(PageSize - offset, into.Length - done);
            if (pages != null && pages.TryGetValue(at >> PageShift, out var page))
            {
                page.Data.AsSpan(offset, n).CopyTo(into[done..]);
                for (int i = 0; i < n; i++)
                {
                    int b = offset + i;
                    bool k = (page.Known[b >> 6] & (1UL << b)) != 0;
                    known[done + i] = k;
                    all &= k;
                }
            }
            else
            {
                into.Slice(done, n).Clear();
                known.Slice(done, n).Clear();
                all = false;
            }
            done += n;
        }
        return all;
    }

    /// <summary>A map or unmap: what was in [start, end) is gone.</summary>
    public void Forget(int pid, ulong start, ulong end)
    {
        if (end <= start || !_processes.TryGetValue(pid, out var pages)) return;
        ulong first = start >> PageShift, last = (end - 1) >> PageShift;
        if (last - first < (ulong)pages.Count)
        {
            for (ulong p = first; ; p++)
            {
                if (pages.Remove(p, out var page)) Release(page);
                if (p == last) break;
            }
            return;
        }
        foreach (ulong p in pages.Keys.Where(p => p >= first && p <= last).ToList())
            if (pages.Remove(p, out var page)) Release(page);
    }

    /// <summary>An exec or an exit: the process's memory is gone.</summary>
    public void ForgetProcess(int pid)
    {
        if (!_processes.Remove(pid, out var pages)) return;
        foreach (var page in pages.Values) Release(page);
    }

    /// <summary>A fork, vfork or clone: the child starts with the parent's pages.</summary>
    public void Fork(int parent, int child)
    {
        ForgetProcess(child);
        if (parent == child || !_processes.TryGetValue(parent, out var pages)) return;
        var copy = new Dictionary<ulong, Page>(pages.Count);
        foreach (var (number, page) in pages)
        {
            page.Owners++;
            copy[number] = page;
        }
        _processes[child] = copy;
    }

    private Dictionary<ulong, Page>? Process(int pid, bool create)
    {
        if (_processes.TryGetValue(pid, out var pages)) return pages;
        if (!create) return null;
        return _processes[pid] = new Dictionary<ulong, Page>();
    }

    private Page? Writable(Dictionary<ulong, Page> pages, ulong number, bool create)
    {
        if (pages.TryGetValue(number, out var page))
        {
            if (page.Owners == 1) return page;
            page.Owners--;
            _pages++;
            return pages[number] = page.Copy();
        }
        if (!create) return null;
        if (_pages >= MaxPages)
        {
            PagesRefused++;
            return null;
        }
        _pages++;
        return pages[number] = new Page();
    }

    private void Release(Page page)
    {
        if (--page.Owners == 0) _pages--;
    }

    private static void SetKnown(ulong[] bits, int from, int count, bool known)
    {
        for (int b = from; b < from + count; )
        {
            int word = b >> 6, bit = b & 63;
            int n = Math.Min(64 - bit, from + count - b);
            ulong mask = (n == 64 ? ulong.MaxValue : (1UL << n) - 1) << bit;
            if (known) bits[word] |= mask;
            else bits[word] &= ~mask;
            b += n;
        }
    }
}
