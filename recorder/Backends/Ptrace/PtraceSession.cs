using System.Diagnostics;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Recording;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// One recording under ptrace: the traced processes and threads, who runs next, the limits, and
/// what each kind of stop means. Everything here runs on one tracer thread (the kernel makes the
/// thread that seized a tracee its tracer).
///
/// Full mode single-steps one user-mode thread at a time, so every memory write is attributable;
/// threads take turns in time slices, and a thread inside a system call runs in the kernel
/// (PTRACE_SYSCALL) while others step. Syscalls mode lets every thread run to its next system-call
/// stop. Kernel behaviours this code relies on were checked with small probes on this kernel
/// (6.18) and are noted where they matter.
/// </summary>
internal sealed class PtraceSession
{
    private const ulong TrapFlag = 0x100;
    private const int ERestartSys = 512, ERestartNoIntr = 513, ERestartNoHand = 514, ERestartRestartBlock = 516;
    private const ulong CloneVm = 0x100, CloneThread = 0x10000, CloneVFork = 0x4000;

    private static readonly bool Debug = Environment.GetEnvironmentVariable("ETHER_PTRACE_DEBUG") == "1";

    private readonly IPtrace _ptrace;
    private readonly RecordingPipeline _pipeline;
    private readonly RecordOptions _options;
    private readonly RecordingControl _control;
    private readonly RecordingProgress? _progress;
    private readonly bool _full;

    private readonly Dictionary<int, TraceeThread> _threads = new();
    private readonly List<TraceeThread> _order = new();
    private readonly Dictionary<int, RecordedProcess> _processes = new();
    /// <summary>Stops of new tasks that arrived before their parent's fork/clone event named them.</summary>
    private readonly Dictionary<int, WaitStatus> _early = new();
    private volatile int[] _knownPids = [];

    private TraceeThread? _inFlight;
    private TraceeThread? _current;
    private int _sliceLeft;
    private int _rrIndex;
    private int _rootPid;
    private long _deadline = long.MaxValue;
    private long _processCount, _threadCount;

    public int? RootExitCode { get; private set; }
    public int? RootSignal { get; private set; }
    public long Processes => _processCount;
    public long Threads => _threadCount;

    public PtraceSession(IPtrace ptrace, RecordingPipeline pipeline, RecordOptions options, RecordingControl control, RecordingProgress? progress)
    {
        _ptrace = ptrace;
        _pipeline = pipeline;
        _options = options;
        _control = control;
        _progress = progress;
        _full = options.Mode == RecordMode.Full;
    }

    /// <summary>Launches the prologue, records until every traced task is gone or a limit stops it,
    /// and returns why recording stopped. Must be called on the tracer thread.</summary>
    public (StopReason Reason, string Detail) Run(Sandbox sandbox, TargetProgram program)
    {
        _rootPid = TargetLauncher.Launch(_ptrace, sandbox, program, _options.Sandbox);
        var rootProcess = NewProcess(_rootPid, 0, null);
        AddThread(rootProcess, _rootPid, TraceeState.Prologue);
        _control.KillTarget = KillAll;
        if (_options.Timeout is { } timeout) _deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;

        try
        {
            Loop();
        }
        catch (Exception e) when (e is not RecordingSetupException)
        {
            _control.RequestStop(StopReason.RecorderError, e.Message);
        }

        if (_threads.Count > 0) Shutdown();
        _control.KillTarget = null;
        if (_neverExeced && !_control.StopRequested)
            throw new RecordingSetupException(_execError is { } errno
                ? $"cannot execute {program.Path}: {Formats.Abi.Errno.Message(errno)}"
                : RootExitCode is { } code
                ? $"the program did not start (the sandbox shell exited with {code})"
                : $"the program did not start (the sandbox shell was killed by {Sig.Name(RootSignal ?? 0)})");

        if (_control.StopRequested) return (_control.Reason, _control.Detail);
        if (RootSignal is { } sig) return (StopReason.TargetCrashed, $"pid {_rootPid} killed by {Sig.Name(sig)}");
        return (StopReason.Exited, $"exit code {RootExitCode ?? 0}");
    }

