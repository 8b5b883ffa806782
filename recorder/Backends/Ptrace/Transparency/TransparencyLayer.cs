using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Affinity;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.PtraceEmulation;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Vdso;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency;

/// <summary>
/// Everything that keeps the recorded program from telling that it is recorded, plugged into the
/// session as one component (docs/transparency.md): the tracer hidden in /proc
/// (<see cref="ProcReadInterceptor"/>, <see cref="TaskStatusRewriter"/>, <see cref="UptimeRewriter"/>),
/// the program's own ptrace use emulated (<see cref="EmulatedPtrace"/>), the recorder's CPU pinning
/// hidden (<see cref="AffinityHider"/>), and virtual time (<see cref="TimeKeeper"/>,
/// <see cref="TimeCalls"/>, <see cref="TscEmulation"/>, <see cref="VdsoPatch"/>). The trap-flag and
/// signal fidelity of single-stepping lives in the session itself (PtraceSession.TrapFlag).
/// Tracer thread only.
/// </summary>
internal sealed class TransparencyLayer : ISyscallInterceptor, ISignalInterceptor, IStepObserver, ITaskFacts, IEmulationHost
{
    private const int SIGSEGV = 11, SIGALRM = 14, SiKernel = 0x80, SiUser = 0;

    private readonly ITransparencyHost _host;
    private readonly SyscallStopView _view = new();
    private readonly int _recorderPid = Environment.ProcessId;
    private bool _tscTrapped;

    public ProcReadInterceptor ProcFiles { get; }
    public EmulatedPtrace Ptrace { get; }
    public AffinityHider? Affinity { get; }
    public TimeKeeper Time { get; }

    /// <summary>The x86-64 system-call table (32-bit calls are not handled: docs/transparency.md).</summary>
    private static readonly LinuxSyscallAbi Calls = LinuxSyscallAbi.X86_64;
    public TimeCalls TimeCalls { get; }

    public TransparencyLayer(ITransparencyHost host, long instructionsPerSecond)
    {
        _host = host;
        var launch = host.Launched;
        int cpus = launch.ShellAffinity.Sum(w => System.Numerics.BitOperations.PopCount(w));
        Time = new TimeKeeper(new VirtualClock(ClockBases.Now(), instructionsPerSecond, cpus > 0 ? cpus : Environment.ProcessorCount));
        TimeCalls = new TimeCalls(Time, host, cpuClocksVirtual: !host.RunsNatively, trapsTsc: host.RunsNatively);
        ProcFiles = new ProcReadInterceptor(host.ParentOf);
        ProcFiles.Add(new TaskStatusRewriter(this));
        ProcFiles.Add(new UptimeRewriter(() => Time.Clock.BoottimeNs, () => Time.Clock.ElapsedNs, Time.Clock.Cpus));
        if (host.KeepsImaginaryProtections) ProcFiles.Add(new ImaginaryMapsRewriter(host.ImaginaryPages));
        Ptrace = new EmulatedPtrace(this);
        if (launch.Cpu is not null && launch.ShellAffinity.Length > 0)
        {
            var (mask, list) = StatusAffinity(launch.ShellPid);
            Affinity = new AffinityHider(launch.ShellAffinity, mask, list) { IsOurs = tid => host.Task(tid) is not null };
        }
    }

