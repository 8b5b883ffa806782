using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>
/// Turns a decoded chunk back into events in log order: the instruction of step S first, then the
/// events of step S as written (side events at the positions they recorded; memory writes before
/// register changes between two side events).
/// </summary>
public static class ChunkEvents
{
    public static IEnumerable<TraceEvent> InLogOrder(DecodedChunk c)
    {
        int i = 0, w = 0, r = 0, s = 0;
        var registers = new RegisterFile[Math.Max(c.ThreadCount, 1)];
        while (i < c.InstructionCount || w < c.WriteCount || r < c.RegisterChangeCount || s < c.SideEvents.Count)
        {
            long si = i < c.InstructionCount ? c.InstructionStep[i] : long.MaxValue;
            long sw = w < c.WriteCount ? c.WriteStep[w] : long.MaxValue;
            long sr = r < c.RegisterChangeCount ? c.RegisterStep[r] : long.MaxValue;
            long ss = s < c.SideEvents.Count ? c.SideEvents[s].Step : long.MaxValue;
            long min = Math.Min(sw, Math.Min(sr, ss));
            if (si <= min)
            {
                yield return Instruction(c, i++);
                continue;
            }
            bool sideDue = ss == min;
            if (sideDue && c.SideWritesBefore[s] <= w && c.SideRegistersBefore[s] <= r)
            {
                var e = c.SideEvents[s++];
                if (e is KeyframeEvent k) registers[ThreadOf(c, k)] = k.Registers;
                yield return e;
            }
            else if (w < c.WriteCount && (sideDue ? c.SideWritesBefore[s] > w : sw == min))
            {
                yield return Write(c, w++);
            }
            else if (r < c.RegisterChangeCount)
            {
                yield return RegisterChange(c, r++, registers);
            }
            else
            {
                // Only reachable when positions contradict each other; never stall.
                yield return w < c.WriteCount ? Write(c, w++) : c.SideEvents[s++];
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