    private bool _neverExeced = true;
    private int? _execError;

    // ---- the loop ------------------------------------------------------------------------

    private void Loop()
    {
        int sinceProgress = 0;
        while (_threads.Count > 0)
        {
            if (_control.StopRequested) return;
            if (Environment.TickCount64 > _deadline)
            {
                _control.RequestStop(StopReason.Timeout, $"timeout after {_options.Timeout!.Value.TotalSeconds:0.###} s");
                return;
            }

            if (_full)
            {
                if (_inFlight is null && NextReady() is { } next)
                {
                    if (_options.MaxSteps > 0 && _pipeline.Writer.Step >= _options.MaxSteps)
                    {
                        _control.RequestStop(StopReason.MaxSteps, $"max steps {_options.MaxSteps} reached");
                        return;
                    }
                    StartStep(next);
                    continue; // StartStep may have found the thread gone; pick again before waiting
                }
            }
            else
            {
                ResumeAllReady();
            }

            // If every thread is parked in a group-stop, this waits for a SIGCONT from outside or
            // for the kill that a timeout or Ctrl-C sends (RecordingControl).
            int tid = _ptrace.WaitAny(out var status);
            if (tid < 0)
            {
                if (_ptrace.LastError == LibC.ECHILD) { ForgetAll(); return; }
                throw new InvalidOperationException($"waitpid failed (errno {_ptrace.LastError})");
            }
            if (Debug) Console.Error.WriteLine($"[ptrace] {tid}: {status}");
            Dispatch(tid, status);

            if (++sinceProgress >= 256)
            {
                sinceProgress = 0;
                _progress?.Update(_pipeline.Writer);
            }
        }
    }

    private TraceeThread? NextReady()
    {
        if (_current is { State: TraceeState.Ready } && _sliceLeft > 0) return _current;
        int n = _order.Count;
        for (int i = 1; i <= n; i++)
        {
            int index = (_rrIndex + i) % n;
            var t = _order[index];
            if (t.State != TraceeState.Ready) continue;
            _rrIndex = index;
            _current = t;
            _sliceLeft = _options.TimeSliceSteps;
            return t;
        }
        return null;
    }

    private void ResumeAllReady()
    {
        // Syscalls mode: index loop, Resume may remove a thread that turned out to be gone.
        for (int i = 0; i < _order.Count; i++)
        {
            var t = _order[i];
            if (t.State != TraceeState.Ready) continue;
            int signal = TakePendingSignal(t);
            if (!_ptrace.ResumeToSyscall(t.Tid, signal)) { Gone(t); continue; }
            t.State = TraceeState.Running;
        }
    }

    private static int TakePendingSignal(TraceeThread t)
    {
        int signal = t.PendingSignal;
        t.PendingSignal = 0;
        return signal;
    }

    // ---- starting a step (full mode) -----------------------------------------------------------

    private void StartStep(TraceeThread t)
    {
        if (t.RestartPending && t.PendingSignal == 0 && !HasDeliverableSignal(t.Tid))
            RewindRestart(t);

        var kind = _pipeline.BeginStep(t.Rec);
        int signal = TakePendingSignal(t);
        t.UserTrapFlag = (t.Raw.Eflags & TrapFlag) != 0;
        t.EnteringHandler = signal != 0 && t.PendingSignalCaught;
        t.RspBeforeHandler = t.Raw.Rsp;

        bool ok;
        if (kind == StepKind.SystemCall && !t.EnteringHandler)
        {
            // syscall / int 0x80: PTRACE_SYSCALL gives an entry stop, then (resumed with PTRACE_SYSCALL
            // again) an exit stop; after the exit a PTRACE_SINGLESTEP resume executes exactly the next
            // instruction (probe: no extra trap). A signal that is not caught is delivered here too:
            // the kernel discards, stops or kills without running program code.
            ok = _ptrace.ResumeToSyscall(t.Tid, signal);
            t.State = TraceeState.EnteringSyscall;
        }
        else
        {
            // With a caught signal the kernel builds the handler frame and reports a SIGTRAP stop
            // (si_code = SIGTRAP) at the handler's first instruction before executing anything.
            ok = _ptrace.SingleStep(t.Tid, signal);
            t.State = TraceeState.Stepping;
        }
        if (!ok)
        {
            _pipeline.AbandonStep(t.Rec);
            Gone(t);
            return;
        }
        _inFlight = t;
        _sliceLeft--;
    }

