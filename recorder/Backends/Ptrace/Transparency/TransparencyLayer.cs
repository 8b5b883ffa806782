using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Affinity;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.PtraceEmulation;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency;

/// <summary>
/// Everything that keeps the recorded program from telling that it is recorded, plugged into the
/// session as one interceptor (docs/transparency.md): the tracer hidden in /proc
/// (<see cref="ProcReadInterceptor"/>, <see cref="TaskStatusRewriter"/>), the program's own ptrace
/// use emulated (<see cref="EmulatedPtrace"/>), the recorder's CPU pinning hidden
/// (<see cref="AffinityHider"/>). The trap-flag and signal fidelity of single-stepping lives in the
/// session itself (PtraceSession.TrapFlag). Tracer thread only.
/// </summary>
internal sealed class TransparencyLayer : ISyscallInterceptor, ITaskFacts, IEmulationHost
{
    private readonly ITransparencyHost _host;
    private readonly SyscallStopView _view = new();

    public ProcReadInterceptor ProcFiles { get; }
    public EmulatedPtrace Ptrace { get; }
    public AffinityHider? Affinity { get; }

    public TransparencyLayer(ITransparencyHost host)
    {
        _host = host;
        ProcFiles = new ProcReadInterceptor(host.ParentOf);
        ProcFiles.Add(new TaskStatusRewriter(this));
        Ptrace = new EmulatedPtrace(this);
        var launch = host.Launched;
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

    // ---- interception ------------------------------------------------------------------------

    public void OnEntry(SyscallStop stop)
    {
        if (stop.Compat || stop.Skipped) return; // 32-bit calls: not handled (docs/transparency.md); refused calls stay refused
        var call = _view.Bind(stop);
        if (Ptrace.OnEntry(call)) return;
        ProcFiles.OnEntry(call);
    }

    public void OnExit(SyscallStop stop)
    {
        if (stop.Compat) return;
        var call = _view.Bind(stop);
        ProcFiles.OnExit(call);
        Affinity?.OnExit(call);
    }

    /// <summary>A process of the recording is gone (its wait status as the kernel reports it).</summary>
    public void ProcessExited(int pid, int waitStatus)
    {
        Ptrace.ProcessExited(pid, waitStatus);
        ProcFiles.ProcessGone(pid);
    }

    public void ThreadExited(int tid) => Affinity?.Forget(tid);

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
            TaskPlace.InSyscall => ApparentState.Sleeping,              // blocked in the kernel (if the kernel says it is stopped: our stop)
            _ => ApparentState.Running,
        };
        bool hidden = Affinity is { } a && a.Hidden(tid);
        return new TaskFacts(state, Ptrace.TracerOf(task.Pid), CpuNs: null, ChildrenCpuNs: 0, StartBoottimeNs: null,
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
    public void Signal(int pid, int signo) => Native.LibC.Kill(pid, signo);
}
