using Ether.Replay.Recorder.Backends.Ptrace;

namespace Ether.Replay.Recorder.Recording;

/// <summary>What to record: every instruction, or only system calls.</summary>
public enum RecordMode
{
    /// <summary>Single-step every user-mode instruction (trap flag), with writes, registers and system calls.</summary>
    Full,
    /// <summary>System-call stops only (PTRACE_SYSCALL): for long-running targets.</summary>
    Syscalls,
}

/// <summary>One recording request, as the CLI (or a test) builds it.</summary>
public sealed record RecordOptions
{
    public required string Program { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];
    public required string OutputPath { get; init; }
    public RecordMode Mode { get; init; } = RecordMode.Full;
    /// <summary>Stop after this many steps (instructions; system calls in syscalls mode); 0 = no limit.</summary>
    public long MaxSteps { get; init; }
    /// <summary>Stop after this long; null = no limit.</summary>
    public TimeSpan? Timeout { get; init; }
    public SandboxOptions Sandbox { get; init; } = new();
    /// <summary>Round-robin time slice: steps one thread runs before the next ready thread gets its turn.</summary>
    public int TimeSliceSteps { get; init; } = 4096;
    /// <summary>Full mode: run the tracer thread and the target on one CPU (faster single-stepping; the
    /// target sees an affinity mask of one CPU, which it may change).</summary>
    public bool BindToOneCpu { get; init; } = true;
    /// <summary>Also record the bytes each instruction overwrites (one more process_vm_readv per writing instruction).</summary>
    public bool OldValues { get; init; } = true;
    /// <summary>Unpack snapshots larger than this keep the window around the entered page.</summary>
    public int MaxSnapshotBytes { get; init; } = 16 << 20;
}
