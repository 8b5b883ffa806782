using System.Numerics;

namespace Ether.Replay.Analyzer.Unpack;

/// <summary>
/// Which bytes of one address space were written during the trace, and by code of which layer:
/// the tag of a byte is (layer of the writer + 1), 0 for bytes never written (loaded code).
///
/// Page-indexed and sparse: only written pages exist. A page whose written bytes all carry one tag
/// (nearly every page: stacks, heaps, a decrypted blob) costs a 512-byte bitmap; a page mixing tags
/// (a packer stub writing its next layer beside the previous one) costs a byte per address. So memory
/// stays around 1/8 of what the target itself wrote. Each page also keeps, per tag, the range of
/// writer instructions and steps, which the layer report needs.
/// </summary>
internal sealed class ShadowMemory
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    private const ulong PageMask = PageSize - 1;
    public const byte MaxTag = byte.MaxValue;

    internal sealed class Page
    {
        /// <summary>Bit i set = byte i written (and tagged <see cref="Uniform"/>) while <see cref="Tags"/> is null.</summary>
        public readonly ulong[] Bits = new ulong[PageSize / 64];
        public byte Uniform;
        /// <summary>Per-byte tags once the page holds more than one (0 = not written).</summary>
        public byte[]? Tags;
        /// <summary>Bit i set = byte i was written since an instruction last ran on this page (pending);
        /// null when none is (the page ran since its last write, or was never written).</summary>
        public ulong[]? Pending;
        public readonly List<WriterStats> Writers = new(1);

        public byte TagAt(int offset) =>
            Tags != null ? Tags[offset] : (Bits[offset >> 6] & (1UL << offset)) != 0 ? Uniform : (byte)0;
    }

    /// <summary>Who wrote bytes with a given tag into a page.</summary>
    internal sealed class WriterStats(byte tag)
    {
        public readonly byte Tag = tag;
        public ulong MinRip = ulong.MaxValue;
        public ulong MaxRip;
        public long FirstStep = long.MaxValue;
        public long LastStep = long.MinValue;
        public long KernelBytes;
        public bool AnyRip;
    }

    private readonly Dictionary<ulong, Page> _pages = new();
    // The code being executed stays on a few pages: one cached lookup answers almost every instruction.
    private ulong _cachedPage = ulong.MaxValue;
    private Page? _cached;

    public int PageCount => _pages.Count;
    public IReadOnlyDictionary<ulong, Page> Pages => _pages;

    /// <summary>Highest tag over [address, address+length): an instruction about to run; its pages are
    /// marked as having run (their bytes no longer pending).</summary>
    public byte ExecuteTagOf(ulong address, int length)
    {
        byte max = 0;
        ulong end = address + (ulong)length;
        for (ulong a = address; a < end && a >= address; a++)
        {
            ulong page = a >> PageShift;
            if (page != _cachedPage)
            {
                _cachedPage = page;
                _cached = _pages.GetValueOrDefault(page);
            }
            if (_cached == null)
            {
                a |= PageMask; // skip to the page's last byte; the loop's a++ moves on
                continue;
            }
            _cached.Pending = null; // it ran: what was written is code that ran now, not pending
            byte t = _cached.TagAt((int)(a & PageMask));
            if (t > max) max = t;
        }
        return max;
    }

    /// <summary>
    /// [address, address+size) now holds bytes tagged <paramref name="tag"/> — except pending bytes
    /// (written, and their page has not run since) of a shallower written layer: a deeper layer
    /// rewriting code that has not run yet is fixing it up (UPX's call filter, relocations), not
    /// writing a new layer, so they keep their tag. Returns how many bytes were such fix-ups.
    /// </summary>
    public long Write(ulong address, long size, byte tag, ulong? writerRip, long step, bool kernel)
    {
        if (size <= 0 || tag == 0) return 0;
        long fixups = 0;
        ulong end = address + (ulong)size;
        if (end < address) end = ulong.MaxValue; // wraps at the top of the address space
        for (ulong a = address; a < end;)
        {
            ulong page = a >> PageShift;
            ulong pageEnd = (page + 1) << PageShift;
            if (pageEnd == 0) pageEnd = ulong.MaxValue;
            int from = (int)(a & PageMask);
            int to = (int)(Math.Min(end, pageEnd) - (page << PageShift)); // exclusive, ≤ PageSize
            var p = GetOrAdd(page);
            int kept = Tag(p, from, to, tag);
            fixups += kept;
            SetBits(p.Pending ??= new ulong[PageSize / 64], from, to);
            if (kept < to - from) Note(p, tag, writerRip, step, kernel ? to - from - kept : 0);
            if (pageEnd == ulong.MaxValue) break;
            a = pageEnd;
        }
        return fixups;
    }

    /// <summary>The bytes of [start, end) are no longer written memory (unmapped, or mapped afresh from a file).</summary>
    public void Forget(ulong start, ulong end)
    {
        if (end <= start) return;
        if ((end - start) >> PageShift > (ulong)_pages.Count)
        {
            foreach (var page in _pages.Keys.Where(k => (k << PageShift) < end && ((k + 1) << PageShift) > start).ToList())
                ForgetInPage(page, start, end);
        }
        else
        {
            for (ulong page = start >> PageShift; (page << PageShift) < end && page <= (ulong.MaxValue >> PageShift); page++)
                if (_pages.ContainsKey(page)) ForgetInPage(page, start, end);
        }
        _cachedPage = ulong.MaxValue;
    }

    /// <summary>A separate copy (a forked child's address space starts as its parent's).</summary>
    public ShadowMemory Copy()
    {
        var copy = new ShadowMemory();
        foreach (var (key, page) in _pages)
        {
            var p = new Page { Uniform = page.Uniform, Tags = (byte[]?)page.Tags?.Clone(), Pending = (ulong[]?)page.Pending?.Clone() };
            page.Bits.CopyTo(p.Bits, 0);
            foreach (var w in page.Writers)
                p.Writers.Add(new WriterStats(w.Tag)
                {
                    MinRip = w.MinRip, MaxRip = w.MaxRip, FirstStep = w.FirstStep, LastStep = w.LastStep,
                    KernelBytes = w.KernelBytes, AnyRip = w.AnyRip,
                });
            copy._pages.Add(key, p);
        }
        return copy;
    }

    public void Clear()
    {
        _pages.Clear();
        _cachedPage = ulong.MaxValue;
        _cached = null;
    }

    /// <summary>Bytes tagged <paramref name="tag"/> in [start, end), with the merged writer statistics.</summary>
    public (long Bytes, WriterStats Writers) CountTag(ulong start, ulong end, byte tag)
    {
        var merged = new WriterStats(tag);
        long bytes = 0;
        IEnumerable<ulong> pages = (end - start) >> PageShift > (ulong)_pages.Count
            ? _pages.Keys.Where(k => (k << PageShift) < end && ((k + 1) << PageShift) > start)
            : Enumerable.Range(0, (int)Math.Min(int.MaxValue, ((end - 1) >> PageShift) - (start >> PageShift) + 1))
                .Select(i => (start >> PageShift) + (ulong)i).Where(_pages.ContainsKey);
        foreach (ulong page in pages)
        {
            var p = _pages[page];
            ulong pageStart = page << PageShift;
            int from = start > pageStart ? (int)(start - pageStart) : 0;
            int to = end - pageStart < PageSize ? (int)(end - pageStart) : PageSize;
            long here = 0;
            for (int i = from; i < to; i++)
                if (p.TagAt(i) == tag) here++;
            if (here == 0) continue;
            bytes += here;
            foreach (var w in p.Writers)
            {
                if (w.Tag != tag) continue;
                merged.MinRip = Math.Min(merged.MinRip, w.MinRip);
                merged.MaxRip = Math.Max(merged.MaxRip, w.MaxRip);
                merged.AnyRip |= w.AnyRip;
                merged.FirstStep = Math.Min(merged.FirstStep, w.FirstStep);
                merged.LastStep = Math.Max(merged.LastStep, w.LastStep);
                merged.KernelBytes += w.KernelBytes;
            }
        }
        merged.KernelBytes = Math.Min(merged.KernelBytes, bytes);
        return (bytes, merged);
    }

    /// <summary>The run of pages around <paramref name="address"/> holding bytes tagged <paramref name="tag"/>
    /// (the extent of a layer when the trace has no memory map events).</summary>
    public (ulong Start, ulong End) ExtentOf(ulong address, byte tag)
    {
        bool Has(ulong page) => _pages.TryGetValue(page, out var p) && PageHasTag(p, tag);
        ulong first = address >> PageShift, last = first;
        while (first > 0 && Has(first - 1)) first--;
        while (last < (ulong.MaxValue >> PageShift) && Has(last + 1)) last++;
        return (first << PageShift, (last + 1) << PageShift);
    }

    private static bool PageHasTag(Page p, byte tag)
    {
        if (p.Tags != null) return p.Tags.AsSpan().Contains(tag);
        if (p.Uniform != tag) return false;
        foreach (ulong b in p.Bits) if (b != 0) return true;
        return false;
    }

    private Page GetOrAdd(ulong page)
    {
        if (page == _cachedPage && _cached != null) return _cached;
        if (!_pages.TryGetValue(page, out var p))
        {
            p = new Page();
            _pages.Add(page, p);
        }
        _cachedPage = page;
        _cached = p;
        return p;
    }

    /// <summary>Tags bytes [from, to) of the page; returns how many kept a shallower pending tag (fix-ups).</summary>
    private static int Tag(Page p, int from, int to, byte tag)
    {
        var pending = tag > 1 ? p.Pending : null; // pending bytes of layers 1 .. tag-1 may be here
        bool fixable = pending != null;
        if (p.Tags == null)
        {
            bool empty = true;
            foreach (ulong b in p.Bits) if (b != 0) { empty = false; break; }
            if (empty || p.Uniform == tag)
            {
                p.Uniform = tag;
                SetBits(p.Bits, from, to);
                return 0;
            }
            if (fixable && p.Uniform < tag && AllSet(pending!, from, to))
                return to - from; // a fix-up over bytes all written by one shallower layer: the page stays uniform
            // A second tag on this page: switch to one byte per address.
            p.Tags = new byte[PageSize];
            for (int i = 0; i < PageSize; i++)
                if ((p.Bits[i >> 6] & (1UL << i)) != 0) p.Tags[i] = p.Uniform;
        }
        if (!fixable)
        {
            p.Tags.AsSpan(from, to - from).Fill(tag);
            return 0;
        }
        int kept = 0;
        for (int i = from; i < to; i++)
        {
            byte old = p.Tags[i];
            if (old >= 1 && old < tag && (pending![i >> 6] & (1UL << i)) != 0) kept++;
            else p.Tags[i] = tag;
        }
        return kept;
    }

    private static bool AllSet(ulong[] bits, int from, int to)
    {
        for (int i = from; i < to; i++)
            if ((bits[i >> 6] & (1UL << i)) == 0) return false;
        return true;
    }

    private static void SetBits(ulong[] bits, int from, int to)
    {
        for (int i = from; i < to;)
        {
            int word = i >> 6, bit = i & 63;
            int n = Math.Min(64 - bit, to - i);
            ulong mask = n == 64 ? ulong.MaxValue : ((1UL << n) - 1) << bit;
            bits[word] |= mask;
            i += n;
        }
    }

    private static void Note(Page p, byte tag, ulong? rip, long step, long kernelBytes)
    {
        WriterStats? w = null;
        foreach (var s in p.Writers) if (s.Tag == tag) { w = s; break; }
        if (w == null)
        {
            w = new WriterStats(tag);
            p.Writers.Add(w);
        }
        if (rip is { } r)
        {
            w.AnyRip = true;
            if (r < w.MinRip) w.MinRip = r;
            if (r > w.MaxRip) w.MaxRip = r;
        }
        if (step < w.FirstStep) w.FirstStep = step;
        if (step > w.LastStep) w.LastStep = step;
        w.KernelBytes += kernelBytes;
    }

    private void ForgetInPage(ulong page, ulong start, ulong end)
    {
        ulong pageStart = page << PageShift;
        if (start <= pageStart && end - pageStart >= PageSize)
        {
            _pages.Remove(page);
            return;
        }
        var p = _pages[page];
        int from = start > pageStart ? (int)(start - pageStart) : 0;
        int to = end - pageStart < PageSize ? (int)(end - pageStart) : PageSize;
        if (p.Tags != null) p.Tags.AsSpan(from, to - from).Clear();
        for (int i = from; i < to; i++)
        {
            p.Bits[i >> 6] &= ~(1UL << i);
            if (p.Pending != null) p.Pending[i >> 6] &= ~(1UL << i);
        }
        bool any = p.Tags != null ? p.Tags.AsSpan().ContainsAnyExcept((byte)0) : p.Bits.Any(b => b != 0);
        if (!any) _pages.Remove(page);
    }

    internal static int PopCount(ulong[] bits)
    {
        int n = 0;
        foreach (ulong b in bits) n += BitOperations.PopCount(b);
        return n;
    }
}
