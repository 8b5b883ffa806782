namespace Ether.Replay.Formats.Log;

/// <summary>What a <see cref="LogOrder"/> entry is: it indexes the matching arrays of <see cref="DecodedChunk"/>.</summary>
public enum LogEntry : byte
{
    Instruction,
    MemoryWrite,
    RegisterChange,
    /// <summary>An entry of <see cref="DecodedChunk.SideEvents"/>.</summary>
    Side,
}

/// <summary>
/// The events of a decoded chunk in log order, as (kind, index) pairs, without making an object per
/// event: the instruction of step S first, then the events of step S as written (side events at the
/// positions they recorded; memory writes before register changes between two side events).
/// </summary>
public struct LogOrder(DecodedChunk c)
{
    private int _i, _w, _r, _s;

    public bool MoveNext(out LogEntry kind, out int index)
    {
        if (_i >= c.InstructionCount && _w >= c.WriteCount && _r >= c.RegisterChangeCount && _s >= c.SideEvents.Count)
        {
            kind = default;
            index = -1;
            return false;
        }
        long si = _i < c.InstructionCount ? c.InstructionStep[_i] : long.MaxValue;
        long sw = _w < c.WriteCount ? c.WriteStep[_w] : long.MaxValue;
        long sr = _r < c.RegisterChangeCount ? c.RegisterStep[_r] : long.MaxValue;
        long ss = _s < c.SideEvents.Count ? c.SideEvents[_s].Step : long.MaxValue;
        long min = Math.Min(sw, Math.Min(sr, ss));
        if (si <= min)
        {
            (kind, index) = (LogEntry.Instruction, _i++);
            return true;
        }
        bool sideDue = ss == min;
        if (sideDue && c.SideWritesBefore[_s] <= _w && c.SideRegistersBefore[_s] <= _r)
            (kind, index) = (LogEntry.Side, _s++);
        else if (_w < c.WriteCount && (sideDue ? c.SideWritesBefore[_s] > _w : sw == min))
            (kind, index) = (LogEntry.MemoryWrite, _w++);
        else if (_r < c.RegisterChangeCount)
            (kind, index) = (LogEntry.RegisterChange, _r++);
        // Only reachable when positions contradict each other; never stall.
        else if (_w < c.WriteCount)
            (kind, index) = (LogEntry.MemoryWrite, _w++);
        else
            (kind, index) = (LogEntry.Side, _s++);
        return true;
    }
}
