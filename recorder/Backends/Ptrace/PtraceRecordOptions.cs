using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>One ptrace recording request, as the CLI (or a test) builds it.</summary>
public sealed record PtraceRecordOptions : RecordingRequest
{
    public required string Program { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];
    /// <summary>A recording mode's name (<see cref="RecordingModes.Names"/>): "full" (every instruction) or "syscalls".</summary>
    public string Mode { get; init; } = RecordingModes.Full;
    /// <summary>Stop after this many steps (instructions; system calls in syscalls mode); 0 = no limit.</summary>
    public long MaxSteps { get; init; }
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

    /// <summary>Hide the recording from the program (docs/transparency.md): tracer state in /proc, its own
    /// ptrace use emulated, the CPU pinning, virtual time. Off only to compare with what is hidden.</summary>
    public bool Transparent { get; init; } = true;
    /// <summary>Virtual time's rate: single-stepped instructions per virtual second (--clock-rate).</summary>
    public long ClockRate { get; init; } = DefaultClockRate;

    /// <summary>100 M instructions per virtual second: a plausible (if modest) CPU for the code a sample runs.</summary>
    public const long DefaultClockRate = Transparency.Time.VirtualClock.DefaultInstructionsPerSecond;

    /// <summary>Adds components (interceptors, step observers) to the session after the mode's: for tests
    /// and for the recorder's own features that are not modes.</summary>
    internal Action<SessionHooks>? Attach { get; init; }

    /// <summary>Test-only: sees every step before it runs (the live-memory oracle of the read tests).</summary>
    internal IStepProbe? StepProbe { get; init; }

    /// <summary>Check every read against the trace (<see cref="Recording.ReadCheck"/>); off only for the bench's A/B.</summary>
    internal bool CheckReads { get; init; } = true;

    /// <summary>How the trace writer chunks and encodes (null: the defaults): `bench record` records with
    /// format version 1 beside the current one in the same run.</summary>
    internal TraceWriterOptions? Writer { get; init; }

    internal override IRecordingBackend CreateBackend() => new PtraceBackend(this);
}
