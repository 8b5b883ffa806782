namespace Ether.Replay.Formats.Model;

/// <summary>
/// One event of a trace, as a reader hands it out one at a time (convenient, allocating).
/// Bulk consumers (export, replay) read <see cref="Log.DecodedChunk"/> columns instead.
///
/// Step clock: starts at 0; every instruction event (and every <c>Tick</c> of a backend that does
/// not single-step) advances it by one and carries the new value, so the first instruction is step 1.
/// Every other event carries the step current when it was written: its effects happened during that
/// step (after its instruction executed). A region snapshot is the exception: it shows memory as it
/// was when its step began.
/// </summary>
public abstract class TraceEvent
{
    public abstract EventKind Kind { get; }
    public long Step { get; set; }
    /// <summary>Process (thread-group) id; for Xen guests, the address space the backend names.</summary>
    public int Pid { get; set; }
    /// <summary>Thread id; 0 for events that belong to a process, not a thread.</summary>
    public int Tid { get; set; }
}

public sealed class InstructionEvent : TraceEvent
{
    public override EventKind Kind => EventKind.Instruction;
    public ulong Rip { get; set; }
    /// <summary>The bytes that executed at <see cref="Rip"/> (its length is the instruction length).</summary>
    public byte[] Bytes { get; set; } = [];
}

public sealed class RegisterChangeEvent : TraceEvent
{
    public override EventKind Kind => EventKind.RegisterChange;
    /// <summary>Bit i set where slot i (see <see cref="Register"/>) changed during this step.</summary>
    public uint Mask { get; set; }
    /// <summary>The thread's whole register file after the change (rip: as of the last keyframe).</summary>
    public RegisterFile Registers;
}

public sealed class KeyframeEvent : TraceEvent
{
    public override EventKind Kind => EventKind.Keyframe;
    /// <summary>The thread's whole register file when this step began (rip: the next instruction).</summary>
    public RegisterFile Registers;
}

[Flags]
public enum MemoryWriteFlags : byte
{
    None = 0,
    /// <summary>Written by the kernel on the thread's behalf (e.g. the buffer of <c>read</c>), not by an instruction.</summary>
    Kernel = 1,
    /// <summary><see cref="MemoryWriteEvent.OldValue"/> holds the bytes before the write.</summary>
    HasOldValue = 2,
    /// <summary>The write was longer than the recorder keeps; Value holds its first bytes, Size the full length.</summary>
    Truncated = 4,
}

public sealed class MemoryWriteEvent : TraceEvent
{
    public override EventKind Kind => EventKind.MemoryWrite;
    public ulong Address { get; set; }
    /// <summary>Bytes written; equals Value.Length unless <see cref="MemoryWriteFlags.Truncated"/>.</summary>
    public long Size { get; set; }
    public byte[] Value { get; set; } = [];
    public byte[]? OldValue { get; set; }
    public MemoryWriteFlags Flags { get; set; }
}
