namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// Rebuilds bytes of one process's memory from one chunk: the latest source in log order wins for
/// each byte — an executed instruction's bytes (memory as the step began), a write's value, a
/// snapshot — and a map, unmap or exec makes what was there before unknown. Bytes a chunk settles
/// are final; the caller goes back chunk by chunk only for the bytes still open.
///
/// Then, for the bytes still unknown, the caller may look ahead (<see cref="LookAhead"/>): the first
/// source after the step tells what a byte held at the step if it is an observation of memory that
/// was already there — a snapshot (the recorder takes one before the program first reads a page), an
/// executed instruction's bytes, or the old value a write replaced. A write without its old value, a
/// map or an exec first means the earlier content was never seen. Such bytes are marked
/// <see cref="Later"/>: known from a later look, assuming nothing the trace does not record changed
/// them in between (the recorder checks every read against the live process, so a change before a
/// read shows up as a fresh snapshot at that read).
/// </summary>
internal sealed class MemoryReplay
{
    private readonly int _pid;
    private readonly ulong _address;
    private readonly int _length;
    private readonly ulong _end;
    private readonly LogPosition[] _position;
    private readonly bool[] _touched;
    private readonly byte[] _value;
    private readonly bool[] _valueKnown;

    /// <summary>The range rebuilt: [<see cref="Address"/>, <see cref="End"/>).</summary>
    public ulong Address => _address;
    public ulong End => _end;
    public byte[] Bytes { get; }
    public bool[] Known { get; }
    /// <summary>Bytes known only from a later observation (see <see cref="LookAhead"/>).</summary>
    public bool[] Later { get; }
    public bool[] Settled { get; }
    public int Open { get; private set; }

    private readonly LogPosition? _from;
    private LogPosition? _until;
    /// <summary>Looking ahead: the earliest source after the step wins, and only observations give values.</summary>
    private bool _ahead;

    /// <param name="from">Where the process began (its start event): sources before it are another process's.</param>
    public MemoryReplay(int pid, ulong address, int length, LogPosition? from = null)
    {
        _pid = pid;
        _from = from;
        _address = address;
        _length = length;
        _end = address + (ulong)length < address ? ulong.MaxValue : address + (ulong)length;
        _position = new LogPosition[length];
        _touched = new bool[length];
        _value = new byte[length];
        _valueKnown = new bool[length];
        Bytes = new byte[length];
        Known = new bool[length];
        Later = new bool[length];
        Settled = new bool[length];
        Open = length;
    }

    /// <summary>
    /// Reopens the bytes still unknown to look ahead: the chunks the caller then applies with
    /// <see cref="Apply"/> (in increasing order, from the step's own chunk) settle each with its first
    /// source after the step. <paramref name="until"/>: where a later process with this pid begins.
    /// </summary>
    public void LookAhead(LogPosition? until)
    {
        _ahead = true;
        _until = until;
        Open = 0;
        for (int i = 0; i < _length; i++)
        {
            if (Known[i]) continue;
            Settled[i] = false;
            Open++;
        }
    }

    public IEnumerable<ulong> OpenPages()
    {
        ulong last = ulong.MaxValue;
        for (int i = 0; i < _length; i++)
        {
            if (Settled[i]) continue;
            ulong page = (_address + (ulong)i) >> ReplayIndex.PageShift;
            if (page != last) yield return last = page;
        }
    }

    /// <summary>Applies chunk <paramref name="c"/>'s sources with step ≤ <paramref name="limit"/> (looking
    /// ahead: with step &gt; <paramref name="limit"/>).</summary>
    public void Apply(DecodedChunk c, long limit)
    {
        Array.Clear(_touched);
        for (int i = 0; i < c.InstructionCount; i++)
        {
            if (!InWindow(c.InstructionStep[i], limit)) continue;
            if (c.ThreadPid[c.InstructionThread[i]] != _pid) continue;
            Source(LogPosition.Instruction(c.InstructionStep[i]), c.InstructionRip[i], c.InstructionBytes(i), c.InstructionLength[i], observed: true);
        }
        for (int w = 0; w < c.WriteCount; w++)
        {
            if (!InWindow(c.WriteStep[w], limit)) continue;
            if (c.ThreadPid[c.WriteThread[w]] != _pid) continue;
            var position = LogPosition.Write(c.WriteStep[w], w);
            if (_ahead && (c.WriteFlags[w] & MemoryWriteFlags.HasOldValue) != 0)
                Source(position, c.WriteAddress[w], c.WriteOldValues.AsSpan(c.WriteOldValueOffset[w], c.WriteValueLength[w]), c.WriteSize[w], observed: true);
            else
                Source(position, c.WriteAddress[w], c.WriteValue(w), c.WriteSize[w], observed: false);
        }
        for (int s = 0; s < c.SideEvents.Count; s++)
        {
            var e = c.SideEvents[s];
            if (!InWindow(e.Step, limit)) continue;
            if (e.Pid != _pid) continue;
            var position = LogPosition.Side(e.Step, c.SideWritesBefore[s]);
            switch (e)
            {
                case RegionSnapshotEvent snap:
                    Source(position, snap.Address, snap.Bytes, snap.Bytes.Length, observed: true);
                    break;
                case RegionMapEvent m:
                    Source(position, m.Start, [], (long)(m.End - m.Start), observed: false);
                    break;
                case RegionUnmapEvent u:
                    Source(position, u.Start, [], (long)(u.End - u.Start), observed: false);
                    break;
                case ExecEvent:
                    Source(position, 0, [], long.MaxValue, observed: false);
                    break;
            }
        }
        for (int i = 0; i < _length; i++)
        {
            if (!_touched[i] || Settled[i]) continue;
            Settled[i] = true;
            Known[i] = _valueKnown[i];
            Later[i] = _ahead && _valueKnown[i];
            Bytes[i] = _value[i];
            Open--;
        }
    }

    private bool InWindow(long step, long limit) => _ahead ? step > limit : step <= limit;

    /// <summary>The bytes still open are what the process started with: its parent's at the fork.</summary>
    public void Inherit(MemoryBytes parent)
    {
        for (int i = 0; i < _length; i++)
        {
            if (Settled[i]) continue;
            Settled[i] = true;
            Known[i] = parent.Known[i];
            Later[i] = parent.Later[i];
            Bytes[i] = parent.Bytes[i];
            Open--;
        }
    }

    /// <summary>[start, start+size) holds <paramref name="value"/> (shorter than size: the rest unknown) at
    /// <paramref name="position"/>. <paramref name="observed"/>: the value is memory as it already was
    /// (not a change), which is what a look ahead may take.</summary>
    private void Source(LogPosition position, ulong start, ReadOnlySpan<byte> value, long size, bool observed)
    {
        if (size <= 0) return;
        if (_from is { } began && position < began) return;
        if (_until is { } ended && !(position < ended)) return;
        ulong end = start + (ulong)size;
        if (end < start || size == long.MaxValue) end = ulong.MaxValue;
        if (end <= _address || start >= _end) return;
        ulong from = Math.Max(start, _address), to = Math.Min(end, _end);
        for (ulong a = from; a < to; a++)
        {
            int i = (int)(a - _address);
            if (Settled[i]) continue;
            if (_touched[i] && (_ahead ? _position[i] < position : _position[i] > position)) continue;
            _touched[i] = true;
            _position[i] = position;
            ulong k = a - start;
            _valueKnown[i] = k < (ulong)value.Length && (observed || !_ahead);
            _value[i] = _valueKnown[i] ? value[(int)k] : (byte)0;
        }
    }
}