    /// <summary>
    /// After -ERESTART* the kernel restarts the call on resume when no handler runs: it moves rip
    /// back onto the syscall instruction (and rax back to the call number, or to restart_syscall).
    /// Done by the kernel under PTRACE_SINGLESTEP, the call would run with no entry/exit stops; so
    /// when no signal handler will run, the recorder rewinds itself (the kernel then sees no
    /// -ERESTART* in rax and leaves rip alone) and steps the syscall instruction as any other.
    /// </summary>
    private void RewindRestart(TraceeThread t)
    {
        t.RestartPending = false;
        var regs = t.Raw;
        regs.Rip -= 2; // syscall, int 0x80 and sysenter are all two bytes long
        bool compat = t.Rec.SyscallAbi == SyscallNames.I386;
        regs.Rax = t.RestartReturn == -ERestartRestartBlock ? (compat ? 0UL : 219UL) : regs.OrigRax;
        if (!_ptrace.SetRegisters(t.Tid, regs)) return;
        SetRegisters(t, regs);
        _pipeline.Registers(t.Rec);
    }

    private static bool HasDeliverableSignal(int tid)
    {
        ulong pending = (ProcFs.StatusMask(tid, "SigPnd") ?? 0) | (ProcFs.StatusMask(tid, "ShdPnd") ?? 0);
        ulong blocked = ProcFs.StatusMask(tid, "SigBlk") ?? 0;
        return (pending & ~blocked) != 0;
    }

    private static bool IsCaught(int tid, int signo)
    {
        if (signo is < 1 or > 64) return false;
        ulong caught = ProcFs.StatusMask(tid, "SigCgt") ?? 0;
        return (caught & (1UL << (signo - 1))) != 0;
    }

    // ---- stops ---------------------------------------------------------------------------

    private void Dispatch(int tid, WaitStatus status)
    {
        if (!_threads.TryGetValue(tid, out var t))
        {
            // A new task can report its first stop before its parent's fork/clone event.
            if (status.Stopped) _early[tid] = status;
            return;
        }
        if (status.Exited || status.Signaled) { Died(t, status); return; }
        if (!status.Stopped) return;

        if (status.IsSyscallStop) OnSyscallStop(t);
        else if (status.Event != 0) OnEventStop(t, status.Event, status.StopSignal);
        else OnSignalStop(t, status.StopSignal);
    }

    private bool Refresh(TraceeThread t)
    {
        if (_ptrace.GetRegisters(t.Tid, out var regs)) { SetRegisters(t, regs); return true; }
        Gone(t);
        return false;
    }

    private static void SetRegisters(TraceeThread t, in UserRegs regs)
    {
        t.Raw = regs;
        regs.CopyTo(ref t.Rec.Registers);
    }

    // -- single-step traps and signals --

