using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>The session as the transparency layer sees it (<see cref="ITransparencyHost"/>).</summary>
internal sealed partial class PtraceSession : ITransparencyHost
{
    private TransparencyLayer? _transparency;

    /// <summary>Registers the transparency layer after the mode's components (called once the launch is known).</summary>
    private void AttachTransparency()
    {
        if (!_options.Transparent) return;
        _transparency = new TransparencyLayer(this, _options.ClockRate);
        _hooks.Add(_transparency);
    }

    (int Pid, TaskPlace Place)? ITransparencyHost.Task(int tid)
    {
        if (!_scheduler.TryGet(tid, out var t)) return null;
        var place = t.State switch
        {
            TraceeState.InSyscall => TaskPlace.InSyscall,
            TraceeState.GroupStopped => TaskPlace.GroupStopped,
            _ => TaskPlace.Running,
        };
        return (t.Pid, place);
    }

    bool ITransparencyHost.IsProcess(int pid) => _processes.ContainsKey(pid);

    bool ITransparencyHost.KeepsImaginaryProtections => _mode.KeepsImaginaryProtections;

    Unpacking.WxPages? ITransparencyHost.ImaginaryPages(int pid) => _processes.TryGetValue(pid, out var p) ? p.Space.WxPages : null;

    int ITransparencyHost.ParentOf(int pid) => _processes.TryGetValue(pid, out var p) ? p.ParentPid : 0;

    IEnumerable<int> ITransparencyHost.ThreadsOf(int pid) => _scheduler.All.Where(t => t.Pid == pid).Select(t => t.Tid).ToList();

    bool ITransparencyHost.TryGetRegisters(int tid, out UserRegs regs)
    {
        regs = default;
        if (!_scheduler.TryGet(tid, out var t)) return false;
        regs = t.Raw;
        return true;
    }

    int ITransparencyHost.ReadMemory(int pid, ulong address, Span<byte> into) =>
        _processes.TryGetValue(pid, out var p) ? p.Memory.Read(address, into) : 0;

