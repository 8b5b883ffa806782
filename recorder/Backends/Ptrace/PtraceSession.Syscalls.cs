using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>System-call entry and exit stops (with their interceptors), and the prologue's exec.</summary>
internal sealed partial class PtraceSession
{
    private const ulong CloneVm = LinuxConstants.CLONE_VM, CloneThread = LinuxConstants.CLONE_THREAD, CloneVFork = LinuxConstants.CLONE_VFORK;

    private void OnSyscallStop(TraceeThread t)
    {
        if (!_ptrace.GetSyscallInfo(t.Tid, out var info)) { Gone(t); return; }
        if (t.State == TraceeState.Prologue) { OnPrologueSyscall(t, info); return; }

        if (info.Op == PtraceSyscallInfo.OpEntry) { OnSyscallEntry(t, info); return; }
        if (info.Op == PtraceSyscallInfo.OpExit) { OnSyscallExit(t, info.ExitRval); return; }

        // Op none: a stop we did not ask for (should not happen with TRACESYSGOOD); go on.
        if (!Refresh(t)) return;
        ReadyAfterStop(t);
    }

    private void OnSyscallEntry(TraceeThread t, in PtraceSyscallInfo info)
    {
        if (t.State == TraceeState.EnteringSyscall) _pipeline.CommitInstruction(t.Rec);
        t.RestartPending = false;
        if (t.Style == ExecutionStyle.Native || t.State == TraceeState.Running)
        {
            // A native thread's step is its system call (also one made to step while it ran: its native stretch ends here).
            if (MaxStepsReached()) return;
            _pipeline.Tick();
        }
        bool compat = info.Arch == PtraceSyscallInfo.ArchI386;
        Span<ulong> args = stackalloc ulong[6];
        unsafe { for (int i = 0; i < 6; i++) args[i] = info.EntryArgs[i]; }
        long nr = (long)info.EntryNr;
        _pipeline.SyscallEntry(t.Rec, compat, nr, args);
        t.CloneFlags = CloneFlagsOf(t, compat, nr, args);
        InterceptEntry(t, compat);
        _scheduler.Landed(t);
        t.State = TraceeState.InSyscall;
        if (t.HeldInSyscall) return; // a sleep in virtual time: released later (ITimeHost.ReleaseSyscall)
        t.SyscallEnteredAt = Environment.TickCount64;
        Resume(t, _ptrace.ResumeToSyscall(t.Tid));
    }

    /// <summary>Entry interceptors, then what they asked for: a skipped call (orig_rax = -1 makes the
    /// kernel run nothing; the exit stop supplies the result) or rewritten argument registers.</summary>
    private void InterceptEntry(TraceeThread t, bool compat)
    {
        t.SkipSyscall = false;
        t.ArgsRewritten = false;
        var interceptors = _hooks.Syscalls;
        var stop = _syscallStop.ResetEntry(this, t);
        for (int i = 0; i < interceptors.Count; i++) interceptors[i].OnEntry(stop);
        if (!t.SkipSyscall && !t.ArgsRewritten && !stop.RegistersChanged) return;

        if (!stop.RegistersChanged && !Refresh(t)) return;
        var regs = t.Raw;
        if (t.SkipSyscall) regs.OrigRax = ulong.MaxValue;
        if (t.ArgsRewritten) SyscallStop.SetArgumentRegisters(ref regs, compat, stop.KernelArgs);
        if (!_ptrace.SetRegisters(t.Tid, regs)) { Gone(t); return; }
        SetRegisters(t, regs);
    }

    private void OnSyscallExit(TraceeThread t, long kernelReturn)
    {
        if (!Refresh(t)) return;
        var rec = t.Rec;
        // The call ran without our TF: the flags here are the program's own (after sigreturn, the frame's).
        t.ProgramTrapFlag = (t.Raw.Eflags & TrapFlag) != 0;
        if (LinuxSyscallAbi.Of(rec.SyscallAbi).Has(rec.SyscallNumber, SyscallTraits.ChangesSignalMask)) t.SignalMaskKnown = false;
        long ret = kernelReturn;
        bool changed = false;
        if (t.SkipSyscall)
        {
            t.SkipSyscall = false;
            ret = t.SkipResult;
            t.Raw.Rax = unchecked((ulong)ret);
            changed = true;
        }
        if (t.ArgsRewritten)
        {
            // The kernel leaves argument registers as it got them: give the program its own back.
            t.ArgsRewritten = false;
            SyscallStop.SetArgumentRegisters(ref t.Raw, rec.SyscallAbi == SyscallTables.LinuxI386Abi, rec.SyscallArgs);
            changed = true;
        }

        if (rec.InSyscall && _hooks.Syscalls.Count > 0)
        {
            var interceptors = _hooks.Syscalls;
            var stop = _syscallStop.ResetExit(this, t, ret);
            for (int i = 0; i < interceptors.Count; i++) interceptors[i].OnExit(stop);
            if (stop.ReturnChanged)
            {
                ret = stop.Return;
                t.Raw.Rax = unchecked((ulong)ret);
            }
            changed |= stop.ReturnChanged || stop.RegistersChanged;
        }
        if (changed && !ApplyRegisters(t)) return;

        if (rec.InSyscall) _pipeline.SyscallExit(rec, ret, rec.Registers);
        else _pipeline.Registers(rec);
        if (t.Style == ExecutionStyle.Stepping && IsRestart(ret))
        {
            t.RestartPending = true;
            t.RestartReturn = ret;
        }
        ReadyAfterStop(t);
    }

    private void OnPrologueSyscall(TraceeThread t, in PtraceSyscallInfo info)
    {
        if (info.Op == PtraceSyscallInfo.OpEntry)
        {
            bool compat = info.Arch == PtraceSyscallInfo.ArchI386;
            long nr = (long)info.EntryNr;
            if (!compat && LinuxSyscallAbi.X86_64.Has(nr, SyscallTraits.Exec))
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

    private ulong CloneFlagsOf(TraceeThread t, bool compat, long nr, ReadOnlySpan<ulong> args)
    {
        var calls = LinuxSyscallAbi.Of(compat);
        if (!calls.Has(nr, SyscallTraits.CreatesTask)) return 0;
        switch (calls.Calls.Name(nr))
        {
            case "clone": return args[0];         // clone(flags, ...)
            case "clone3":                        // clone3(struct clone_args *, size): flags is the first u64
                Span<byte> b = stackalloc byte[8];
                return t.Rec.Process.Memory.Read(args[0], b) == 8 ? BitConverter.ToUInt64(b) : 0;
            case "vfork": return CloneVm | CloneVFork;
            default: return 0;                    // fork
        }
    }

    /// <summary>A signal arrived while a remote system call ran in <paramref name="t"/>: recorded, and delivered at its next resume.</summary>
    private void SignalDuringRemoteCall(TraceeThread t, int signo, SigInfo info)
    {
        ulong address = Sig.IsSynchronousFault(signo) && info.Code > 0 ? info.Addr : 0;
        _pipeline.Signal(t.Rec, signo, Sig.Name(signo), info.Code, address, "delivered");
        if (t.PendingSignal != 0)
        {
            _pipeline.Annotate(t.Pid, t.Tid, "ptrace", $"{Sig.Name(signo)} arrived while {Sig.Name(t.PendingSignal)} was pending delivery; only one is delivered");
            return;
        }
        t.PendingSignal = signo;
        t.PendingSignalCaught = IsCaught(t.Tid, signo);
    }
}
