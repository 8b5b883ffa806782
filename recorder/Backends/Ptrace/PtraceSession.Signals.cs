using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>Signal stops: the recorder's own single-step traps, signals for the program (with their interceptors), delivery.</summary>
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
            // Our trap moved rip on. One that did not is a rep-string iteration or a jump to itself —
            // or a SIGTRAP the program sent itself (kill) arriving before the instruction ran: ask.
            if (t.Raw.Rip != t.Rec.StepRip)
            {
                CompleteStep(t);
                return;
            }
        }

        if (!_ptrace.GetSignalInfo(t.Tid, out var info)) { Gone(t); return; }

        if (signo == Signals.SIGTRAP && t.State == TraceeState.Stepping)
        {
            if (t.EnteringHandler && info.Code == Signals.SIGTRAP)
            {
                // Stopped at the handler's first instruction: nothing executed (not a step). The
                // kernel wrote the signal frame on the stack.
                t.EnteringHandler = false;
                // The kernel cleared TF for the handler and blocked its signals.
                t.ProgramTrapFlag = false;
                t.SignalMaskKnown = false;
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
        // si_addr (the faulting address) only means something for a fault; for kill()-like signals
        // the same bytes hold the sender's pid.
        ulong address = Sig.IsSynchronousFault(signo) && info.Code > 0 ? info.Addr : 0;
        if (_hooks.Signals.Count > 0)
        {
            if (Intercepted(t, signo, info, address, stepping)) return;
            info = _signalStop.Info; // an interceptor may have replaced it (what the program gets, and what the trace says)
        }
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
        _pipeline.Signal(t.Rec, signo, Sig.Name(signo), info.Code, address, "delivered");
        Deliver(t, signo);
    }

    /// <summary>Signal interceptors; true when one claimed the signal (it is then not recorded nor delivered).</summary>
    private bool Intercepted(TraceeThread t, int signo, in SigInfo info, ulong address, bool stepping)
    {
        var interceptors = _hooks.Signals;
        var stop = _signalStop.Reset(this, t, signo, info, address, stepping && t.Rec.StepPending);
        for (int i = 0; i < interceptors.Count && stop.Verdict == SignalVerdict.Deliver; i++) interceptors[i].OnSignal(stop);
        if (stop.Verdict == SignalVerdict.Deliver)
        {
            // Not claimed; an interceptor that only looked may still have changed registers or the siginfo.
            if (stop.InfoReplaced && !_ptrace.SetSignalInfo(t.Tid, stop.Info)) { Gone(t); return true; }
            return stop.RegistersChanged && !ApplyRegisters(t);
        }

        t.EnteringHandler = false;
        if (stop.Verdict == SignalVerdict.Suppress)
        {
            // The instruction did not complete: it runs again (a new step) once the thread resumes.
            if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
            if (stop.RegistersChanged && !ApplyRegisters(t)) return true;
            ReadyAfterStop(t);
            return true;
        }

        // Emulated: the instruction at rip ran, with the interceptor's registers after it (the
        // recording's view still holds the registers before it). In native style there is no step
        // under way: it becomes a step of its own.
        if (!t.Rec.StepPending) _pipeline.BeginStep(t.Rec);
        if (!ApplyRegisters(t)) return true;
        _pipeline.CompleteStep(t.Rec, t.Rec.Registers);
        if (t.Style == Modes.ExecutionStyle.Stepping && !ObserveStep(t)) return true;
        ReadyAfterStop(t);
        return true;
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
}
