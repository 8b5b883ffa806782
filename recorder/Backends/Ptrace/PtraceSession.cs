using System.Diagnostics;
using Ether.Replay.Formats.Abi;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Recording;
using Ether.Replay.Recorder.Syscalls;
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
internal sealed partial class PtraceSession
{
    private const ulong TrapFlag = 0x100;
    private const ulong CloneVm = LinuxConstants.CLONE_VM, CloneThread = LinuxConstants.CLONE_THREAD, CloneVFork = LinuxConstants.CLONE_VFORK;

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
        int? cpu = _full && _options.BindToOneCpu ? CpuBinding.BindCurrentThread() : null;
        _rootPid = TargetLauncher.Launch(_ptrace, sandbox, program, _options.Sandbox, cpu);
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
        regs.Rax = t.RestartReturn == -Errno.ERESTART_RESTARTBLOCK
            ? (ulong)LinuxSyscallAbi.Of(t.Rec.SyscallAbi).Calls.Number("restart_syscall")
            : regs.OrigRax;
        if (!_ptrace.SetRegisters(t.Tid, regs)) return;
        SetRegisters(t, regs);
        _pipeline.Registers(t.Rec);
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

    // ---- stopping ---------------------------------------------------------------------------

    /// <summary>Kills every traced process (callable from any thread: only kill(2), no ptrace).</summary>
    private void KillAll()
    {
        if (_rootPid > 0) LibC.Kill(-_rootPid, Signals.SIGKILL);
        foreach (var pid in _knownPids) LibC.Kill(pid, Signals.SIGKILL);
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
