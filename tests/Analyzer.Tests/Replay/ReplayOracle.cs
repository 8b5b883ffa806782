namespace Ether.Replay.Analyzer.Tests.Replay;

/// <summary>
/// The replay engine's reference: every event of the trace applied one by one, in log order, from
/// the reader's allocating enumerator (a different path from the engine's column walk), answering
/// what the state is after a step by brute force.
/// </summary>
internal sealed class ReplayOracle
{
    public readonly List<TraceEvent> Events;

    public ReplayOracle(string trace)
    {
        using var reader = TraceReader.Open(trace);
        Events = reader.Events().ToList();
    }

    /// <summary>Registers of every live thread after <paramref name="step"/> (rip: the thread's next instruction, if any).</summary>
    public Dictionary<(int Pid, int Tid), (RegisterFile Registers, bool RipKnown)> Registers(long step)
    {
        var live = new Dictionary<(int, int), RegisterFile>();
        var ripFromInstruction = new Dictionary<(int, int), bool>();
        int i = 0;
        for (; i < Events.Count && Events[i].Step <= step; i++)
        {
            var e = Events[i];
            var key = (e.Pid, e.Tid);
            switch (e)
            {
                case KeyframeEvent k: live[key] = k.Registers; ripFromInstruction[key] = false; break;
                case RegisterChangeEvent c when live.TryGetValue(key, out var file):
                    for (int slot = 0; slot < Formats.Model.Registers.Count; slot++)
                        if ((c.Mask & (1u << slot)) != 0) file[slot] = c.Registers[slot];
                    live[key] = file;
                    if ((c.Mask & (1u << (int)Register.Rip)) != 0) ripFromInstruction[key] = false;
                    break;
                case InstructionEvent x when live.TryGetValue(key, out var f2):
                    f2.Rip = x.Rip + (ulong)x.Bytes.Length;
                    live[key] = f2;
                    ripFromInstruction[key] = true;
                    break;
                case ThreadExitEvent when e.Tid != 0: live.Remove(key); break;
                case ProcessExitEvent: foreach (var k2 in live.Keys.Where(k2 => k2.Item1 == e.Pid).ToList()) live.Remove(k2); break;
            }
        }
        var result = new Dictionary<(int, int), (RegisterFile, bool)>();
        foreach (var (key, file) in live)
        {
            var f = file;
            bool known = true;
            if (ripFromInstruction.GetValueOrDefault(key))
            {
                // The next event that says where the thread is: its next instruction, a keyframe, or a change of rip.
                var next = Events.Skip(i).FirstOrDefault(e => (e.Pid, e.Tid) == key &&
                    (e is InstructionEvent or KeyframeEvent || e is RegisterChangeEvent c && (c.Mask & (1u << (int)Register.Rip)) != 0));
                switch (next)
                {
                    case InstructionEvent x: f.Rip = x.Rip; break;
                    case KeyframeEvent k: f.Rip = k.Registers.Rip; break;
                    case RegisterChangeEvent c: f.Rip = c.Registers.Rip; break;
                    default: known = false; break;
                }
            }
            result[key] = (f, known);
        }
        return result;
    }

    /// <summary>The index of the start event of the process <paramref name="pid"/> alive at <paramref name="step"/>, or -1.</summary>
    private int StartOf(int pid, long step)
    {
        int start = -1;
        for (int i = 0; i < Events.Count && Events[i].Step <= step; i++)
            if (Events[i] is ProcessStartEvent && Events[i].Pid == pid) start = i;
        return start;
    }

    private ProcessStartEvent? Inherits(int start) =>
        start >= 0 && Events[start] is ProcessStartEvent { ParentPid: > 0, How: "fork" or "vfork" or "clone" } ps ? ps : null;

