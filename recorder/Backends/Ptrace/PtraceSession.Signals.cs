using Ether.Replay.Formats.Abi;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Recording;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>Single-step traps and signal-delivery stops: what ran, what the program gets, restarts.</summary>
internal sealed partial class PtraceSession
{
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


    // -- single-step traps and signals --

    private void OnSignalStop(TraceeThread t, int signo)
    {
        if (t.State == TraceeState.Prologue)
        {
            // The shell before exec (e.g. the SIGCONT that woke it): pass it on, record nothing.
            Resume(t, _ptrace.ResumeToSyscall(t.Tid, signo));
            return;
        }

        if (signo == Signals.SIGTRAP && t.State == TraceeState.Stepping && !NeedsSignalInfo(t))
        {
            if (!Refresh(t)) return;
            CompleteStep(t);
            return;
        }

        if (!_ptrace.GetSignalInfo(t.Tid, out var info)) { Gone(t); return; }

        if (signo == Signals.SIGTRAP && t.State == TraceeState.Stepping)
        {
            if (t.EnteringHandler && info.Code == Signals.SIGTRAP)
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
            _pipeline.Signal(rec, Signals.SIGTRAP, Sig.Name(Signals.SIGTRAP), SigCode.TrapTrace, rec.StepRip, "delivered");
            Deliver(t, Signals.SIGTRAP);
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
}
