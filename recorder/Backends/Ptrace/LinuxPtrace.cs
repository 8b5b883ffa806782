using System.Runtime.InteropServices;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>The real <see cref="IPtrace"/>: direct libc calls, no allocation.</summary>
internal sealed unsafe class LinuxPtrace : IPtrace
{
    public int LastError { get; private set; }

    private bool Check(long result)
    {
        if (result >= 0) return true;
        LastError = Marshal.GetLastPInvokeError();
        return false;
    }

    public bool Seize(int pid, int options) => Check(LibC.Ptrace(PtraceRequest.Seize, pid, 0, options));
    public bool SetOptions(int tid, int options) => Check(LibC.Ptrace(PtraceRequest.SetOptions, tid, 0, options));
    public bool SingleStep(int tid, int signal = 0) => Check(LibC.Ptrace(PtraceRequest.SingleStep, tid, 0, signal));
    public bool ResumeToSyscall(int tid, int signal = 0) => Check(LibC.Ptrace(PtraceRequest.Syscall, tid, 0, signal));
    public bool Continue(int tid, int signal = 0) => Check(LibC.Ptrace(PtraceRequest.Cont, tid, 0, signal));
    public bool Listen(int tid) => Check(LibC.Ptrace(PtraceRequest.Listen, tid, 0, 0));

    public bool GetRegisters(int tid, out UserRegs regs)
    {
        fixed (UserRegs* p = &regs) return Check(LibC.Ptrace(PtraceRequest.GetRegs, tid, 0, (nint)p));
    }

    public bool SetRegisters(int tid, in UserRegs regs)
    {
        fixed (UserRegs* p = &regs) return Check(LibC.Ptrace(PtraceRequest.SetRegs, tid, 0, (nint)p));
    }

    public bool GetSignalInfo(int tid, out SigInfo info)
    {
        fixed (SigInfo* p = &info) return Check(LibC.Ptrace(PtraceRequest.GetSigInfo, tid, 0, (nint)p));
    }

    public bool SetSignalInfo(int tid, in SigInfo info)
    {
        fixed (SigInfo* p = &info) return Check(LibC.Ptrace(PtraceRequest.SetSigInfo, tid, 0, (nint)p));
    }

    public bool GetSignalMask(int tid, out ulong mask)
    {
        fixed (ulong* p = &mask) return Check(LibC.Ptrace(PtraceRequest.GetSigMask, tid, sizeof(ulong), (nint)p));
    }

    public bool SetSignalMask(int tid, ulong mask) => Check(LibC.Ptrace(PtraceRequest.SetSigMask, tid, sizeof(ulong), (nint)(&mask)));

    public bool Interrupt(int tid) => Check(LibC.Ptrace(PtraceRequest.Interrupt, tid, 0, 0));

    public bool Detach(int tid, int signal = 0) => Check(LibC.Ptrace(PtraceRequest.Detach, tid, 0, signal));

    public bool GetEventMessage(int tid, out ulong message)
    {
        fixed (ulong* p = &message) return Check(LibC.Ptrace(PtraceRequest.GetEventMsg, tid, 0, (nint)p));
    }

    public bool GetSyscallInfo(int tid, out PtraceSyscallInfo info)
    {
        fixed (PtraceSyscallInfo* p = &info)
            return Check(LibC.Ptrace(PtraceRequest.GetSyscallInfo, tid, sizeof(PtraceSyscallInfo), (nint)p));
    }

    // __WNOTHREAD: the process may have other children, started by other threads (a test host's
    // gcc, the Xen agent); waiting for "any" would reap them from under their owners.
    public int WaitAny(out WaitStatus status) => Wait(-1, WaitFlags.All | WaitFlags.NoThread, out status);
    public int WaitAnyNoHang(out WaitStatus status) => Wait(-1, WaitFlags.All | WaitFlags.NoThread | WaitFlags.NoHang, out status);
    public int WaitThread(int tid, out WaitStatus status) => Wait(tid, WaitFlags.All, out status);
    public int WaitChild(int pid, out WaitStatus status) => Wait(pid, WaitFlags.Untraced, out status);
    public int WaitChildNoHang(int pid, out WaitStatus status) => Wait(pid, WaitFlags.NoHang, out status);

    private int Wait(int pid, int flags, out WaitStatus status)
    {
        int raw = 0;
        int r;
        do r = LibC.WaitPid(pid, &raw, flags);
        while (r < 0 && (LastError = Marshal.GetLastPInvokeError()) == Errno.EINTR);
        status = new WaitStatus(raw);
        return r;
    }

    public int ReadMemory(int pid, ulong address, Span<byte> into)
    {
        if (into.IsEmpty) return 0;
        fixed (byte* p = into)
        {
            var local = new IoVec { Base = (nint)p, Length = (nuint)into.Length };
            var remote = new IoVec { Base = (nint)address, Length = (nuint)into.Length };
            nint n = LibC.ProcessVmReadv(pid, &local, 1, &remote, 1, 0);
            if (n < 0) { LastError = Marshal.GetLastPInvokeError(); return 0; }
            return (int)n;
        }
    }

    public int WriteMemory(int pid, ulong address, ReadOnlySpan<byte> from)
    {
        if (from.IsEmpty) return 0;
        fixed (byte* p = from)
        {
            var local = new IoVec { Base = (nint)p, Length = (nuint)from.Length };
            var remote = new IoVec { Base = (nint)address, Length = (nuint)from.Length };
            nint n = LibC.ProcessVmWritev(pid, &local, 1, &remote, 1, 0);
            if (n < 0) { LastError = Marshal.GetLastPInvokeError(); return 0; }
            return (int)n;
        }
    }

    public bool PeekData(int tid, ulong address, out ulong word)
    {
        // PTRACE_PEEKDATA returns the word itself, so -1 is a valid value: errno tells them apart.
        Marshal.SetLastPInvokeError(0);
        long value = LibC.Ptrace(PtraceRequest.PeekData, tid, (nint)address, 0);
        int errno = Marshal.GetLastPInvokeError();
        word = (ulong)value;
        if (value != -1 || errno == 0) return true;
        LastError = errno;
        return false;
    }

    public bool PokeData(int tid, ulong address, ulong word) => Check(LibC.Ptrace(PtraceRequest.PokeData, tid, (nint)address, (nint)word));

    public bool Kill(int pid, int signal) => Check(LibC.Kill(pid, signal));
}
