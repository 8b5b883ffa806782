using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>
/// Turns a decoded chunk back into events in log order (<see cref="LogOrder"/>), one object per event.
/// </summary>
public static class ChunkEvents
{
    public static IEnumerable<TraceEvent> InLogOrder(DecodedChunk c)
    {
        var registers = new RegisterFile[Math.Max(c.ThreadCount, 1)];
        var order = new LogOrder(c);
        while (order.MoveNext(out var kind, out int index))
        {
            switch (kind)
            {
                case LogEntry.Instruction:
                    yield return Instruction(c, index);
                    break;
                case LogEntry.MemoryWrite:
                    yield return Write(c, index);
                    break;
                case LogEntry.RegisterChange:
                    yield return RegisterChange(c, index, registers);
                    break;
                default:
                    var e = c.SideEvents[index];
                    if (e is KeyframeEvent k) registers[ThreadOf(c, k)] = k.Registers;
                    yield return e;
                    break;
            }
        }
    }

    private static int ThreadOf(DecodedChunk c, TraceEvent e)
    {
        for (int t = 0; t < c.ThreadCount; t++)
            if (c.ThreadPid[t] == e.Pid && c.ThreadTid[t] == e.Tid) return t;
        return 0;
    }

    private static InstructionEvent Instruction(DecodedChunk c, int i)
    {
        int t = c.InstructionThread[i];
        return new InstructionEvent
        {
            Step = c.InstructionStep[i],
            Pid = c.ThreadPid[t],
            Tid = c.ThreadTid[t],
            Rip = c.InstructionRip[i],
            Bytes = c.InstructionBytes(i).ToArray(),
        };
    }

    private static MemoryWriteEvent Write(DecodedChunk c, int w)
    {
        int t = c.WriteThread[w];
        var flags = c.WriteFlags[w];
        return new MemoryWriteEvent
        {
            Step = c.WriteStep[w],
            Pid = c.ThreadPid[t],
            Tid = c.ThreadTid[t],
            Address = c.WriteAddress[w],
            Size = c.WriteSize[w],
            Value = c.WriteValue(w).ToArray(),
            OldValue = (flags & MemoryWriteFlags.HasOldValue) != 0
                ? c.WriteOldValues.AsSpan(c.WriteOldValueOffset[w], c.WriteValueLength[w]).ToArray()
                : null,
            Flags = flags,
        };
    }

    private static RegisterChangeEvent RegisterChange(DecodedChunk c, int r, RegisterFile[] registers)
    {
        int t = c.RegisterThread[r];
        uint mask = c.RegisterMask[r];
        var values = c.RegisterChangeValues(r);
        ref var file = ref registers[t];
        int k = 0;
        for (uint m = mask; m != 0; m &= m - 1)
            file[System.Numerics.BitOperations.TrailingZeroCount(m)] = values[k++];
        return new RegisterChangeEvent
        {
            Step = c.RegisterStep[r],
            Pid = c.ThreadPid[t],
            Tid = c.ThreadTid[t],
            Mask = mask,
            Registers = file,
        };
    }
}
