using System.Numerics;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// Ether's EtherUnpack moment: execution reaching memory the process wrote after it started (or
/// after that page last executed) — code that was unpacked, decrypted or generated at run time.
/// One tracker per address space; the caller reports every write (instructions and the kernel's,
/// e.g. a <c>read</c> into a buffer) and every executed instruction.
///
/// The moment is per page, as in Ether: when it fires, the whole page counts as executed (clean)
/// until written again, so unpacking a page yields one moment, not one per instruction. Writes are
/// remembered per 64-byte line within the page, and only executing a written line fires: a decrypt
/// loop that writes its output beside its own code in the same page does not fire on every pass,
/// yet jumping into what it wrote does. Pass <c>granuleShift: 12</c> for Ether's pure page
/// granularity (any write to the page counts).
///
/// Memory: 8 bytes per page in 64-page (256 KiB) chunks, allocated only where writes land and freed
/// once a chunk has no written lines left. Every chunk costs the target at least one 4 KiB page of
/// its own, so we stay under ~13% of what the target itself wrote, typically far less.
/// Not thread-safe.
/// </summary>
public sealed class UnpackTracker
{
    public const int PageShift = 12;
    private const int PagesPerChunkShift = 6; // 64 pages per chunk
    private const ulong NoPage = ulong.MaxValue;

    private readonly int _granuleShift;
    private readonly Dictionary<ulong, Chunk> _chunks;
    /// <summary>A page seen with no written lines and not written since: the step loop's fast path.</summary>
    private ulong _cleanPage = NoPage;
    private readonly List<ulong> _scratchChunks = [];
    /// <summary>The chunk used last (writes land on the stack again and again): saves a hash lookup.</summary>
    private ulong _lastChunkKey = NoPage;
    private Chunk? _lastChunk;

    private sealed class Chunk
    {
        /// <summary>Per page: bit i set = granule i of the page was written since the page last fired.</summary>
        public readonly ulong[] Lines = new ulong[1 << PagesPerChunkShift];
        /// <summary>Bit p set = Lines[p] != 0.</summary>
        public ulong DirtyPages;

        public Chunk Clone()
        {
            var copy = new Chunk { DirtyPages = DirtyPages };
            Lines.CopyTo(copy.Lines, 0);
            return copy;
        }
    }

    /// <param name="granuleShift">log2 of the write granule inside a page: 6 (64-byte lines, the
    /// default) up to 12 (whole pages, Ether's behaviour).</param>
    public UnpackTracker(int granuleShift = 6) : this(granuleShift, [])
    {
    }

    private UnpackTracker(int granuleShift, Dictionary<ulong, Chunk> chunks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(granuleShift, 6);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(granuleShift, PageShift);
        _granuleShift = granuleShift;
        _chunks = chunks;
    }

    /// <summary>Pages holding written bytes that have not executed yet.</summary>
    public long WrittenPages
    {
        get
        {
            long n = 0;
            foreach (var chunk in _chunks.Values) n += BitOperations.PopCount(chunk.DirtyPages);
            return n;
        }
    }

    /// <summary>[address, address+size) was written (by an instruction or by the kernel).</summary>
    public void OnWrite(ulong address, long size) => Mark(address, size, dirty: true);

    /// <summary>[address, address+size) was unmapped: whatever was written there is gone.</summary>
    public void Forget(ulong address, long size) => Mark(address, size, dirty: false);

    /// <summary>
    /// The instruction at <paramref name="rip"/> (<paramref name="length"/> bytes) is about to execute.
    /// True when its bytes overlap memory written since their page last fired; the page(s) it
    /// touches are then clean again.
    /// </summary>
    public bool OnExecute(ulong rip, int length = 1)
    {
        ulong page = rip >> PageShift;
        ulong lastByte = rip + (ulong)Math.Max(length, 1) - 1;
        ulong lastPage = lastByte >> PageShift;
        if (page == _cleanPage && lastPage == page) return false;

        bool fired = Fire(page, rip, page == lastPage ? lastByte : (page << PageShift) | 0xFFF, out bool clean);
        if (lastPage != page) fired |= Fire(lastPage, lastPage << PageShift, lastByte, out _);
        else if (clean) _cleanPage = page;
        return fired;
    }

