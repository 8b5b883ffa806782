namespace Ether.Replay.Analyzer.Replay;

/// <summary>One executed instruction.</summary>
public sealed record InstructionRow(long Step, int Pid, int Tid, ulong Rip, byte[] Bytes);

/// <summary>A thread's registers after a step. <see cref="RipKnown"/> is false when the trace ends
/// before the thread's next instruction shows where it went (rip is then the fall-through guess).</summary>
public sealed record ThreadRegisters(int Pid, int Tid, RegisterFile Registers, bool RipKnown);

/// <summary>
/// The machine after step <see cref="Step"/> executed (step 0: before the first instruction): the
/// instruction of that step, if it was one, and the registers of every thread alive then.
/// </summary>
public sealed record MachineState(long Step, InstructionRow? Executed, IReadOnlyList<ThreadRegisters> Threads)
{
    /// <summary>The thread that executed the step, else the first thread alive.</summary>
    public ThreadRegisters? Current =>
        Executed is { } e ? Threads.FirstOrDefault(t => t.Pid == e.Pid && t.Tid == e.Tid) : Threads.FirstOrDefault();
}

/// <summary>Memory of one process after a step: the bytes the trace saw, and which of them it saw
/// (bytes never written, snapshotted, read or executed in the trace are unknown, shown as ??).
/// <see cref="Later"/> marks known bytes the trace shows only at a later step (the program read them
/// later; nothing recorded changed them in between).</summary>
public sealed record MemoryBytes(int Pid, ulong Address, byte[] Bytes, bool[] Known, bool[] Later)
{
    public MemoryBytes(int pid, ulong address, byte[] bytes, bool[] known) : this(pid, address, bytes, known, new bool[bytes.Length])
    {
    }

    public int KnownCount => Known.Count(k => k);
    public int LaterCount => Later.Count(k => k);

    /// <summary>"48 89 c3 ?? ??"-style hex.</summary>
    public string Hex(int from = 0, int count = int.MaxValue)
    {
        count = Math.Min(count, Bytes.Length - from);
        return string.Join(' ', Enumerable.Range(from, Math.Max(0, count)).Select(i => Known[i] ? Bytes[i].ToString("x2") : "??"));
    }

    /// <summary>The bytes as text beside a hex dump: printable ASCII as is, other bytes '.', unknown ones ' '.</summary>
    public string Text(int from = 0, int count = int.MaxValue)
    {
        count = Math.Max(0, Math.Min(count, Bytes.Length - from));
        return string.Create(count, (this, from), static (span, x) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                byte b = x.Item1.Bytes[x.from + i];
                span[i] = !x.Item1.Known[x.from + i] ? ' ' : b is >= 0x20 and < 0x7f ? (char)b : '.';
            }
        });
    }
}

/// <summary>A memory write found by a who-wrote query.</summary>
public sealed record WriteRef(long Step, int Pid, int Tid, ulong? Rip, ulong Address, long Size, byte[] Value, bool Kernel)
{
    /// <summary>Who wrote: "the kernel", the instruction's address ("0x401009"), or "?" when the chunk does not show it.</summary>
    public string Writer => Kernel ? "the kernel" : Rip is { } rip ? $"0x{rip:x}" : "?";
}

/// <summary>One step of the trace: its instruction (null for a tick of a recording without instructions)
/// and the events logged during it (system calls, signals, memory map changes, ...; no keyframes).</summary>
public sealed record StepRow(long Step, InstructionRow? Instruction, IReadOnlyList<TraceEvent> Events);