    private void OnSignalStop(TraceeThread t, int signo)
    {
        if (t.State == TraceeState.Prologue)
        {
            // The shell before exec (e.g. the SIGCONT that woke it): pass it on, record nothing.
            Resume(t, _ptrace.ResumeToSyscall(t.Tid, signo));
            return;
        }

        if (signo == Sig.SIGTRAP && t.State == TraceeState.Stepping && !NeedsSignalInfo(t))
        {
            if (!Refresh(t)) return;
            CompleteStep(t);
            return;
        }

        if (!_ptrace.GetSignalInfo(t.Tid, out var info)) { Gone(t); return; }

        if (signo == Sig.SIGTRAP && t.State == TraceeState.Stepping)
        {
            if (t.EnteringHandler && info.Code == Sig.SIGTRAP)
            {
                // Stopped at the handler's first instruction: nothing executed (not a step). The
                // kernel wrote the signal frame on the stack.
                t.EnteringHandler = false;
                _pipeline.AbandonStep(t.Rec);
                if (!Refresh(t)) return;
                _pipeline.SignalFrame(t.Rec, t.RspBeforeHandler, t.Raw.Rsp, 1024 + Instructions.HostCpu.XsaveAreaSize);
                _pipeline.Registers(t.Rec);
                ReadyAfterStop(t);
                return;
            }
            if (info.Code is SigCode.TrapTrace or SigCode.TrapBreakpoint)
            {
                t.EnteringHandler = false;
                if (!Refresh(t)) return;
                CompleteStep(t);
                return;
            }
        }

        // A signal for the program. If the prepared instruction faulted it was attempted: log it.
        bool stepping = t.State is TraceeState.Stepping or TraceeState.EnteringSyscall;
        bool attempted = stepping && Sig.IsSynchronousFault(signo) && info.Code > 0;
        if (!Refresh(t)) return;
        if (stepping)
        {
            if (attempted)
            {
                _pipeline.CommitInstruction(t.Rec);
                _pipeline.Registers(t.Rec);
            }
            else _pipeline.AbandonStep(t.Rec);
        }
        t.EnteringHandler = false;
        // si_addr (the faulting address) only means something for a fault; for kill()-like signals
        // the same bytes hold the sender's pid.
        ulong address = Sig.IsSynchronousFault(signo) && info.Code > 0 ? info.Addr : 0;
        _pipeline.Signal(t.Rec, signo, Sig.Name(signo), info.Code, address, "delivered");
        Deliver(t, signo);
    }

    /// <summary>Only unusual single-step traps need PTRACE_GETSIGINFO (one more system call per step otherwise).</summary>
    private static bool NeedsSignalInfo(TraceeThread t)
    {
        if (t.EnteringHandler) return true;
        var m = t.Rec.StepInstruction.Mnemonic;
        // int3/int1/int n/into raise the program's own SIGTRAP (si_code SI_KERNEL).
        return m is Mnemonic.Int3 or Mnemonic.Int1 or Mnemonic.Int or Mnemonic.Into || t.Rec.StepLength == 0;
    }

    private void CompleteStep(TraceeThread t)
    {
        var rec = t.Rec;
        t.RestartPending = false; // whatever the kernel was going to restart has happened by now
        // An async SIGTRAP (kill) arriving before the instruction looks like our trap, but rip has
        // not moved. Rare; a rip that stays put is otherwise a rep-string iteration or a jump to itself.
        _pipeline.CompleteStep(rec, rec.Registers);
        if (t.Raw.OrigRax != ulong.MaxValue && rec.StepInstruction.Mnemonic != Mnemonic.Syscall)
            _pipeline.Annotate(t.Pid, t.Tid, "ptrace", $"a system call ({(long)t.Raw.OrigRax}) ran inside a single step at {rec.StepRip:x}; its entry and exit were not seen");
        if (t.UserTrapFlag)
        {
            // The program set TF itself (pushf/popf): natively it gets SIGTRAP after this
            // instruction. Our ptrace trap is that same trap; deliver it, or the program notices.
            _pipeline.Signal(rec, Sig.SIGTRAP, Sig.Name(Sig.SIGTRAP), SigCode.TrapTrace, rec.StepRip, "delivered");
            Deliver(t, Sig.SIGTRAP);
            return;
        }
        ReadyAfterStop(t);
    }

