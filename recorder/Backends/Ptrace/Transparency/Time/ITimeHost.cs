namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>What virtual time needs the session to do to threads (PtraceSession implements it).</summary>
internal interface ITimeHost
{
    /// <summary>Keeps the thread at the entry stop of its (skipped) call instead of resuming it.</summary>
    void HoldInSyscall(int tid);
    /// <summary>Lets a thread held by <see cref="HoldInSyscall"/> go on to the call's exit.</summary>
    void ReleaseSyscall(int tid);
    /// <summary>Interrupts a thread blocked in a call (it stops at the call's exit with -ERESTART*).</summary>
    void Interrupt(int tid);
    /// <summary>True when a signal the program catches is pending and unblocked for the thread.</summary>
    bool CaughtSignalPending(int tid);
    /// <summary>Sends SIGALRM to a process (an expired virtual ITIMER_REAL).</summary>
    void Alarm(int pid);
    /// <summary>How many of the program's threads run natively right now (resumed, not at a stop, not blocked in a call the recorder knows of).</summary>
    int RunningNatively { get; }
}