    /// <summary>
    /// Checks the bytes [from, to] of one page; if any written line is among them, cleans the page.
    /// <paramref name="clean"/> tells whether the page has no written lines left.
    /// </summary>
    private bool Fire(ulong page, ulong from, ulong to, out bool clean)
    {
        clean = true;
        var chunk = FindChunk(page >> PagesPerChunkShift);
        if (chunk == null) return false;
        int index = (int)(page & ((1 << PagesPerChunkShift) - 1));
        ulong lines = chunk.Lines[index];
        if (lines == 0) return false;
        if ((lines & GranuleMask(from, to)) == 0)
        {
            clean = false; // written lines elsewhere in the page have not executed yet
            return false;
        }
        chunk.Lines[index] = 0;
        chunk.DirtyPages &= ~(1UL << index);
        if (chunk.DirtyPages == 0) RemoveChunk(page >> PagesPerChunkShift);
        return true;
    }

    private void Mark(ulong address, long size, bool dirty)
    {
        if (size <= 0) return;
        ulong end = address + (ulong)size;
        ulong last = end < address ? ulong.MaxValue : end - 1; // wrapped: up to the top of the address space
        ulong firstPage = address >> PageShift, lastPage = last >> PageShift;
        if (_cleanPage >= firstPage && _cleanPage <= lastPage) _cleanPage = NoPage;

        if (!dirty && (lastPage - firstPage) >> PagesPerChunkShift >= (ulong)_chunks.Count)
        {
            // Unmapping a range wider than all we hold (an munmap of a huge reservation): walk
            // the chunks we have instead of the pages of the range.
            _scratchChunks.Clear();
            foreach (var key in _chunks.Keys)
                if (key >= firstPage >> PagesPerChunkShift && key <= lastPage >> PagesPerChunkShift) _scratchChunks.Add(key);
            foreach (var key in _scratchChunks)
            {
                ulong chunkFirst = key << PagesPerChunkShift, chunkLast = chunkFirst | ((1UL << PagesPerChunkShift) - 1);
                MarkPages(Math.Max(firstPage, chunkFirst), Math.Min(lastPage, chunkLast), address, last, dirty: false);
            }
            return;
        }
        MarkPages(firstPage, lastPage, address, last, dirty);
    }

    /// <summary>Sets or clears the granules of bytes [address, last] within pages [firstPage, lastPage].</summary>
    private void MarkPages(ulong firstPage, ulong lastPage, ulong address, ulong last, bool dirty)
    {
        for (ulong page = firstPage; ; page++)
        {
            ulong pageStart = page << PageShift;
            ulong mask = GranuleMask(Math.Max(address, pageStart), Math.Min(last, pageStart | 0xFFF));
            ulong chunkKey = page >> PagesPerChunkShift;
            int index = (int)(page & ((1 << PagesPerChunkShift) - 1));
            if (dirty)
            {
                var chunk = FindChunk(chunkKey);
                if (chunk == null)
                {
                    _chunks[chunkKey] = chunk = new Chunk();
                    (_lastChunkKey, _lastChunk) = (chunkKey, chunk);
                }
                chunk.Lines[index] |= mask;
                chunk.DirtyPages |= 1UL << index;
            }
            else if (FindChunk(chunkKey) is { } chunk)
            {
                if ((chunk.Lines[index] &= ~mask) == 0) chunk.DirtyPages &= ~(1UL << index);
                if (chunk.DirtyPages == 0) RemoveChunk(chunkKey);
            }
            if (page == lastPage) break;
        }
    }

    private Chunk? FindChunk(ulong key)
    {
        if (key == _lastChunkKey) return _lastChunk;
        if (!_chunks.TryGetValue(key, out var chunk)) return null;
        (_lastChunkKey, _lastChunk) = (key, chunk);
        return chunk;
    }

    private void RemoveChunk(ulong key)
    {
        _chunks.Remove(key);
        if (key == _lastChunkKey) (_lastChunkKey, _lastChunk) = (NoPage, null);
    }

    /// <summary>Bits of the granules holding bytes [from, to] of one page.</summary>
    private ulong GranuleMask(ulong from, ulong to)
    {
        int first = (int)((from & 0xFFF) >> _granuleShift);
        int last = (int)((to & 0xFFF) >> _granuleShift);
        int count = last - first + 1;
        ulong bits = count == 64 ? ulong.MaxValue : (1UL << count) - 1;
        return bits << first;
    }

    /// <summary>Forgets everything (exec: a new address space).</summary>
    public void Clear()
    {
        _chunks.Clear();
        _cleanPage = NoPage;
        (_lastChunkKey, _lastChunk) = (NoPage, null);
    }

    /// <summary>A copy for a forked child: written-not-executed memory is inherited.</summary>
    public UnpackTracker Fork()
    {
        var chunks = new Dictionary<ulong, Chunk>(_chunks.Count);
        foreach (var (key, chunk) in _chunks) chunks[key] = chunk.Clone();
        return new UnpackTracker(_granuleShift, chunks);
    }
}