    /// <summary>Queues <paramref name="signo"/> for the thread's next resume, handling a pending restart.</summary>
    private void Deliver(TraceeThread t, int signo)
    {
        bool caught = IsCaught(t.Tid, signo);
        if (t.RestartPending)
        {
            if (caught) t.RestartPending = false; // the kernel restarts or fails with EINTR per SA_RESTART
            else RewindRestart(t);
        }
        t.PendingSignal = signo;
        t.PendingSignalCaught = caught;
        ReadyAfterStop(t);
    }

    private void ReadyAfterStop(TraceeThread t)
    {
        t.State = TraceeState.Ready;
        if (_inFlight == t) _inFlight = null;
    }

    // -- system-call stops --

    private void OnSyscallStop(TraceeThread t)
    {
        if (!_ptrace.GetSyscallInfo(t.Tid, out var info)) { Gone(t); return; }
        if (t.State == TraceeState.Prologue) { OnPrologueSyscall(t, info); return; }

        if (info.Op == PtraceSyscallInfo.OpEntry)
        {
            if (t.State == TraceeState.EnteringSyscall) _pipeline.CommitInstruction(t.Rec);
            t.RestartPending = false;
            if (!_full)
            {
                if (_options.MaxSteps > 0 && _pipeline.Writer.Step >= _options.MaxSteps)
                {
                    _control.RequestStop(StopReason.MaxSteps, $"max steps {_options.MaxSteps} reached");
                    return;
                }
                _pipeline.Tick();
            }
            bool compat = info.Arch == PtraceSyscallInfo.ArchI386;
            Span<ulong> args = stackalloc ulong[6];
            unsafe { for (int i = 0; i < 6; i++) args[i] = info.EntryArgs[i]; }
            long nr = (long)info.EntryNr;
            _pipeline.SyscallEntry(t.Rec, compat, nr, args);
            t.CloneFlags = CloneFlagsOf(t, compat, nr, args);
            if (SandboxGuard.Refuse(compat, nr, args, IsTraced) is { } why)
                Refuse(t, why, LibC.EPERM);
            else if (IsProcessCreation(compat, nr, t.CloneFlags) && _processes.Count >= _options.Sandbox.MaxProcesses)
                Refuse(t, $"{_processes.Count} traced processes (limit {_options.Sandbox.MaxProcesses})", LibC.EAGAIN);
            if (_inFlight == t) _inFlight = null;
            t.State = TraceeState.InSyscall;
            Resume(t, _ptrace.ResumeToSyscall(t.Tid));
            return;
        }

        if (info.Op == PtraceSyscallInfo.OpExit)
        {
            if (!Refresh(t)) return;
            long ret = info.ExitRval;
            if (t.RefusedSyscall)
            {
                t.RefusedSyscall = false;
                ret = -t.RefusedErrno;
                var regs = t.Raw;
                regs.Rax = unchecked((ulong)ret);
                if (_ptrace.SetRegisters(t.Tid, regs)) SetRegisters(t, regs);
            }
            if (t.Rec.InSyscall) _pipeline.SyscallExit(t.Rec, ret, t.Rec.Registers);
            else _pipeline.Registers(t.Rec);
            if (_full && ret is -ERestartSys or -ERestartNoIntr or -ERestartNoHand or -ERestartRestartBlock)
            {
                t.RestartPending = true;
                t.RestartReturn = ret;
            }
            ReadyAfterStop(t);
            return;
        }

        // Op none: a stop we did not ask for (should not happen with TRACESYSGOOD); go on.
        if (!Refresh(t)) return;
        ReadyAfterStop(t);
    }