    /// <summary>Memory of <paramref name="pid"/> after <paramref name="step"/>: null = unknown. A forked child
    /// starts with its parent's memory at the fork; events of its pid before its start are another process's.
    /// A byte no event up to the step shows takes its first later observation (a snapshot, an executed
    /// instruction's bytes, a write's old value), unless a write without old value, a map or an exec comes first,
    /// or a later process with this pid starts.</summary>
    public byte?[] Memory(long step, int pid, ulong address, int length)
    {
        int start = StartOf(pid, step);
        var bytes = Inherits(start) is { } fork ? Memory(fork.Step, fork.ParentPid, address, length) : new byte?[length];
        void Set(ulong from, ReadOnlySpan<byte> value, long size)
        {
            for (long k = 0; k < size; k++)
            {
                ulong a = from + (ulong)k;
                if (a < address || a >= address + (ulong)length) continue;
                bytes[(int)(a - address)] = k < value.Length ? value[(int)k] : null;
            }
        }
        int i = start + 1;
        for (; i < Events.Count; i++)
        {
            var e = Events[i];
            if (e.Step > step) break;
            if (e.Pid != pid) continue;
            switch (e)
            {
                case InstructionEvent x: Set(x.Rip, x.Bytes, x.Bytes.Length); break;
                case MemoryWriteEvent w: Set(w.Address, w.Value, w.Size); break;
                case RegionSnapshotEvent s: Set(s.Address, s.Bytes, s.Bytes.Length); break;
                case RegionMapEvent m: Set(m.Start, [], (long)Math.Min(m.End - m.Start, 1UL << 40)); break;
                case RegionUnmapEvent u: Set(u.Start, [], (long)Math.Min(u.End - u.Start, 1UL << 40)); break;
                case ExecEvent: Array.Clear(bytes); break;
            }
        }
        // Look ahead for what is still unknown: the first later event on each byte decides.
        var settled = bytes.Select(b => b.HasValue).ToArray();
        void Later(ulong from, ReadOnlySpan<byte> value, long size, bool observed)
        {
            for (long k = 0; k < size; k++)
            {
                ulong a = from + (ulong)k;
                if (a < address || a >= address + (ulong)length) continue;
                int at = (int)(a - address);
                if (settled[at]) continue;
                settled[at] = true;
                if (observed && k < value.Length) bytes[at] = value[(int)k];
            }
        }
        for (; i < Events.Count; i++)
        {
            var e = Events[i];
            if (e.Pid != pid) continue;
            if (e is ProcessStartEvent) break;
            switch (e)
            {
                case InstructionEvent x: Later(x.Rip, x.Bytes, x.Bytes.Length, true); break;
                case MemoryWriteEvent { OldValue: { } old } w: Later(w.Address, old, w.Size, true); break;
                case MemoryWriteEvent w: Later(w.Address, [], w.Size, false); break;
                case RegionSnapshotEvent s: Later(s.Address, s.Bytes, s.Bytes.Length, true); break;
                case RegionMapEvent m: Later(m.Start, [], (long)Math.Min(m.End - m.Start, 1UL << 40), false); break;
                case RegionUnmapEvent u: Later(u.Start, [], (long)Math.Min(u.End - u.Start, 1UL << 40), false); break;
                case ExecEvent: Array.Fill(settled, true); break;
            }
        }
        return bytes;
    }

    /// <summary>The last write of <paramref name="pid"/> covering the address at or before the step; in a forked
    /// child that has not written it, its parent's last before the fork.</summary>
    public MemoryWriteEvent? LastWrite(ulong address, long step, int pid)
    {
        int start = StartOf(pid, step);
        var own = Events.Skip(start + 1).OfType<MemoryWriteEvent>()
            .LastOrDefault(w => w.Step <= step && w.Pid == pid && address >= w.Address && address - w.Address < (ulong)w.Size);
        return own ?? (Inherits(start) is { } fork ? LastWrite(address, fork.Step, fork.ParentPid) : null);
    }

    public MemoryWriteEvent? NextWrite(ulong address, long step, int pid) =>
        Events.OfType<MemoryWriteEvent>().FirstOrDefault(w => w.Step > step && w.Pid == pid && address >= w.Address && address - w.Address < (ulong)w.Size);

    public long? NextExecution(ulong rip, long step) =>
        Events.OfType<InstructionEvent>().FirstOrDefault(i => i.Step > step && i.Rip == rip)?.Step;

    public long? PreviousExecution(ulong rip, long step) =>
        Events.OfType<InstructionEvent>().LastOrDefault(i => i.Step < step && i.Rip == rip)?.Step;
}
