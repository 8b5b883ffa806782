using System.Buffers.Binary;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.PtraceEmulation;

/// <summary>
/// The recorded program's own ptrace use, emulated (the recorder is the real tracer of every task,
/// so the kernel refuses the program's ptrace calls): anti-debug code that calls
/// PTRACE_TRACEME, or forks a child that attaches to its parent, must see them succeed as they
/// would natively. As rr does for its tracees, the calls are answered here, at the system-call
/// entry stop, without running them.
///
/// Emulated: PTRACE_TRACEME (once; a second fails with EPERM; TracerPid then names the parent);
/// PTRACE_ATTACH (the tracee stops, its tracer's waitpid reports the SIGSTOP stop) and PTRACE_SEIZE
/// (no stop) of a process of the recording; PTRACE_INTERRUPT (a PTRACE_EVENT_STOP stop);
/// PTRACE_PEEKTEXT/PEEKDATA/PEEKUSER (memory, registers, debug registers — all zero unless the
/// tracer set them), PTRACE_POKETEXT/POKEDATA, PTRACE_POKEUSER of debug registers, PTRACE_GETREGS,
/// PTRACE_CONT and PTRACE_DETACH (with a signal), PTRACE_KILL, PTRACE_SETOPTIONS,
/// PTRACE_GETEVENTMSG, PTRACE_GETSIGINFO; wait4/waitid of the tracer on its tracee report the
/// pending stop. While stopped, the tracee's threads do not run and its /proc state is
/// "t (tracing stop)". The rest (single-stepping, syscall stops, register writes, signal-delivery
/// stops reported to the tracer, a tracer's blocking wait with nothing to report) is listed in
/// docs/transparency.md as not emulated: those requests fail with EIO, such waits with ECHILD.
/// </summary>
internal sealed class EmulatedPtrace(IEmulationHost host)
{
    private const long SysPtrace = 101, SysWait4 = 61, SysWaitid = 247;
    private const int EPERM = 1, ESRCH = 3, EIO = 5, EFAULT = 14, ECHILD = 10;
    private const int SIGSTOP = 19, SIGTRAP = 5, SIGCHLD = 17, SIGKILL = 9;
    private const int DebugRegOffset = 848, UserRegsWords = 27;

    /// <summary>A process (pid) that the program believes is being debugged, and by whom.</summary>
    private sealed class Tracee(int pid, int tracer, bool seized)
    {
        public int Pid { get; } = pid;
        public int Tracer { get; } = tracer;
        public bool Seized { get; } = seized;
        /// <summary>The tracer's TRACEME'd parent: no stops are emulated for it.</summary>
        public bool ByTraceme;
        public bool Stopped;
        /// <summary>A wait status the tracer has not collected yet (0: none).</summary>
        public int PendingStatus;
        public int StopSignal;
        public ulong Options;
        public readonly ulong[] DebugRegs = new ulong[8];
    }

    private readonly Dictionary<int, Tracee> _tracees = new();

    /// <summary>The emulated tracer of <paramref name="pid"/> (its TracerPid), or 0.</summary>
    public int TracerOf(int pid) => _tracees.TryGetValue(pid, out var t) ? t.Tracer : 0;

    /// <summary>True while <paramref name="pid"/> is stopped by its emulated tracer.</summary>
    public bool IsStopped(int pid) => _tracees.TryGetValue(pid, out var t) && t.Stopped;

    /// <summary>True when the call is one this class answers (at its entry stop; the caller then skips it).</summary>
    public bool OnEntry(ISyscallView call)
    {
        switch (call.Number)
        {
            case SysPtrace:
                if (Ptrace(call) is not { } result) return false; // about a process outside the recording: the kernel's
                call.Skip(result);
                return true;
            case SysWait4: return Wait4(call);
            case SysWaitid: return Waitid(call);
            default: return false;
        }
    }

    /// <summary>A process of the recording exited: its tracer is told (as ptrace does), or its tracees are let go.</summary>
    public void ProcessExited(int pid, int waitStatus)
    {
        if (_tracees.TryGetValue(pid, out var t))
        {
            if (t.ByTraceme) _tracees.Remove(pid);
            else
            {
                t.Stopped = false;
                t.PendingStatus = waitStatus; // the tracer collects it with waitpid; the real parent gets it too
            }
        }
        foreach (var orphan in _tracees.Values.Where(x => x.Tracer == pid).ToList())
        {
            // The tracer is gone without detaching: the kernel detaches its tracees.
            _tracees.Remove(orphan.Pid);
            if (orphan.Stopped) host.SetStopped(orphan.Pid, false);
        }
    }

