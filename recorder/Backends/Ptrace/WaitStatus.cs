namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>A waitpid status word, decoded (sys/wait.h macros).</summary>
internal readonly struct WaitStatus(int raw)
{
    public int Raw { get; } = raw;

    public bool Exited => (Raw & 0x7f) == 0;
    public int ExitCode => (Raw >> 8) & 0xff;
    public bool Signaled => (Raw & 0x7f) != 0 && (Raw & 0x7f) != 0x7f;
    public int TermSignal => Raw & 0x7f;
    public bool CoreDumped => (Raw & 0x80) != 0;
    public bool Stopped => (Raw & 0xff) == 0x7f;
    /// <summary>The stop signal; SIGTRAP|0x80 marks a system-call stop (PTRACE_O_TRACESYSGOOD).</summary>
    public int StopSignal => (Raw >> 8) & 0xff;
    /// <summary>PTRACE_EVENT_* of an event stop, else 0.</summary>
    public int Event => (Raw >> 16) & 0xff;

    public bool IsSyscallStop => Stopped && StopSignal == (Signals.SIGTRAP | 0x80);

    public override string ToString() =>
        Exited ? $"exited {ExitCode}"
        : Signaled ? $"killed by {Native.Sig.Name(TermSignal)}"
        : Stopped ? $"stopped {StopSignal:x} event {Event}"
        : $"status {Raw:x}";
}
