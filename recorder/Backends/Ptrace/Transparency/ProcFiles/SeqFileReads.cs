namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// How many bytes one read of a /proc seq_file returns (fs/seq_file.c seq_read_iter), so the
/// rewritten text comes back in the chunks the kernel would cut. The kernel prints whole records
/// (a maps line, an smaps VMA, a status file: one record) into its buffer (a page, doubled while one
/// record does not fit): first what is left of the last fill, then a fill — the next record always,
/// more records while the buffer holds less than the reader asked for and the next one fits — and
/// copies what the reader asked for; the rest waits for the next read. A read elsewhere than where
/// the last one ended (pread, lseek) starts again at the record holding that offset (traverse).
/// One per open file description (shared with dups and forked children, as the kernel's).
/// </summary>
internal sealed class SeqFileReads
{
    private const long PageSize = 4096;
    private long _readPos;
    private long _bufferEnd;
    private long _bufferSize = PageSize;

    /// <summary>Forget the kernel's buffer (the text was generated anew for a read from offset 0).</summary>
    public void Restart() => _readPos = _bufferEnd = 0;

    /// <summary>Bytes a read of <paramref name="size"/> at <paramref name="pos"/> returns; <paramref name="recordEnds"/>: end offset of each record, ascending (the last is the text's length).</summary>
    public long Read(long pos, long size, IReadOnlyList<int> recordEnds)
    {
        if (pos != _readPos) Traverse(pos, recordEnds);
        long n = 0;
        if (pos < _bufferEnd)
        {
            n = Math.Min(_bufferEnd - pos, size);
            if (pos + n < _bufferEnd) return Done(pos, n);
        }
        long start = pos + n;
        int k = FirstEndingAfter(recordEnds, start);
        if (k == recordEnds.Count) return Done(pos, n); // end of file
        long count = recordEnds[k] - start;
        while (_bufferSize < count) _bufferSize *= 2; // one record always goes in: the buffer grows for it
        long remaining = size - n;
        for (int j = k + 1; j < recordEnds.Count && count < remaining; j++)
        {
            long next = recordEnds[j] - recordEnds[j - 1];
            if (count + next > _bufferSize) break; // overflows the buffer: it comes in the next fill
            count += next;
        }
        _bufferEnd = start + count;
        return Done(pos, n + Math.Min(count, remaining));
    }

    private long Done(long pos, long n)
    {
        _readPos = pos + n;
        return n;
    }

    /// <summary>The kernel's seek: what is left of the record holding <paramref name="pos"/> waits in the buffer.</summary>
    private void Traverse(long pos, IReadOnlyList<int> recordEnds)
    {
        int k = FirstEndingAfter(recordEnds, pos);
        long recordStart = k == 0 ? 0 : k < recordEnds.Count ? recordEnds[k - 1] : pos;
        _bufferEnd = k < recordEnds.Count && recordStart < pos ? recordEnds[k] : pos;
        _readPos = pos;
    }

    private static int FirstEndingAfter(IReadOnlyList<int> ends, long pos)
    {
        int lo = 0, hi = ends.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= pos) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
