using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// Rebuilds bytes of one process's memory from one chunk: the latest source in log order wins for
/// each byte — an executed instruction's bytes (memory as the step began), a write's value, a
/// snapshot — and a map, unmap or exec makes what was there before unknown. Bytes a chunk settles
/// are final; the caller goes back chunk by chunk only for the bytes still open.
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

    public byte[] Bytes { get; }
    public bool[] Known { get; }
    public bool[] Settled { get; }
    public int Open { get; private set; }

    private readonly LogPosition? _from;

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
        Settled = new bool[length];
        Open = length;
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

    /// <summary>Applies chunk <paramref name="c"/>'s sources with step ≤ <paramref name="limit"/>.</summary>
    public void Apply(DecodedChunk c, long limit)
    {
        Array.Clear(_touched);
        for (int i = 0; i < c.InstructionCount && c.InstructionStep[i] <= limit; i++)
        {
            if (c.ThreadPid[c.InstructionThread[i]] != _pid) continue;
            Source(LogPosition.Instruction(c.InstructionStep[i]), c.InstructionRip[i], c.InstructionBytes(i), c.InstructionLength[i]);
        }
        for (int w = 0; w < c.WriteCount && c.WriteStep[w] <= limit; w++)
        {
            if (c.ThreadPid[c.WriteThread[w]] != _pid) continue;
            Source(LogPosition.Write(c.WriteStep[w], w), c.WriteAddress[w], c.WriteValue(w), c.WriteSize[w]);
        }
        for (int s = 0; s < c.SideEvents.Count; s++)
        {
            var e = c.SideEvents[s];
            if (e.Step > limit) break;
            if (e.Pid != _pid) continue;
            var position = LogPosition.Side(e.Step, c.SideWritesBefore[s]);
            switch (e)
            {
                case RegionSnapshotEvent snap:
                    Source(position, snap.Address, snap.Bytes, snap.Bytes.Length);
                    break;
                case RegionMapEvent m:
                    Source(position, m.Start, [], (long)(m.End - m.Start));
                    break;
                case RegionUnmapEvent u:
                    Source(position, u.Start, [], (long)(u.End - u.Start));
                    break;
                case ExecEvent:
                    Source(position, 0, [], long.MaxValue);
                    break;
            }
        }
        for (int i = 0; i < _length; i++)
        {
            if (!_touched[i] || Settled[i]) continue;
            Settled[i] = true;
            Known[i] = _valueKnown[i];
            Bytes[i] = _value[i];
            Open--;
        }
    }

    /// <summary>The bytes still open are what the process started with: its parent's at the fork.</summary>
    public void Inherit(MemoryBytes parent)
    {
        for (int i = 0; i < _length; i++)
        {
            if (Settled[i]) continue;
            Settled[i] = true;
            Known[i] = parent.Known[i];
            Bytes[i] = parent.Bytes[i];
            Open--;
        }
    }

    /// <summary>[start, start+size) holds <paramref name="value"/> (shorter than size: the rest unknown) at <paramref name="position"/>.</summary>
    private void Source(LogPosition position, ulong start, ReadOnlySpan<byte> value, long size)
    {
        if (size <= 0) return;
        if (_from is { } began && position < began) return;
        ulong end = start + (ulong)size;
        if (end < start || size == long.MaxValue) end = ulong.MaxValue;
        if (end <= _address || start >= _end) return;
        ulong from = Math.Max(start, _address), to = Math.Min(end, _end);
        for (ulong a = from; a < to; a++)
        {
            int i = (int)(a - _address);
            if (Settled[i]) continue;
            if (_touched[i] && _position[i] > position) continue;
            _touched[i] = true;
            _position[i] = position;
            ulong k = a - start;
            _valueKnown[i] = k < (ulong)value.Length;
            _value[i] = _valueKnown[i] ? value[(int)k] : (byte)0;
        }
    }
}
