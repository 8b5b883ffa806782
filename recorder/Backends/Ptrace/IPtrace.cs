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
    /// <summary>Changes the siginfo of the signal a signal-delivery stop is about to deliver (PTRACE_SETSIGINFO).</summary>
    bool SetSignalInfo(int tid, in SigInfo info);
    /// <summary>The thread's blocked-signal mask (bit n-1 = signal n), and setting it (PTRACE_GETSIGMASK / SETSIGMASK).</summary>
    bool GetSignalMask(int tid, out ulong mask);
    bool SetSignalMask(int tid, ulong mask);
    /// <summary>Stops a running (or blocked-in-the-kernel) seized tracee (PTRACE_INTERRUPT); a blocking call returns with -ERESTART*.</summary>
    bool Interrupt(int tid);
    /// <summary>Lets a tracee go (PTRACE_DETACH), delivering <paramref name="signal"/> if non-zero.</summary>
    bool Detach(int tid, int signal = 0);
    bool GetEventMessage(int tid, out ulong message);
    bool GetSyscallInfo(int tid, out PtraceSyscallInfo info);

    /// <summary>waitpid(-1, __WALL | __WNOTHREAD): the next stop or death of any tracee (or child) of the
    /// calling thread — never another thread's children. Returns the tid, or -1 (errno set).</summary>
    int WaitAny(out WaitStatus status);
    /// <summary>The same without blocking: 0 when no stop or death is waiting.</summary>
    int WaitAnyNoHang(out WaitStatus status);
    /// <summary>waitpid(tid, __WALL): the next stop or death of this one tracee (remote system calls wait for their thread only).</summary>
    int WaitThread(int tid, out WaitStatus status);
    /// <summary>waitpid(pid, WUNTRACED) for a child that is not traced yet.</summary>
    int WaitChild(int pid, out WaitStatus status);
    /// <summary>waitpid(pid, WNOHANG) for a child that is not traced: its pid once it has ended, 0 while it runs, -1 on error.</summary>
    int WaitChildNoHang(int pid, out WaitStatus status);

    /// <summary>Copies target memory with process_vm_readv; returns the bytes copied (0 on failure).</summary>
    int ReadMemory(int pid, ulong address, Span<byte> into);
    /// <summary>Copies into target memory with process_vm_writev (writable pages only); returns the bytes copied (0 on failure).</summary>
    int WriteMemory(int pid, ulong address, ReadOnlySpan<byte> from);
    /// <summary>PTRACE_PEEKDATA / PTRACE_POKEDATA: one word, through page protections (the thread must be in a ptrace stop).</summary>
    bool PeekData(int tid, ulong address, out ulong word);
    bool PokeData(int tid, ulong address, ulong word);

    bool Kill(int pid, int signal);
}
