namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>How a waiting call is kept in virtual time.</summary>
internal enum WaitKind
{
    /// <summary>A sleep (nanosleep, clock_nanosleep): the kernel runs nothing; the thread is held at the
    /// call's entry until the virtual clock reaches the deadline or a signal for it arrives.</summary>
    Sleep,
    /// <summary>A wait with a timeout (poll, select, epoll_wait, futex, sigtimedwait): the kernel waits
    /// without a timeout for the real event; when the virtual clock reaches the deadline first, the
    /// call is interrupted and returns as a timeout.</summary>
    Timeout,
}

/// <summary>A thread in a call that waits until a virtual deadline (elapsed virtual ns).</summary>
internal sealed class TimedWait(int tid, int pid, long number, WaitKind kind, long deadlineNs)
{
    public int Tid { get; } = tid;
    public int Pid { get; } = pid;
    /// <summary>The system call (x86-64 number) the wait belongs to.</summary>
    public long Number { get; } = number;
    public WaitKind Kind { get; } = kind;
    public long DeadlineNs { get; } = deadlineNs;
    /// <summary>Where to write the time left (a timespec or timeval, per <see cref="RemainderIsTimeval"/>), 0 for none.</summary>
    public ulong Remainder { get; init; }
    public bool RemainderIsTimeval { get; init; }
    /// <summary>What the call returns when the deadline passes (0, -ETIMEDOUT, -EAGAIN).</summary>
    public long TimeoutResult { get; init; }
    /// <summary>Sleep: true once it is to end now (deadline reached, or a signal for it); Timeout: true once the recorder interrupted it.</summary>
    public bool Ended { get; set; }
    /// <summary>Sleep ended early by a signal the program catches: the call fails with EINTR and writes the time left.</summary>
    public bool Interrupted { get; set; }
}
