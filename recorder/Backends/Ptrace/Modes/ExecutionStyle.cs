namespace Ether.Replay.Recorder.Backends.Ptrace.Modes;

/// <summary>How a traced thread runs between stops. Chosen per thread: a mode may switch a thread at any of its stops.</summary>
internal enum ExecutionStyle
{
    /// <summary>Single-stepped (trap flag): one instruction per step, with its memory writes and
    /// registers; one stepping thread runs at a time, so every write is attributable.</summary>
    Stepping,
    /// <summary>Runs natively to its next system-call stop (PTRACE_SYSCALL); each system-call entry is one step.</summary>
    Native,
}
