namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// Registers after a step, from one chunk: every thread's keyframe at the chunk start (or where the
/// thread first appears), then its register changes up to the step. rip is not in the changes of a
/// thread's own instruction steps — the thread's next instruction says where it went — so it is
/// taken from that next instruction, looked up in this chunk or at the start of the next one.
/// </summary>
internal static class RegisterReplay
{
    internal sealed class ThreadReplay
    {
        public int Pid, Tid;
        public RegisterFile Registers;
        /// <summary>rip came from an instruction (fall-through guess) and still needs the thread's next instruction.</summary>
        public bool RipFromInstruction;
    }

    /// <summary>Threads seen in <paramref name="c"/> up to <paramref name="step"/>, with their registers after it.</summary>
    public static List<ThreadReplay> Replay(DecodedChunk c, long step)
    {
        var byThread = new ThreadReplay?[c.ThreadCount];
        int i = 0, r = 0, s = 0;
        var side = c.SideEvents;
        // Log order, as ChunkEvents.InLogOrder: a step's instruction, then its changes and side events as logged.
        while (true)
        {
            long si = i < c.InstructionCount ? c.InstructionStep[i] : long.MaxValue;
            long sr = r < c.RegisterChangeCount ? c.RegisterStep[r] : long.MaxValue;
            long ss = s < side.Count ? side[s].Step : long.MaxValue;
            long min = Math.Min(sr, ss);
            if (Math.Min(si, min) > step) break;
            if (si <= min)
            {
                if (byThread[c.InstructionThread[i]] is { } t)
                {
                    t.Registers.Rip = c.InstructionRip[i] + c.InstructionLength[i];
                    t.RipFromInstruction = true;
                }
                i++;
            }
            else if (ss == min && (c.SideRegistersBefore[s] <= r || r >= c.RegisterChangeCount))
            {
                Side(c, side[s++], byThread);
            }
            else if (r < c.RegisterChangeCount)
            {
                Change(c, r++, byThread);
            }
            else
            {
                Side(c, side[s++], byThread);
            }
        }
        return byThread.Where(t => t != null).Cast<ThreadReplay>().ToList();
    }

    private static void Change(DecodedChunk c, int r, ThreadReplay?[] byThread)
    {
        var t = byThread[c.RegisterThread[r]];
        if (t == null) return; // a change before the thread's keyframe: not in a valid chunk
        uint mask = c.RegisterMask[r];
        var values = c.RegisterChangeValues(r);
        int k = 0;
        for (uint m = mask; m != 0; m &= m - 1)
        {
            int slot = System.Numerics.BitOperations.TrailingZeroCount(m);
            if (slot < Registers.Count) t.Registers[slot] = values[k];
            k++;
        }
        if ((mask & (1u << (int)Register.Rip)) != 0) t.RipFromInstruction = false;
    }

    private static void Side(DecodedChunk c, TraceEvent e, ThreadReplay?[] byThread)
    {
        switch (e)
        {
            case KeyframeEvent k:
            {
                int thread = ThreadIndex(c, k.Pid, k.Tid);
                if (thread >= 0) byThread[thread] = new ThreadReplay { Pid = k.Pid, Tid = k.Tid, Registers = k.Registers };
                break;
            }
            case ThreadExitEvent { Tid: not 0 } x:
            {
                int thread = ThreadIndex(c, x.Pid, x.Tid);
                if (thread >= 0) byThread[thread] = null;
                break;
            }
            case ProcessExitEvent p:
                for (int t = 0; t < byThread.Length; t++)
                    if (byThread[t]?.Pid == p.Pid) byThread[t] = null;
                break;
        }
    }

    /// <summary>Where the thread went after <paramref name="step"/>, if this chunk says: the rip of its next
    /// instruction, or of a register change that sets rip explicitly (a signal handler), whichever comes first.</summary>
    public static ulong? NextRip(DecodedChunk c, long step, int pid, int tid)
    {
        int thread = ThreadIndex(c, pid, tid);
        if (thread < 0) return null;
        long instructionStep = long.MaxValue;
        ulong instructionRip = 0;
        for (int i = LowerBound(c.InstructionStep, c.InstructionCount, step + 1); i < c.InstructionCount; i++)
        {
            if (c.InstructionThread[i] != thread) continue;
            instructionStep = c.InstructionStep[i];
            instructionRip = c.InstructionRip[i];
            break;
        }
        const uint ripBit = 1u << (int)Register.Rip;
        for (int r = LowerBound(c.RegisterStep, c.RegisterChangeCount, step + 1); r < c.RegisterChangeCount; r++)
        {
            if (c.RegisterStep[r] >= instructionStep) break; // a step's instruction comes before its changes
            if (c.RegisterThread[r] != thread || (c.RegisterMask[r] & ripBit) == 0) continue;
            uint below = c.RegisterMask[r] & (ripBit - 1);
            return c.RegisterChangeValues(r)[System.Numerics.BitOperations.PopCount(below)];
        }
        return instructionStep != long.MaxValue ? instructionRip : null;
    }

    /// <summary>rip in the thread's keyframe at the start of a chunk (where it went after the previous chunk).</summary>
    public static ulong? KeyframeRip(DecodedChunk c, int pid, int tid)
    {
        foreach (var e in c.SideEvents)
        {
            if (e.Step > c.Info.BaseStep) break;
            if (e is KeyframeEvent k && k.Pid == pid && k.Tid == tid) return k.Registers.Rip;
        }
        return null;
    }

    public static int ThreadIndex(DecodedChunk c, int pid, int tid)
    {
        for (int t = 0; t < c.ThreadCount; t++)
            if (c.ThreadPid[t] == pid && c.ThreadTid[t] == tid) return t;
        return -1;
    }

    /// <summary>First index whose step is ≥ <paramref name="step"/>.</summary>
    public static int LowerBound(long[] steps, int count, long step)
    {
        int lo = 0, hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (steps[mid] < step) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
