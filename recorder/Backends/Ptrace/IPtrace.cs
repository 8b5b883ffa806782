using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Every ptrace-related kernel call the session makes, behind one small interface (the thin,
/// boring layer; policy lives in <see cref="PtraceSession"/>). Calls return false / a negative
/// value on failure and leave the errno in <see cref="LastError"/>. All calls must come from the
/// one thread that seized the tracees: the kernel makes that thread, not the process, the tracer.
/// </summary>
internal interface IPtrace
{
    int LastError { get; }

    bool Seize(int pid, int options);
    bool SetOptions(int tid, int options);
    /// <summary>Executes one instruction (PTRACE_SINGLESTEP), delivering <paramref name="signal"/> first if non-zero.</summary>
    bool SingleStep(int tid, int signal = 0);
    /// <summary>Runs to the next system-call entry or exit stop (PTRACE_SYSCALL).</summary>
    bool ResumeToSyscall(int tid, int signal = 0);
    bool Continue(int tid, int signal = 0);
    /// <summary>Leaves a seized tracee in its group-stop while letting it report the next event (PTRACE_LISTEN).</summary>
    bool Listen(int tid);
    bool GetRegisters(int tid, out UserRegs regs);
    bool SetRegisters(int tid, in UserRegs regs);
    bool GetSignalInfo(int tid, out SigInfo info);
    bool GetEventMessage(int tid, out ulong message);
    bool GetSyscallInfo(int tid, out PtraceSyscallInfo info);

    /// <summary>waitpid(-1, __WALL): the next stop or death of any tracee. Returns the tid, or -1 (errno set).</summary>
    int WaitAny(out WaitStatus status);
    /// <summary>waitpid(pid, WUNTRACED) for a child that is not traced yet.</summary>
    int WaitChild(int pid, out WaitStatus status);

    /// <summary>Copies target memory with process_vm_readv; returns the bytes copied (0 on failure).</summary>
    int ReadMemory(int pid, ulong address, Span<byte> into);

    bool Kill(int pid, int signal);
}