    /// <summary>The parent shell's "Cpus_allowed" and "Cpus_allowed_list", in the kernel's own format.</summary>
    private static (string?, string?) StatusAffinity(int pid)
    {
        try
        {
            string? mask = null, list = null;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Cpus_allowed:", StringComparison.Ordinal)) mask = line[13..].Trim();
                else if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)) list = line[18..].Trim();
            }
            return (mask, list);
        }
        catch (IOException) { return (null, null); }
    }

    // ---- system calls --------------------------------------------------------------------------

    public void OnEntry(SyscallStop stop)
    {
        if (stop.Compat || stop.Skipped) return; // 32-bit calls: not handled (docs/transparency.md); refused calls stay refused
        if (stop.Style == ExecutionStyle.Native) Time.FollowNative(_host);
        var call = _view.Bind(stop);
        if (Ptrace.OnEntry(call)) return;
        TimeCalls.OnEntry(call);
        ProcFiles.OnEntry(call);
    }

    public void OnExit(SyscallStop stop)
    {
        if (stop.Style == ExecutionStyle.Native) Time.FollowNative(_host);
        else Time.Step(stop.Tid, stop.Pid, _host.RunnableStepping); // the syscall instruction is one instruction too
        if (stop.Compat) return;
        var call = _view.Bind(stop);
        long nr = stop.Number, ret = stop.Return;
        if (ret > 0 && Calls.Has(nr, SyscallTraits.CreatesTask)) Created(stop, (int)ret);
        if (ret == 0 && Calls.Has(nr, SyscallTraits.Exec)) Execed(stop);
        TimeCalls.OnExit(call, Time.Thread(stop.Tid, stop.Pid));
        ProcFiles.OnExit(call);
        Affinity?.OnExit(call);
        if (ret == 0 && Calls.Has(nr, SyscallTraits.SignalsProcess)) Time.FireDue(_host); // a signal sent may end a held sleep
    }

    /// <summary>fork/vfork/clone returned a new task: its clocks start now; a new process keeps its parent's TSC mode.</summary>
    private void Created(SyscallStop stop, int child)
    {
        bool thread = (stop.CloneFlags & 0x10000) != 0;
        if (thread) Time.Thread(child, stop.Pid);
        else
        {
            Time.Process(child);
            TimeCalls.Forked(stop.Pid, child);
        }
    }

    /// <summary>A new program image: its vDSO time functions become system calls; rdtsc of native runs traps (once: the mode survives exec and fork).</summary>
    private void Execed(SyscallStop stop)
    {
        VdsoRedirect.Apply(stop);
        if (_host.RunsNatively && !_tscTrapped && stop.TrySyscall(157, out long r, 26 /* PR_SET_TSC */, 2 /* PR_TSC_SIGSEGV */) && r == 0)
            _tscTrapped = true;
    }

    // ---- instructions and signals --------------------------------------------------------------

    /// <summary>
    /// Before a stepping thread's step: rdtsc/rdtscp is not stepped but answered from the virtual
    /// clock (unless the program made rdtsc fault itself). True with the registers after it.
    /// </summary>
    public bool TryEmulateStep(int pid, int tid, in Instruction insn, in UserRegs before, out UserRegs after)
    {
        after = default;
        bool rdtscp = insn.Mnemonic == Mnemonic.Rdtscp;
        if (!rdtscp && insn.Mnemonic != Mnemonic.Rdtsc) return false;
        if (TimeCalls.TscMode(pid) != 1) return false;
        after = TscEmulation.After(before, Time.Clock.Tsc, rdtscp, TscEmulation.Aux(CpuOf(tid)), insn.Length);
        return true;
    }

    private int CpuOf(int tid) => _host.Launched.Cpu ?? TscEmulation.CpuOf(tid);

    public void OnSignal(SignalStop stop)
    {
        if (stop.Signo == SIGSEGV && stop.Code == SiKernel && _tscTrapped && TimeCalls.TscMode(stop.Pid) == 1)
        {
            // rdtsc under the recorder's PR_TSC_SIGSEGV (a thread running natively: time follows the wall clock).
            if (stop.Style == ExecutionStyle.Native) Time.FollowNative(_host);
            Span<byte> code = stackalloc byte[3];
            int n = stop.ReadMemory(stop.Registers.Rip, code);
            if (TscEmulation.Recognise(code[..n], out int length, out bool rdtscp))
                stop.Emulate(TscEmulation.After(stop.Registers, Time.Clock.Tsc, rdtscp, TscEmulation.Aux(CpuOf(stop.Tid)), length));
            return;
        }
        if (stop.Signo == SIGALRM && stop.Code == SiUser && stop.Info.Pid == _recorderPid)
        {
            // Our virtual ITIMER_REAL: the program gets what the kernel's timer sends (SI_KERNEL, no sender).
            var info = stop.Info;
            info.Code = SiKernel;
            info.Addr = 0;
            stop.ReplaceInfo(info);
        }
    }

    public void AfterStep(ThreadStop stop)
    {
        Time.Step(stop.Tid, stop.Pid, _host.RunnableStepping);
        if (Time.Clock.ElapsedNs >= Time.DueAtNs) Time.FireDue(_host);
    }

    /// <summary>A process of the recording is gone (its wait status as the kernel reports it).</summary>
    public void ProcessExited(int pid, int parentPid, int waitStatus)
    {
        Ptrace.ProcessExited(pid, waitStatus);
        ProcFiles.ProcessGone(pid);
        Time.ProcessExited(pid, parentPid);
        Time.FireDue(_host); // a parent's held sleep ends on its SIGCHLD if it catches it
    }

    public void ThreadExited(int tid)
    {
        Affinity?.Forget(tid);
        Time.ThreadExited(tid);
    }

    // ---- what the program's /proc files say about traced tasks -------------------------------------

    public TaskFacts? Describe(int tid, bool wholeProcess, ProcReader reader)
    {
        if (_host.Task(tid) is not { } task) return null;
        ApparentState state;
        if (tid == reader.Tid) state = ApparentState.Running;           // reading its own file: it is running
        else if (Ptrace.IsStopped(task.Pid)) state = ApparentState.TracingStop;
        else state = task.Place switch
        {
            TaskPlace.GroupStopped => ApparentState.Stopped,
            TaskPlace.InSyscall => ApparentState.Sleeping,              // blocked in the kernel, or held in a sleep
            _ => ApparentState.Running,
        };
        bool hidden = Affinity is { } a && a.Hidden(tid);
        var process = Time.FindProcess(task.Pid);
        var thread = Time.FindThread(tid);
        long? cpu = _host.RunsNatively ? null : wholeProcess ? process?.CpuPs / 1000 : thread?.CpuPs / 1000;
        long? start = wholeProcess ? process?.StartBoottimeNs : thread?.StartBoottimeNs;
        return new TaskFacts(state, Ptrace.TracerOf(task.Pid), cpu, (process?.ChildrenCpuPs ?? 0) / 1000, start,
            hidden ? Affinity!.StatusMask : null, hidden ? Affinity!.StatusList : null);
    }

    // ---- the program's own debugger -----------------------------------------------------------

    public bool IsInRecording(int pid) => _host.IsProcess(pid);
    public int ParentOf(int pid) => _host.ParentOf(pid);

    public bool TryGetRegisters(int tid, Span<ulong> userRegs)
    {
        if (!_host.TryGetRegisters(tid, out var r)) return false;
        ulong[] words = [r.R15, r.R14, r.R13, r.R12, r.Rbp, r.Rbx, r.R11, r.R10, r.R9, r.R8, r.Rax, r.Rcx, r.Rdx, r.Rsi, r.Rdi,
            r.OrigRax, r.Rip, r.Cs, r.Eflags & ~0x100UL, r.Rsp, r.Ss, r.FsBase, r.GsBase, r.Ds, r.Es, r.Fs, r.Gs];
        words.AsSpan(0, Math.Min(words.Length, userRegs.Length)).CopyTo(userRegs);
        return true;
    }

    public int ReadMemory(int pid, ulong address, Span<byte> into) => _host.ReadMemory(pid, address, into);
    public bool WriteMemory(int pid, ulong address, ReadOnlySpan<byte> bytes) => _host.WriteMemory(pid, address, bytes);
    public void SetStopped(int pid, bool stopped) => _host.Hold(pid, stopped);
    public void Signal(int pid, int signo) => LibC.Kill(pid, signo);
}
