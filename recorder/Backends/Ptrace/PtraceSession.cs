using System.Diagnostics;
using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// One recording under ptrace: the traced processes and threads, the limits, and what each kind
/// of stop means. Who runs next is the <see cref="Scheduler"/>'s business; how threads run is the
/// <see cref="RecordingMode"/>'s; components that change what the program sees plug in through
/// <see cref="SessionHooks"/>. Everything here runs on one tracer thread (the kernel makes the
/// thread that seized a tracee its tracer).
///
/// A stepping thread is single-stepped one instruction at a time, one thread at a time, so every
/// memory write is attributable; a native thread runs to its next system-call stop. A thread inside
/// a system call runs in the kernel (PTRACE_SYSCALL) while others step. Kernel behaviours this code
/// relies on were checked with small probes on this kernel (6.18) and are noted where they matter.
/// The partial files hold the kinds of stops: Steps (single-step traps), Syscalls, Signals, Tasks
/// (exec, fork/clone, group-stops, deaths); Styles switches other threads' execution style for a mode.
/// </summary>
internal sealed partial class PtraceSession
{
    private static readonly bool Debug = Environment.GetEnvironmentVariable("ETHER_PTRACE_DEBUG") == "1";

    private readonly IPtrace _ptrace;
    private readonly RecordingPipeline _pipeline;
    private readonly PtraceRecordOptions _options;
    private readonly RecordingControl _control;
    private readonly RecordingProgress? _progress;
    private readonly RecordingMode _mode;
    private readonly SessionHooks _hooks;
    private readonly Scheduler _scheduler;
    private readonly RemoteSyscalls _remote;

    private readonly Dictionary<int, RecordedProcess> _processes = new();
    /// <summary>Stops of new tasks that arrived before their parent's fork/clone event named them.</summary>
    private readonly Dictionary<int, WaitStatus> _early = new();
    /// <summary>Stops a remote system call waited for that were not its own (a death): handled before the next wait.</summary>
    private readonly Queue<(int Tid, WaitStatus Status)> _deferred = new();
    private readonly List<TraceeThread> _resumeBatch = new();
    private volatile int[] _knownPids = [];
    /// <summary>Set once the session is over: a late kill from the stop control must not hit reused pids.</summary>
    private volatile bool _finished;

    // Reused for every stop of their kind (allocation-free interception).
    private readonly SyscallStop _syscallStop = new();
    private readonly SignalStop _signalStop = new();
    private readonly StepStop _stepStop = new();

    private int _rootPid;
    /// <summary>The program's parent shell (not traced; its process group holds everything the program starts).</summary>
    private int _shellPid;
    private long _deadline = long.MaxValue;
    private long _processCount, _threadCount;
    private bool _neverExeced = true;
    private int? _execError;

    /// <summary>How the program was started (its parent shell, the CPU the recording runs on).</summary>
    public Launched Launched { get; private set; }

    public int? RootExitCode { get; private set; }
    public int? RootSignal { get; private set; }
    public long Processes => _processCount;
    public long Threads => _threadCount;

    /// <summary>What the session is recording with (components use it to read and change the target).</summary>
    internal RecordingPipeline Pipeline => _pipeline;
    internal RemoteSyscalls Remote => _remote;

    public PtraceSession(IPtrace ptrace, RecordingPipeline pipeline, PtraceRecordOptions options, RecordingMode mode,
        RecordingControl control, RecordingProgress? progress)
    {
        _ptrace = ptrace;
        _pipeline = pipeline;
        _options = options;
        _mode = mode;
        _control = control;
        _progress = progress;
        _scheduler = new Scheduler(options.TimeSliceSteps);
        _remote = new RemoteSyscalls(ptrace, (tid, status) => _deferred.Enqueue((tid, status)), SignalDuringRemoteCall);
        _hooks = new SessionHooks();
        _hooks.Add(new SandboxInterceptor(IsTraced, () => _processes.Count, options.Sandbox.MaxProcesses));
        mode.Attach(_hooks);
        options.Attach?.Invoke(_hooks);
    }