    private void OnPrologueSyscall(TraceeThread t, in PtraceSyscallInfo info)
    {
        if (info.Op == PtraceSyscallInfo.OpEntry)
        {
            bool compat = info.Arch == PtraceSyscallInfo.ArchI386;
            long nr = (long)info.EntryNr;
            if (!compat && SyscallNames.IsExec(SyscallNames.X86_64, nr))
            {
                // The shell's exec of the program: the first recorded event. Decoded now, while the
                // file name is still in the shell's memory.
                Span<ulong> args = stackalloc ulong[6];
                unsafe { for (int i = 0; i < 6; i++) args[i] = info.EntryArgs[i]; }
                if (!t.PrologueExecSeen)
                {
                    _pipeline.ProcessStarted(t.Rec.Process, "spawn");
                    _processCount++;
                    _threadCount++;
                }
                t.PrologueExecSeen = true;
                _pipeline.SyscallEntry(t.Rec, false, nr, args);
            }
        }
        else if (info.Op == PtraceSyscallInfo.OpExit && t.Rec.InSyscall && info.ExitRval < 0)
        {
            // The kernel refused the program (no interpreter, bad format...); the shell will exit.
            _pipeline.SyscallExit(t.Rec, info.ExitRval, t.Rec.Registers);
            _execError = (int)-info.ExitRval;
        }
        Resume(t, _ptrace.ResumeToSyscall(t.Tid));
    }

    /// <summary>fork, vfork, clone/clone3 without CLONE_THREAD: a new process.</summary>
    private static bool IsProcessCreation(bool compat, long nr, ulong cloneFlags) =>
        (compat ? nr is 2 or 190 or 120 : nr is 57 or 58 or 56 or 435) && (cloneFlags & CloneThread) == 0;

    /// <summary>Makes the call fail with <paramref name="errno"/> without running it (root ignores RLIMIT_NPROC, so the process cap is ours).</summary>
    private void Refuse(TraceeThread t, string why, int errno)
    {
        // orig_rax = -1 makes the kernel skip the call (it returns -ENOSYS); the exit stop turns that into -EPERM.
        var regs = t.Raw;
        if (!_ptrace.GetRegisters(t.Tid, out regs)) return;
        regs.OrigRax = ulong.MaxValue;
        if (!_ptrace.SetRegisters(t.Tid, regs)) return;
        t.RefusedSyscall = true;
        t.RefusedErrno = errno;
        _pipeline.Annotate(t.Pid, t.Tid, "sandbox", $"refused {t.Rec.SyscallName}: {why}");
    }

    private ulong CloneFlagsOf(TraceeThread t, bool compat, long nr, ReadOnlySpan<ulong> args)
    {
        if (compat) return nr == 120 ? args[0] : 0;
        switch (nr)
        {
            case 56: return args[0];             // clone(flags, ...)
            case 435:                            // clone3(struct clone_args *, size): flags is the first u64
                Span<byte> b = stackalloc byte[8];
                return t.Rec.Process.Memory.Read(args[0], b) == 8 ? BitConverter.ToUInt64(b) : 0;
            case 57: return 0;                   // fork
            case 58: return CloneVm | CloneVFork; // vfork
            default: return 0;
        }
    }

    // -- events --

    private void OnEventStop(TraceeThread t, int ev, int signo)
    {
        switch (ev)
        {
            case PtraceEvent.Exec:
                OnExec(t);
                return;
            case PtraceEvent.Fork:
            case PtraceEvent.VFork:
            case PtraceEvent.Clone:
                OnNewTask(t, ev);
                return;
            case PtraceEvent.Stop:
                OnPtraceEventStop(t, signo);
                return;
            default:
                if (t.State == TraceeState.InSyscall) Resume(t, _ptrace.ResumeToSyscall(t.Tid));
                else if (Refresh(t)) ReadyAfterStop(t);
                return;
        }
    }