    bool ITransparencyHost.WriteMemory(int pid, ulong address, ReadOnlySpan<byte> bytes)
    {
        if (!_processes.TryGetValue(pid, out var p)) return false;
        if (_ptrace.WriteMemory(pid, address, bytes) == bytes.Length) { p.Space.NoteWrite(address, bytes.Length); return true; }
        // Read-only pages (PTRACE_POKETEXT writes code): /proc/<pid>/mem writes through protections,
        // whatever state the process's threads are in.
        try
        {
            using var mem = new FileStream($"/proc/{pid}/mem", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
            mem.Seek((long)address, SeekOrigin.Begin);
            mem.Write(bytes);
            p.Space.NoteWrite(address, bytes.Length);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    void ITransparencyHost.Hold(int pid, bool held)
    {
        foreach (var t in _scheduler.Hold(pid, held))
            if (held && t.State == TraceeState.Running && !_ptrace.Interrupt(t.Tid)) Gone(t); // native threads stop where they are
    }

    // ---- virtual time ----------------------------------------------------------------------------

    int ITransparencyHost.RunnableStepping
    {
        get
        {
            int n = 0;
            foreach (var t in _scheduler.All)
                if (t.Style == Modes.ExecutionStyle.Stepping && t.State is TraceeState.Ready or TraceeState.Stepping or TraceeState.EnteringSyscall && !_scheduler.IsHeld(t)) n++;
            return n;
        }
    }

    bool ITransparencyHost.RunsNatively => _mode.InitialStyle == Modes.ExecutionStyle.Native;

    void Transparency.Time.ITimeHost.HoldInSyscall(int tid)
    {
        if (_scheduler.TryGet(tid, out var t)) t.HeldInSyscall = true;
    }

    void Transparency.Time.ITimeHost.ReleaseSyscall(int tid)
    {
        if (!_scheduler.TryGet(tid, out var t) || !t.HeldInSyscall) return;
        t.HeldInSyscall = false;
        if (!_ptrace.ResumeToSyscall(t.Tid)) Gone(t);
    }

    void Transparency.Time.ITimeHost.Interrupt(int tid)
    {
        if (_scheduler.TryGet(tid, out var t) && t.State == TraceeState.InSyscall && !t.HeldInSyscall) _ptrace.Interrupt(tid);
    }

    bool Transparency.Time.ITimeHost.CaughtSignalPending(int tid)
    {
        ulong pending = (ProcFs.StatusMask(tid, "SigPnd") ?? 0) | (ProcFs.StatusMask(tid, "ShdPnd") ?? 0);
        ulong blocked = ProcFs.StatusMask(tid, "SigBlk") ?? 0;
        ulong caught = ProcFs.StatusMask(tid, "SigCgt") ?? 0;
        return (pending & ~blocked & caught) != 0;
    }

    void Transparency.Time.ITimeHost.Alarm(int pid) => LibC.Kill(pid, Signals.SIGALRM);

    int Transparency.Time.ITimeHost.RunningNatively
    {
        get
        {
            int n = 0;
            foreach (var t in _scheduler.All)
                if (t.State == TraceeState.Running) n++;
            return n;
        }
    }

    /// <summary>An instruction the recorder carried out itself (rdtsc): recorded as a step with <paramref name="after"/>.</summary>
    private void EmulatedStep(TraceeThread t, in UserRegs after)
    {
        t.Raw = after;
        if (!ApplyRegisters(t)) return;
        _pipeline.CompleteStep(t.Rec, t.Rec.Registers);
        if (!ObserveStep(t)) return;
        ReadyAfterStop(t);
    }

    /// <summary>
    /// Nothing can step: when a virtual deadline is pending (a sleep, a timeout, a timer), time
    /// jumps to it instead of being waited for — once no thread runs natively and no stop is on its
    /// way (a short grace for wake-ups already in flight in the kernel). True when it did something
    /// (the loop then looks again); false when the loop should wait for the next stop.
    /// </summary>
    private bool SkipToDeadline()
    {
        if (_transparency is not { } layer || layer.Time.NextDeadlineNs is not { } deadline) return false;
        var time = layer.Time;
        bool nativeRunning = _scheduler.All.Any(t => t.State == TraceeState.Running);
        if (!nativeRunning && AboutToStop())
        {
            // A thread in a call that does not wait (or one the recorder answered itself) is still
            // running: its exit stop is on its way, however slowly a loaded machine delivers it.
            DrainOneStop(TimeSpan.FromMilliseconds(1));
            return true;
        }
        if (nativeRunning)
        {
            // Native threads: virtual time follows the CPU time they use; wait (briefly) for a stop or the deadline.
            time.FollowNative(this);
            if (time.Clock.ElapsedNs >= deadline) { time.FireDue(this); return true; }
            if (DrainOneStop(TimeSpan.FromMilliseconds(1))) return true;
            time.FollowNative(this);
            if (time.Clock.ElapsedNs >= deadline) time.FireDue(this);
            return true;
        }
        if (DrainOneStop(TimeSpan.FromMilliseconds(2))) return true;
        time.SkipTo(deadline);
        time.FireDue(this);
        return true;
    }

    /// <summary>
    /// Some thread will stop by itself soon, so virtual time must not jump yet: one starting (its
    /// first stop is due), or in a system call that does not wait (the table's Blocks trait) or that
    /// the recorder skipped — for at most <see cref="BusyCallMs"/> (a call that waits although the
    /// table does not say so, opening a FIFO say, must not keep a timer from expiring).
    /// </summary>
    private bool AboutToStop()
    {
        long now = Environment.TickCount64;
        foreach (var t in _scheduler.All)
        {
            if (t.State == TraceeState.Starting) return true;
            if (t.State != TraceeState.InSyscall || t.HeldInSyscall || now - t.SyscallEnteredAt > BusyCallMs) continue;
            if (t.SkipSyscall || !LinuxSyscallAbi.Of(t.Rec.SyscallAbi).Has(t.Rec.SyscallNumber, SyscallTraits.Blocks)) return true;
        }
        return false;
    }

    private const long BusyCallMs = 500;

    /// <summary>Waits up to <paramref name="grace"/> for a stop and dispatches it; false when none came.</summary>
    private bool DrainOneStop(TimeSpan grace)
    {
        long until = Environment.TickCount64 + (long)Math.Ceiling(grace.TotalMilliseconds);
        _transparency?.Time.ResumeWall();
        while (true)
        {
            int tid = _ptrace.WaitAnyNoHang(out var status);
            if (tid > 0)
            {
                PauseWallIfAllStopped();
                if (Debug) Console.Error.WriteLine($"[ptrace] {tid}: {status}");
                Dispatch(tid, status);
                return true;
            }
            if (tid < 0 || Environment.TickCount64 >= until) { PauseWallIfAllStopped(); return false; }
            Thread.Sleep(0);
            Thread.SpinWait(200);
        }
    }

    /// <summary>
    /// The loop waited <paramref name="ms"/> for a stop with nothing stepping: when no thread runs
    /// natively either, the program was waiting for the outside world (input, a peer), and that time
    /// passes in virtual time too (waits of a second and more: shorter ones are the recorder's latency).
    /// </summary>
    private void WaitedForOutside(long ms)
    {
        if (ms < OutsideWaitMs || _transparency is not { } layer || _scheduler.InFlight != null) return;
        // Where threads run natively, virtual time follows their CPU time and waits of a second or more anyway (FollowNative): counting the wait too would put it ahead.
        if (_mode.InitialStyle == Modes.ExecutionStyle.Native || _scheduler.All.Any(t => t.State == TraceeState.Running)) return;
        layer.Time.Clock.Advance(ms * 1_000_000);
    }

    /// <summary>Waits shorter than this are the recorder's own latency (a loaded machine can take tens of milliseconds to hand over a stop), not the outside world's.</summary>
    private const long OutsideWaitMs = 1000;

    /// <summary>A stop arrived: if no thread runs natively now, the recorder holds them all and the wall clock stops counting for virtual time.</summary>
    private void PauseWallIfAllStopped()
    {
        if (_transparency is not { } layer) return;
        foreach (var t in _scheduler.All)
            if (t.State == TraceeState.Running) return;
        layer.Time.PauseWall();
    }
}
