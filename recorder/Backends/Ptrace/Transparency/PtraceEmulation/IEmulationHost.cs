namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.PtraceEmulation;

/// <summary>What the ptrace emulation needs from the recording (the session implements it; tests fake it).</summary>
internal interface IEmulationHost
{
    /// <summary>True when <paramref name="pid"/> is a process of the recording.</summary>
    bool IsInRecording(int pid);
    /// <summary>The parent pid of a process of the recording (the shell for the first program).</summary>
    int ParentOf(int pid);
    /// <summary>The registers of thread <paramref name="tid"/> in struct user_regs_struct order (27 words), as a stopped tracee would show them.</summary>
    bool TryGetRegisters(int tid, Span<ulong> userRegs);
    int ReadMemory(int pid, ulong address, Span<byte> into);
    /// <summary>Writes another process's memory through page protections (PTRACE_POKETEXT writes code).</summary>
    bool WriteMemory(int pid, ulong address, ReadOnlySpan<byte> bytes);
    /// <summary>Holds every thread of <paramref name="pid"/> (it is stopped by its emulated tracer) or lets them run again.</summary>
    void SetStopped(int pid, bool stopped);
    /// <summary>Sends <paramref name="signo"/> to <paramref name="pid"/> (PTRACE_CONT/DETACH with a signal, PTRACE_KILL).</summary>
    void Signal(int pid, int signo);
}
