using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.TrapFlag;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Single-stepping without side effects the program can see: its own trap flag accounted for
/// (<see cref="TrapFlagAccount"/>: pushf images, popf/iret round trips), steps taken with SIGTRAP
/// unblocked so that a trap inside the program's own SIGTRAP handler is not a forced signal (the
/// kernel would reset the handler to SIG_DFL), and icebp's trap delivered as natively.
/// </summary>
internal sealed partial class PtraceSession
{
    private const ulong SigTrapBit = 1UL << (Signals.SIGTRAP - 1);

    private Func<ulong, ulong?> ReadQword(TraceeThread t) => address =>
    {
        Span<byte> b = stackalloc byte[8];
        return t.Rec.Process.Memory.Read(address, b) == 8 ? BitConverter.ToUInt64(b) : null;
    };

    /// <summary>
    /// Before a single step: while the program blocks SIGTRAP (inside its SIGTRAP handler, say) the
    /// step's trap would be a forced signal, which unblocks it and resets the handler to SIG_DFL, so
    /// the program would die at its next trap. The step is taken with SIGTRAP unblocked; the mask is
    /// put back at the thread's next stop (<see cref="RestoreSignalMask"/>). False if the thread is gone.
    /// </summary>
    private bool UnblockTrapForStep(TraceeThread t)
    {
        if (!t.SignalMaskKnown)
        {
            if (!_ptrace.GetSignalMask(t.Tid, out t.SignalMask)) { _pipeline.AbandonStep(t.Rec); Gone(t); return false; }
            t.SignalMaskKnown = true;
        }
        if ((t.SignalMask & SigTrapBit) == 0) return true;
        if (!_ptrace.SetSignalMask(t.Tid, t.SignalMask & ~SigTrapBit)) { _pipeline.AbandonStep(t.Rec); Gone(t); return false; }
        t.SignalMaskLowered = true;
        return true;
    }

    /// <summary>At every stop of a thread whose mask was lowered for a step: the program's mask again.</summary>
    private void RestoreSignalMask(TraceeThread t)
    {
        t.SignalMaskLowered = false;
        _ptrace.SetSignalMask(t.Tid, t.SignalMask);
    }

    /// <summary>
    /// After a completed step, before it is recorded: the program's TF after a popf/iret, the kernel's
    /// TF brought in line with it, and a pushf image showing the program's TF, not ours. False if the
    /// thread is gone.
    /// </summary>
    private bool HideTrapFlag(TraceeThread t)
    {
        if (t.TrapFlagAfterStep is { } after)
        {
            t.ProgramTrapFlag = after;
            t.TrapFlagAfterStep = null;
            // Stepping popf/iret cleared the kernel's note that TF is the tracer's, and while the thread
            // keeps single-stepping the kernel never sets it again (enable_single_step sees TF already set
            // and TIF_SINGLESTEP still on): TF would stay "the program's" — in the next system call's r11,
            // in signal frames, and in native runs. Any non-stepping resume clears TIF_SINGLESTEP, after
            // which the next step marks TF as the tracer's again: a remote getpid is one. (Not when the
            // program's own TF trap is about to be delivered from this stop: entering its handler heals it.)
            if (!t.UserTrapFlag && !_remote.TryRun(t, 39, [0, 0, 0, 0, 0, 0], out _) && !Refresh(t)) return false;
            bool kernel = (t.Raw.Eflags & TrapFlagAccount.Tf) != 0;
            if (kernel != after)
            {
                // After popf/iret the kernel takes the popped TF for the program's; it may be ours (a
                // flags image the program saved while we stepped). Set it to the program's own.
                var regs = t.Raw;
                regs.Eflags = after ? regs.Eflags | TrapFlagAccount.Tf : regs.Eflags & ~TrapFlagAccount.Tf;
                if (!_ptrace.SetRegisters(t.Tid, regs)) { Gone(t); return false; }
                SetRegisters(t, regs);
            }
        }
        int size = TrapFlagAccount.PushedImageSize(t.Rec.StepInstruction);
        if (size > 0)
        {
            Span<byte> image = stackalloc byte[8];
            var memory = t.Rec.Process.Memory;
            if (memory.Read(t.Raw.Rsp, image[..size]) == size && TrapFlagAccount.FixPushedImage(image, t.ProgramTrapFlag))
                memory.Write(t.Raw.Rsp, image[..size], t.Tid);
        }
        return true;
    }

    /// <summary>Delivers SIGTRAP from the current single-step stop with the si_code a native run gets.</summary>
    private void DeliverTrap(TraceeThread t, int code, ulong address)
    {
        if (_ptrace.GetSignalInfo(t.Tid, out var info))
        {
            info.Code = code;
            info.Addr = address;
            _ptrace.SetSignalInfo(t.Tid, info);
        }
        _pipeline.Signal(t.Rec, Signals.SIGTRAP, Sig.Name(Signals.SIGTRAP), code, address, "delivered");
        Deliver(t, Signals.SIGTRAP);
    }
}