    /// <summary>Launches the prologue, records until every traced task is gone or a limit stops it,
    /// and returns why recording stopped. Must be called on the tracer thread.</summary>
    public (StopReason Reason, string Detail) Run(Sandbox sandbox, TargetProgram program)
    {
        var launched = TargetLauncher.Launch(_ptrace, sandbox, program, _options.Sandbox,
            () => _mode.PinsToOneCpu(_options) ? CpuBinding.BindCurrentThread() : null, _control);
        _rootPid = launched.ProgramPid;
        _shellPid = launched.ShellPid;
        Launched = launched;
        AttachTransparency();
        var rootProcess = NewProcess(_rootPid, _shellPid, null);
        AddThread(rootProcess, _rootPid, TraceeState.Prologue);
        // A stop requested before this point (Ctrl-C during the launch) wakes us at once.
        _control.SetWake(WakeOnStop);
        if (_options.Timeout is { } timeout) _deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;

        try
        {
            Loop();
        }
        catch (Exception e) when (e is not RecordingSetupException)
        {
            _control.RequestStop(StopReason.RecorderError, e.Message);
        }

        if (_scheduler.Count > 0) Shutdown();
        _control.SetWake(null);
        _finished = true;
        TargetLauncher.ReapShell(_ptrace, _shellPid);
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

    // ---- the loop ------------------------------------------------------------------------

    private void Loop()
    {
        int sinceProgress = 0;
        while (_scheduler.Count > 0)
        {
            if (_control.StopRequested) return;
            if (Environment.TickCount64 > _deadline)
            {
                _control.RequestStop(StopReason.Timeout, TraceRecorder.TimeoutDetail(_options.Timeout!.Value));
                return;
            }
            if (_deferred.TryDequeue(out var deferred))
            {
                Dispatch(deferred.Tid, deferred.Status);
                continue;
            }

            ResumeNative();
            if (_scheduler.NextToStep() is { } next)
            {
                if (MaxStepsReached()) return;
                StartStep(next);
                continue; // StartStep may have found the thread gone; pick again before waiting
            }

            // Nothing steps: a sleep or timeout pending in virtual time is skipped to, not waited for.
            if (_scheduler.InFlight == null && SkipToDeadline()) continue;

            // If every thread is parked in a group-stop, this waits for a SIGCONT from outside or
            // for the kill that a timeout or Ctrl-C sends (RecordingControl).
            long waitStart = Environment.TickCount64;
            _transparency?.Time.ResumeWall();
            int tid = _ptrace.WaitAny(out var status);
            PauseWallIfAllStopped();
            WaitedForOutside(Environment.TickCount64 - waitStart);
            if (tid < 0)
            {
                if (_ptrace.LastError == Errno.ECHILD) { ForgetAll(); return; }
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

    private bool MaxStepsReached()
    {
        if (_options.MaxSteps <= 0 || _pipeline.Writer.Step < _options.MaxSteps) return false;
        _control.RequestStop(StopReason.MaxSteps, $"max steps {_options.MaxSteps} reached");
        return true;
    }

    /// <summary>Every ready native thread runs on to its next system-call stop.</summary>
    private void ResumeNative()
    {
        foreach (var t in _scheduler.TakeNativeReady(_resumeBatch))
        {
            if (t.State != TraceeState.Ready) continue;
            // The kernel restarts an interrupted call itself under PTRACE_SYSCALL (its entry stop follows).
            t.RestartPending = false;
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

    // ---- stops ---------------------------------------------------------------------------

    private void Dispatch(int tid, WaitStatus status)
    {
        if (!_scheduler.TryGet(tid, out var t))
        {
            // A new task can report its first stop before its parent's fork/clone event.
            if (status.Stopped) _early[tid] = status;
            return;
        }
        if (status.Exited || status.Signaled) { Died(t, status); return; }
        if (!status.Stopped) return;
        if (t.SignalMaskLowered) RestoreSignalMask(t);

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

    /// <summary>For interceptors at an entry stop (registers are not read there unless asked).</summary>
    internal bool ReadRegisters(TraceeThread t) => Refresh(t);

    private static void SetRegisters(TraceeThread t, in UserRegs regs)
    {
        t.Raw = regs;
        regs.CopyTo(ref t.Rec.Registers);
    }

    /// <summary>Hands registers an interceptor changed to the kernel and to the recording's view.</summary>
    private bool ApplyRegisters(TraceeThread t)
    {
        if (!_ptrace.SetRegisters(t.Tid, t.Raw)) { Gone(t); return false; }
        SetRegisters(t, t.Raw);
        return true;
    }

    private void ReadyAfterStop(TraceeThread t) => _scheduler.MakeReady(t);

    // ---- stopping ---------------------------------------------------------------------------

    /// <summary>
    /// The stop control's wake-up: the tracer may be blocked in waitpid while the target sleeps in
    /// a system call, so after a grace period (in which a busy tracer stops by itself) the target
    /// tree is killed, which wakes the tracer up. On a thread of its own, not the thread pool: a
    /// busy or starved pool must not delay the stop; and not once the session is over, when the
    /// pids may belong to other processes.
    /// </summary>
    private void WakeOnStop() => new Thread(() =>
    {
        Thread.Sleep(300);
        if (!_finished) KillAll();
    }) { IsBackground = true, Name = "ptrace stop" }.Start();

    /// <summary>Kills every traced process (callable from any thread: only kill(2), no ptrace).</summary>
    private void KillAll()
    {
        if (_shellPid > 0) LibC.Kill(-_shellPid, Signals.SIGKILL);
        foreach (var pid in _knownPids) LibC.Kill(pid, Signals.SIGKILL);
    }

    private void Shutdown()
    {
        if (_scheduler.InFlight is { } f) _pipeline.AbandonStep(f.Rec);
        KillAll();
        // Not a blocking wait: a task the kill did not reach (or whose death is never reported)
        // must not hold the recorder past the limit — the trace is closed with what it has.
        var until = Stopwatch.StartNew();
        while (_scheduler.Count > 0 && until.Elapsed < TimeSpan.FromSeconds(5))
        {
            int tid = _ptrace.WaitAnyNoHang(out var status);
            if (tid < 0) break;
            if (tid == 0) { Thread.Sleep(5); continue; }
            if (_scheduler.TryGet(tid, out var t) && (status.Exited || status.Signaled)) Died(t, status);
        }
        ForgetAll();
    }

    private void ForgetAll()
    {
        foreach (var t in _scheduler.All.ToList())
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

    private TraceeThread AddThread(RecordedProcess process, int tid, TraceeState state, ExecutionStyle? style = null)
    {
        var t = new TraceeThread(new RecordedThread(process, tid), state, style ?? _mode.InitialStyle);
        _scheduler.Add(t);
        process.LiveThreads++;
        return t;
    }

    private void Remove(TraceeThread t)
    {
        _scheduler.Remove(t);
        t.Rec.Process.LiveThreads--;
        foreach (var observer in _hooks.Steps) observer.ThreadGone(t.Tid);
    }

    private void UpdateKnownPids() => _knownPids = _processes.Keys.ToArray();

    /// <summary>Inside the recording: a traced task, or the program's parent shell (the sandbox guard lets the program signal it).</summary>
    private bool IsTraced(int pid) => _scheduler.TryGet(pid, out _) || _processes.ContainsKey(pid) || (pid == _shellPid && pid > 0);
}