    private void OnExec(TraceeThread t)
    {
        _ptrace.GetEventMessage(t.Tid, out ulong formerTid);
        var process = t.Rec.Process;
        if ((int)formerTid != t.Tid && _threads.TryGetValue((int)formerTid, out var execer))
        {
            // A non-leader thread exec'd: it takes over the leader's tid; every other thread is gone
            // (the kernel reports no exit for them).
            foreach (var other in _order.Where(o => o.Rec.Process == process && o != execer).ToList())
            {
                if (other.Rec.StepPending) _pipeline.AbandonStep(other.Rec);
                _pipeline.ThreadExited(other.Rec, 0);
                Remove(other);
            }
            _threads.Remove(execer.Tid);
            _pipeline.Annotate(process.Pid, process.Pid, "exec", $"thread {execer.Tid} exec'd and took over the thread-group id {process.Pid}");
            execer.Rec.Tid = process.Pid;
            _threads[process.Pid] = execer;
            t = execer;
        }
        else
        {
            foreach (var other in _order.Where(o => o.Rec.Process == process && o != t).ToList())
            {
                _pipeline.ThreadExited(other.Rec, 0);
                Remove(other);
            }
        }

        if (t.State == TraceeState.Prologue)
        {
            t.State = TraceeState.InSyscall;
            _neverExeced = false;
        }
        if (!Refresh(t)) return;
        _pipeline.Exec(t.Rec, ProcFs.ExecutablePath(process.Pid), ProcFs.CommandLine(process.Pid));
        t.State = TraceeState.InSyscall;
        Resume(t, _ptrace.ResumeToSyscall(t.Tid));
    }

    private void OnNewTask(TraceeThread parent, int ev)
    {
        _ptrace.GetEventMessage(parent.Tid, out ulong msg);
        int tid = (int)msg;
        ulong flags = ev switch
        {
            PtraceEvent.Fork => 0,
            PtraceEvent.VFork => CloneVm | CloneVFork,
            _ => parent.CloneFlags,
        };
        var parentProcess = parent.Rec.Process;
        TraceeThread child;
        if ((flags & CloneThread) != 0)
        {
            child = AddThread(parentProcess, tid, TraceeState.Starting);
            _pipeline.ThreadStarted(child.Rec, parent.Tid);
            _threadCount++;
        }
        else
        {
            var process = NewProcess(tid, parentProcess.Pid, (flags & CloneVm) != 0 ? parentProcess.Space : null);
            if ((flags & CloneVm) == 0) process.Space = parentProcess.Space.CopyForFork(process.Memory);
            process.Executable = parentProcess.Executable;
            child = AddThread(process, tid, TraceeState.Starting);
            string how = ev switch { PtraceEvent.Fork => "fork", PtraceEvent.VFork => "vfork", _ => "clone" };
            _pipeline.ProcessStarted(process, how);
            _processCount++;
            _threadCount++;
        }
        // The parent stays inside the call; its exit stop follows.
        Resume(parent, _ptrace.ResumeToSyscall(parent.Tid));
        if (_early.Remove(tid, out var early)) Dispatch(tid, early);
    }

    private void OnPtraceEventStop(TraceeThread t, int signo)
    {
        if (t.State == TraceeState.Prologue)
        {
            Resume(t, _ptrace.ResumeToSyscall(t.Tid));
            return;
        }
        if (t.State == TraceeState.Starting)
        {
            // A new task's first stop (seized tracees' children start with PTRACE_EVENT_STOP/SIGTRAP):
            // registers = the parent's at the call, rax = 0; it has not executed anything yet.
            if (!Refresh(t)) return;
            _pipeline.Registers(t.Rec);
            ReadyAfterStop(t);
            return;
        }
        if (signo is Sig.SIGSTOP or Sig.SIGTSTP or Sig.SIGTTIN or Sig.SIGTTOU)
        {
            // Group-stop: stay stopped like the program would, but keep reporting (PTRACE_LISTEN);
            // a SIGCONT ends it with another PTRACE_EVENT_STOP.
            if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
            if (_inFlight == t) _inFlight = null;
            t.State = TraceeState.GroupStopped;
            if (!_ptrace.Listen(t.Tid)) Gone(t);
            return;
        }
        // End of a group-stop, or an interrupt: ready again.
        if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
        if (!Refresh(t)) return;
        ReadyAfterStop(t);
    }

    // -- deaths --

