using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.TrapFlag;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>Stepping threads: starting a step, its single-step trap, and system calls the kernel wants to restart.</summary>
internal sealed partial class PtraceSession
{
    private const ulong TrapFlag = 0x100;

    private void StartStep(TraceeThread t)
    {
        if (t.RestartPending && t.PendingSignal == 0 && !HasDeliverableSignal(t.Tid))
            RewindRestart(t);

        var kind = _pipeline.BeginStep(t.Rec);
        if (kind == StepKind.Normal && t.PendingSignal == 0 && !t.ProgramTrapFlag && _transparency is { } layer
            && layer.TryEmulateStep(t.Pid, t.Tid, t.Rec.StepInstruction, t.Raw, out var emulated))
        {
            // rdtsc/rdtscp: answered from the virtual clock, not stepped (one step all the same).
            _scheduler.StepStarted(t);
            EmulatedStep(t, emulated);
            return;
        }
        int signal = TakePendingSignal(t);
        // The program's own TF (not what GETREGS says: see TrapFlagAccount) makes this step's trap its own.
        t.UserTrapFlag = t.ProgramTrapFlag;
        t.EnteringHandler = signal != 0 && t.PendingSignalCaught;
        t.RspBeforeHandler = t.Raw.Rsp;
        t.TrapFlagAfterStep = t.EnteringHandler ? null : TrapFlagAccount.AfterStep(t.Rec.StepInstruction, t.Raw.Rsp, ReadQword(t));

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
            if (!t.EnteringHandler && !UnblockTrapForStep(t)) return;
            ok = _ptrace.SingleStep(t.Tid, signal);
            t.State = TraceeState.Stepping;
        }
        if (!ok)
        {
            _pipeline.AbandonStep(t.Rec);
            Gone(t);
            return;
        }
        _scheduler.StepStarted(t);
    }

    /// <summary>A system call returned -ERESTART*: remembered when the thread steps (it rewinds itself, below).</summary>
    private static bool IsRestart(long ret) => ret < 0 && ret > int.MinValue && Errno.IsRestart((int)-ret);

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
        if (!HideTrapFlag(t)) return;
        _pipeline.CompleteStep(rec, rec.Registers);
        if (t.Raw.OrigRax != ulong.MaxValue && rec.StepInstruction.Mnemonic != Mnemonic.Syscall)
            _pipeline.Annotate(t.Pid, t.Tid, "ptrace", $"a system call ({(long)t.Raw.OrigRax}) ran inside a single step at {rec.StepRip:x}; its entry and exit were not seen");
        if (rec.StepInstruction.Mnemonic == Mnemonic.Int1)
        {
            // icebp: natively the program gets one SIGTRAP (TRAP_BRKPT, si_addr past it); stepped, its
            // trap and ours are one and the same stop, with an ordinary step's si_code.
            DeliverTrap(t, SigCode.TrapBreakpoint, t.Raw.Rip);
            return;
        }
        if (t.UserTrapFlag)
        {
            // The program set TF itself (pushf/popf): natively it gets SIGTRAP after this
            // instruction. Our ptrace trap is that same trap (same siginfo); deliver it, or the program notices.
            _pipeline.Signal(rec, Signals.SIGTRAP, Sig.Name(Signals.SIGTRAP), SigCode.TrapTrace, t.Raw.Rip, "delivered");
            Deliver(t, Signals.SIGTRAP);
            return;
        }
        if (!ObserveStep(t)) return;
        ReadyAfterStop(t);
    }

    /// <summary>Step observers see the thread after each completed step; false if they made it go away.</summary>
    private bool ObserveStep(TraceeThread t)
    {
        var observers = _hooks.Steps;
        if (observers.Count == 0) return true;
        var stop = _stepStop.Reset(this, t);
        for (int i = 0; i < observers.Count; i++) observers[i].AfterStep(stop);
        if (!stop.RegistersChanged) return true;
        if (!ApplyRegisters(t)) return false;
        _pipeline.Registers(t.Rec);
        return true;
    }
}