    // ---- ptrace(request, pid, addr, data) ------------------------------------------------------

    /// <summary>The emulated result, or null when the call is about a process outside the recording
    /// (the program's parent shell, say): the kernel answers it (the sandbox refuses the rest).</summary>
    private long? Ptrace(ISyscallView call)
    {
        long request = (long)call.Arg(0);
        int pid = (int)call.Arg(1);
        ulong addr = call.Arg(2), data = call.Arg(3);
        if (request == 0) // PTRACE_TRACEME
        {
            if (_tracees.ContainsKey(call.Pid)) return -EPERM;
            _tracees[call.Pid] = new Tracee(call.Pid, host.ParentOf(call.Pid), seized: false) { ByTraceme = true };
            return 0;
        }
        if (!host.IsInRecording(pid) && !_tracees.ContainsKey(pid)) return null;
        if (request is 16 or 0x4206) return Attach(call, pid, seize: request == 0x4206, data); // PTRACE_ATTACH, PTRACE_SEIZE

        // Every other request needs a tracee of the caller (stopped, except for INTERRUPT and KILL).
        if (!_tracees.TryGetValue(pid, out var t) || t.Tracer != call.Pid || t.ByTraceme) return -ESRCH;
        switch (request)
        {
            case 0x4207: // PTRACE_INTERRUPT
                if (!t.Seized) return -EIO;
                if (!t.Stopped) Stop(t, (SIGTRAP << 8) | (128 << 16) | 0x7f, SIGTRAP);
                return 0;
            case 8: // PTRACE_KILL
                host.Signal(pid, SIGKILL);
                return 0;
        }
        if (!t.Stopped) return -ESRCH;
        switch (request)
        {
            case 1 or 2: // PTRACE_PEEKTEXT, PTRACE_PEEKDATA: the word goes to *data (the raw call's convention)
            {
                Span<byte> word = stackalloc byte[8];
                if (host.ReadMemory(pid, addr, word) != 8) return -EIO;
                return call.WriteMemory(data, word) ? 0 : -EFAULT;
            }
            case 3: // PTRACE_PEEKUSER
            {
                if (!PeekUser(t, addr, out ulong value)) return -EIO;
                Span<byte> word = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(word, value);
                return call.WriteMemory(data, word) ? 0 : -EFAULT;
            }
            case 4 or 5: // PTRACE_POKETEXT, PTRACE_POKEDATA
            {
                Span<byte> word = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(word, data);
                return host.WriteMemory(pid, addr, word) ? 0 : -EIO;
            }
            case 6: // PTRACE_POKEUSER: debug registers only
                if (addr < DebugRegOffset || addr >= DebugRegOffset + 64 || addr % 8 != 0) return -EIO;
                t.DebugRegs[(addr - DebugRegOffset) / 8] = data;
                return 0;
            case 7: // PTRACE_CONT
                Resume(t, (int)data);
                return 0;
            case 12: // PTRACE_GETREGS
            {
                Span<ulong> regs = stackalloc ulong[UserRegsWords];
                if (!host.TryGetRegisters(pid, regs)) return -ESRCH;
                var bytes = new byte[UserRegsWords * 8];
                for (int i = 0; i < UserRegsWords; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), regs[i]);
                return call.WriteMemory(data, bytes) ? 0 : -EFAULT;
            }
            case 17: // PTRACE_DETACH
                _tracees.Remove(pid);
                Resume(t, (int)data);
                return 0;
            case 0x4200: // PTRACE_SETOPTIONS
                t.Options = data;
                return 0;
            case 0x4201: // PTRACE_GETEVENTMSG
                return call.WriteMemory(data, new byte[8]) ? 0 : -EFAULT;
            case 0x4202: // PTRACE_GETSIGINFO: the stop's signal, sent by the tracer's attach (SI_USER)
            {
                var info = new byte[128];
                BinaryPrimitives.WriteInt32LittleEndian(info, t.StopSignal);
                BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(8), t.StopSignal == SIGSTOP ? 0 : 0x80);
                if (t.StopSignal == SIGSTOP) BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(16), t.Tracer);
                return call.WriteMemory(data, info) ? 0 : -EFAULT;
            }
            default:
                return -EIO;
        }
    }

    private long Attach(ISyscallView call, int pid, bool seize, ulong options)
    {
        if (pid == call.Pid) return -EPERM;                       // a process cannot trace itself
        if (_tracees.ContainsKey(pid)) return -EPERM;              // already traced (emulated)
        var t = new Tracee(pid, call.Pid, seize) { Options = seize ? options : 0 };
        _tracees[pid] = t;
        if (!seize) Stop(t, (SIGSTOP << 8) | 0x7f, SIGSTOP);       // PTRACE_ATTACH sends SIGSTOP
        return 0;
    }

    private void Stop(Tracee t, int status, int signo)
    {
        t.Stopped = true;
        t.PendingStatus = status;
        t.StopSignal = signo;
        host.SetStopped(t.Pid, true);
    }

    private void Resume(Tracee t, int signal)
    {
        t.Stopped = false;
        t.PendingStatus = 0;
        host.SetStopped(t.Pid, false);
        if (signal is > 0 and < 65) host.Signal(t.Pid, signal);
    }

    private bool PeekUser(Tracee t, ulong offset, out ulong value)
    {
        value = 0;
        if (offset % 8 != 0) return false;
        if (offset >= DebugRegOffset && offset < DebugRegOffset + 64)
        {
            value = t.DebugRegs[(offset - DebugRegOffset) / 8];
            return true;
        }
        if (offset < UserRegsWords * 8)
        {
            Span<ulong> regs = stackalloc ulong[UserRegsWords];
            if (!host.TryGetRegisters(t.Pid, regs)) return false;
            value = regs[(int)(offset / 8)];
            return true;
        }
        return offset < DebugRegOffset + 64; // the rest of struct user reads as zero
    }

    // ---- the tracer's wait for its tracee ----------------------------------------------------------

    /// <summary>The emulated tracee a wait by <paramref name="waiter"/> for <paramref name="pid"/> (wait4 convention) is about, if any.</summary>
    private Tracee? WaitTarget(int waiter, int pid)
    {
        foreach (var t in _tracees.Values)
        {
            if (t.Tracer != waiter || t.ByTraceme) continue;
            if (pid == t.Pid || (pid == -1 && t.PendingStatus != 0)) return t;
        }
        return null;
    }

    private bool Wait4(ISyscallView call)
    {
        int pid = (int)call.Arg(0);
        if (WaitTarget(call.Pid, pid) is not { } t) return false;
        if (t.PendingStatus == 0)
        {
            if ((call.Arg(2) & 1) != 0) { call.Skip(0); return true; }   // WNOHANG: nothing to report
            call.Annotate("transparency", $"wait4({pid}) by the program's emulated debugger with nothing to report: a blocking wait is not emulated");
            call.Skip(-ECHILD);
            return true;
        }
        Span<byte> status = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(status, t.PendingStatus);
        if (call.Arg(1) != 0 && !call.WriteMemory(call.Arg(1), status)) { call.Skip(-EFAULT); return true; }
        if (call.Arg(3) != 0) call.WriteMemory(call.Arg(3), new byte[144]); // struct rusage
        Collected(t);
        call.Skip(t.Pid);
        return true;
    }

    private bool Waitid(ISyscallView call)
    {
        const int PPid = 1, PAll = 0, CldExited = 1, CldKilled = 2, CldTrapped = 4;
        int idtype = (int)call.Arg(0);
        int id = (int)call.Arg(1);
        if (idtype != PPid && idtype != PAll) return false;
        if (WaitTarget(call.Pid, idtype == PAll ? -1 : id) is not { } t) return false;
        if (t.PendingStatus == 0)
        {
            if ((call.Arg(3) & 1) != 0) { call.Skip(0); return true; }
            call.Skip(-ECHILD);
            return true;
        }
        int st = t.PendingStatus;
        var info = new byte[128];
        int code, value;
        if ((st & 0xff) == 0x7f) { code = CldTrapped; value = (st >> 8) & 0xff; }
        else if ((st & 0x7f) == 0) { code = CldExited; value = (st >> 8) & 0xff; }
        else { code = CldKilled; value = st & 0x7f; }
        BinaryPrimitives.WriteInt32LittleEndian(info, SIGCHLD);
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(8), code);
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(16), t.Pid);
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(24), value);
        if (call.Arg(2) != 0 && !call.WriteMemory(call.Arg(2), info)) { call.Skip(-EFAULT); return true; }
        if ((call.Arg(3) & 0x01000000) == 0) Collected(t); // WNOWAIT keeps it
        call.Skip(0);
        return true;
    }

    private void Collected(Tracee t)
    {
        bool exited = (t.PendingStatus & 0xff) != 0x7f;
        t.PendingStatus = 0;
        if (exited) _tracees.Remove(t.Pid);
    }
}