    private void Died(TraceeThread t, WaitStatus status)
    {
        var rec = t.Rec;
        if (rec.StepPending) _pipeline.AbandonStep(rec);
        if (rec.InSyscall) _pipeline.SyscallAbandoned(rec);
        var process = rec.Process;
        bool leader = t.Tid == process.Pid;
        if (!leader)
            _pipeline.ThreadExited(rec, status.Exited ? status.ExitCode : 128 + status.TermSignal);
        Remove(t);
        if (leader)
        {
            // The leader is reported last (after the other threads of a group exit).
            foreach (var other in _order.Where(o => o.Rec.Process == process).ToList())
            {
                _pipeline.ThreadExited(other.Rec, 0);
                Remove(other);
            }
            _pipeline.ProcessExited(process, status.Exited ? status.ExitCode : 0, status.Signaled ? status.TermSignal : 0, status.CoreDumped);
            _processes.Remove(process.Pid);
            UpdateKnownPids();
            if (process.Pid == _rootPid)
            {
                if (status.Exited) RootExitCode = status.ExitCode;
                else RootSignal = status.TermSignal;
            }
        }
    }

    /// <summary>A ptrace call failed on the thread (ESRCH): it was killed; its death report will follow.</summary>
    private void Gone(TraceeThread t)
    {
        if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
        t.State = TraceeState.Dying;
        if (_inFlight == t) _inFlight = null;
    }

    private void Resume(TraceeThread t, bool ok)
    {
        if (!ok) Gone(t);
        else if (t.State is TraceeState.Ready) t.State = TraceeState.Running;
    }

    // ---- stopping ---------------------------------------------------------------------------

    /// <summary>Kills every traced process (callable from any thread: only kill(2), no ptrace).</summary>
    private void KillAll()
    {
        if (_rootPid > 0) LibC.Kill(-_rootPid, Sig.SIGKILL);
        foreach (var pid in _knownPids) LibC.Kill(pid, Sig.SIGKILL);
    }

    private void Shutdown()
    {
        if (_inFlight is { } f) _pipeline.AbandonStep(f.Rec);
        _inFlight = null;
        KillAll();
        var until = Stopwatch.StartNew();
        while (_threads.Count > 0 && until.Elapsed < TimeSpan.FromSeconds(5))
        {
            int tid = _ptrace.WaitAny(out var status);
            if (tid < 0) break;
            if (_threads.TryGetValue(tid, out var t) && (status.Exited || status.Signaled)) Died(t, status);
        }
        ForgetAll();
    }

    private void ForgetAll()
    {
        foreach (var t in _order.ToList())
        {
            if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
            Remove(t);
        }
        _processes.Clear();
        UpdateKnownPids();
    }

    // ---- bookkeeping ------------------------------------------------------------------------

    /// <summary>A new process; <paramref name="space"/> null gives it a fresh address space of its own.</summary>
    private RecordedProcess NewProcess(int pid, int parentPid, AddressSpace? space)
    {
        var memory = new ProcessMemory(_ptrace, pid);
        var process = new RecordedProcess(pid, parentPid, space ?? new AddressSpace(memory), memory);
        _processes[pid] = process;
        UpdateKnownPids();
        return process;
    }

    private TraceeThread AddThread(RecordedProcess process, int tid, TraceeState state)
    {
        var t = new TraceeThread(new RecordedThread(process, tid), state);
        _threads[tid] = t;
        _order.Add(t);
        process.LiveThreads++;
        return t;
    }

    private void Remove(TraceeThread t)
    {
        if (_threads.TryGetValue(t.Tid, out var found) && found == t) _threads.Remove(t.Tid);
        int index = _order.IndexOf(t);
        if (index >= 0)
        {
            _order.RemoveAt(index);
            if (_rrIndex >= index && _rrIndex > 0) _rrIndex--;
        }
        t.Rec.Process.LiveThreads--;
        if (_inFlight == t) _inFlight = null;
        if (_current == t) _current = null;
    }

    private void UpdateKnownPids() => _knownPids = _processes.Keys.ToArray();

    private bool IsTraced(int pid) => _threads.ContainsKey(pid) || _processes.ContainsKey(pid);
}
