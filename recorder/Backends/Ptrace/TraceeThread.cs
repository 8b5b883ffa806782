using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>Where a traced thread is, from the tracer's point of view.</summary>
internal enum TraceeState
{
    /// <summary>The sandbox shell before it execs the program: not recorded.</summary>
    Prologue,
    /// <summary>Created by fork/vfork/clone; its first stop has not been seen yet.</summary>
    Starting,
    /// <summary>In a ptrace stop, registers known: can be stepped.</summary>
    Ready,
    /// <summary>Resumed with PTRACE_SINGLESTEP; its trap is awaited.</summary>
    Stepping,
    /// <summary>Resumed with PTRACE_SYSCALL at a syscall instruction; the entry stop is awaited.</summary>
    EnteringSyscall,
    /// <summary>Between entry and exit stop, running in the kernel (may block): other threads step meanwhile.</summary>
    InSyscall,
    /// <summary>Native style: running freely until its next system-call stop.</summary>
    Running,
    /// <summary>In a group-stop (SIGSTOP and friends), parked with PTRACE_LISTEN until SIGCONT.</summary>
    GroupStopped,
    /// <summary>A ptrace call said it is gone (ESRCH); its death report is awaited.</summary>
    Dying,
}

/// <summary>The tracer's per-thread state: ptrace bookkeeping around the recording's <see cref="RecordedThread"/>.</summary>
internal sealed class TraceeThread(RecordedThread recorded, TraceeState state, ExecutionStyle style)
{
    public RecordedThread Rec { get; } = recorded;
    public int Tid => Rec.Tid;
    public int Pid => Rec.Pid;
    public TraceeState State = state;
    /// <summary>Single-stepped or running natively; a mode or an interceptor may change it at any stop of the thread.</summary>
    public ExecutionStyle Style = style;

    /// <summary>Registers at the last stop, as the kernel gave them.</summary>
    public UserRegs Raw;

    /// <summary>Signal to deliver at the next resume (0: none), and whether the program has a handler for it.</summary>
    public int PendingSignal;
    public bool PendingSignalCaught;
    /// <summary>The last resume delivered a caught signal: the next stop is at the handler's first instruction.</summary>
    public bool EnteringHandler;
    public ulong RspBeforeHandler;

    /// <summary>The last system call returned -ERESTART*: on resume the kernel may rewind rip onto the syscall instruction.</summary>
    public bool RestartPending;
    public long RestartReturn;

    /// <summary>Held at a system-call entry stop (a sleep in virtual time): not resumed until released.</summary>
    public bool HeldInSyscall;
    /// <summary>When (Environment.TickCount64) it was resumed from its last system-call entry stop.</summary>
    public long SyscallEnteredAt;

    /// <summary>An interceptor skipped this call at entry (the kernel ran nothing); it returns <see cref="SkipResult"/> at exit.</summary>
    public bool SkipSyscall;
    public long SkipResult;
    /// <summary>An interceptor changed the call's argument registers at entry; the program's own come back at exit.</summary>
    public bool ArgsRewritten;

    /// <summary>The registers before the current step had TF set by the program itself (not by us).</summary>
    public bool UserTrapFlag;

    /// <summary>
    /// The program's own trap flag, as the recorder accounts for it (TrapFlag/TrapFlagAccount): set only
    /// by a popf/iret/sigreturn with an image the program supplied. The TF the kernel reports after a
    /// stepped popf or iret cannot be trusted (the kernel then forgets that TF was the tracer's).
    /// </summary>
    public bool ProgramTrapFlag;
    /// <summary>The TF the program will have after the step under way (a popf or iret), or null when the step does not set it.</summary>
    public bool? TrapFlagAfterStep;

    /// <summary>The thread's blocked-signal mask as last read (<see cref="SignalMaskKnown"/>), and whether
    /// SIGTRAP was unblocked for the step under way (PTRACE_SETSIGMASK; put back at its next stop).</summary>
    public ulong SignalMask;
    public bool SignalMaskKnown;
    public bool SignalMaskLowered;

    /// <summary>In the prologue: the execve the shell is making (recorded once it succeeds).</summary>
    public bool PrologueExecSeen;

    /// <summary>clone flags of the fork/clone call this thread is in (for classifying the child).</summary>
    public ulong CloneFlags;
}
