using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>What becomes of a signal an interceptor looked at.</summary>
internal enum SignalVerdict
{
    /// <summary>Not claimed: recorded and delivered to the program as usual.</summary>
    Deliver,
    /// <summary>Claimed and dropped: the program never sees it; the interrupted instruction runs (again) on resume.</summary>
    Suppress,
    /// <summary>Claimed: the instruction at rip counts as executed, with the registers the interceptor set (rip moved past it).</summary>
    Emulated,
}

/// <summary>
/// A signal meant for the program (<see cref="ISignalInterceptor"/>), before it is recorded or
/// delivered. Registers are the ones at the stop (rip at the faulting instruction for a fault).
/// </summary>
internal sealed class SignalStop : ThreadStop
{
    public int Signo { get; private set; }
    /// <summary>si_code: SEGV_MAPERR/SEGV_ACCERR, SI_KERNEL, SI_USER, ...</summary>
    public int Code { get; private set; }
    /// <summary>si_addr for faults (the address that faulted); 0 for signals sent by a process.</summary>
    public ulong Address { get; private set; }
    public SigInfo Info { get; private set; }
    /// <summary>A single step of this thread was under way (stepping style): the instruction at
    /// <see cref="Pipeline.RecordedThread.StepRip"/> raised the signal or was interrupted by it.</summary>
    public bool DuringStep { get; private set; }
    public SignalVerdict Verdict { get; private set; }

    /// <summary>The siginfo the program gets with the signal (if unclaimed), when an interceptor replaced it (PTRACE_SETSIGINFO).</summary>
    public bool InfoReplaced { get; private set; }

    /// <summary>Delivers the signal with <paramref name="info"/> instead (e.g. the si_code a native sender would have given it).</summary>
    public void ReplaceInfo(in SigInfo info)
    {
        Info = info;
        Code = info.Code;
        InfoReplaced = true;
    }

    /// <summary>The program does not get the signal; the thread resumes where its registers say.</summary>
    public void Suppress() => Verdict = SignalVerdict.Suppress;

    /// <summary>
    /// The instruction at rip is done by the recorder: the thread resumes with
    /// <paramref name="after"/> (rip past the instruction), the program does not get the signal,
    /// and the trace records the instruction as a step with these registers (in native style too:
    /// then it is a step of its own).
    /// </summary>
    public void Emulate(in UserRegs after)
    {
        SetRegisters(after);
        Verdict = SignalVerdict.Emulated;
    }

    internal SignalStop Reset(PtraceSession session, TraceeThread t, int signo, in SigInfo info, ulong address, bool duringStep)
    {
        Reset(session, t, registersKnown: true);
        Signo = signo;
        Info = info;
        Code = info.Code;
        Address = address;
        DuringStep = duringStep;
        Verdict = SignalVerdict.Deliver;
        InfoReplaced = false;
        return this;
    }
}
