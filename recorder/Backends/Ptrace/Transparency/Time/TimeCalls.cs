using System.Buffers.Binary;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>
/// The system calls that show or spend time, answered in virtual time (docs/transparency.md):
/// clock_gettime (every clock id, also as the redirected vDSO function), gettimeofday, time, times,
/// getrusage, sysinfo; sleeps (nanosleep, clock_nanosleep — relative and absolute) are not run but
/// held until the virtual clock reaches their end; waits with a timeout (poll, ppoll, select,
/// pselect6, epoll_wait, epoll_pwait, epoll_pwait2, futex waits, rt_sigtimedwait) wait in the kernel
/// without the timeout and are ended by the recorder when virtual time passes it; ITIMER_REAL
/// (alarm, setitimer, getitimer) runs in virtual time; file timestamps made during the recording
/// (stat family) are shown in virtual time; the TSC mode (prctl PR_GET_TSC/PR_SET_TSC) is the
/// program's own when the recorder traps rdtsc itself. Every value is written before the pipeline
/// records the call's exit, so the trace holds what the program saw. x86-64 calls only.
/// </summary>
internal sealed class TimeCalls(TimeKeeper keeper, ITimeHost host, bool cpuClocksVirtual, bool trapsTsc)
{
    private const long EFAULT = 14, EINVAL = 22, EINTR = 4, ETIMEDOUT = 110, EAGAIN = 11;
    private const long NsPerSecond = 1_000_000_000;
    private const ulong TimerAbstime = 1;

    /// <summary>The program's own TSC mode per process (PR_TSC_ENABLE = 1, PR_TSC_SIGSEGV = 2); 1 when it never set one.</summary>
    private readonly Dictionary<int, int> _tscMode = new();

    public int TscMode(int pid) => _tscMode.GetValueOrDefault(pid, 1);

    /// <summary>A new process starts with its parent's TSC mode (the kernel copies it at fork).</summary>
    public void Forked(int parentPid, int childPid)
    {
        if (_tscMode.TryGetValue(parentPid, out int mode)) _tscMode[childPid] = mode;
    }

    private VirtualClock Clock => keeper.Clock;

    // ---- entry ---------------------------------------------------------------------------------

    public void OnEntry(ISyscallView call)
    {
        long nr = call.Number;
        if (keeper.WaitOf(call.Tid) is { } stale && nr != stale.Number && nr != 219 /* restart_syscall */)
            keeper.EndWait(call.Tid); // the call it belonged to has returned (EINTR) and the program moved on

        switch (nr)
        {
            case 35: Sleep(call, ClockIds.Monotonic, 0, call.Arg(0), call.Arg(1)); return;                  // nanosleep
            case 230: Sleep(call, (int)call.Arg(0), call.Arg(1), call.Arg(2), call.Arg(3)); return;        // clock_nanosleep
            case 219 when keeper.WaitOf(call.Tid) is { Kind: WaitKind.Sleep } w: ResumeSleep(call, w); return;
            case 202: Futex(call); return;
            case 37: Alarm(call); return;
            case 38: SetTimer(call); return;
            case 36: GetTimer(call); return;
            case 157: Prctl(call); return;
        }
        // Waits with a timeout: which argument holds it, and how, is the system-call table's knowledge.
        if (Calls.Find(nr) is { } row && row.Has(SyscallTraits.HasTimeout) && row.Timeout is { } timeout && nr != FutexWaitv)
        {
            long result = row.Name.StartsWith("rt_sigtimedwait", StringComparison.Ordinal) ? -EAGAIN : 0;
            switch (timeout.Kind)
            {
                case SyscallArgKind.TimeoutMs: TimeoutMs(call, timeout.Index, result); return;
                case SyscallArgKind.TimevalInOut: TimeoutSpec(call, timeout.Index, remainder: true, timeval: true, result); return;
                case SyscallArgKind.TimespecInOut or SyscallArgKind.Timespec64InOut: TimeoutSpec(call, timeout.Index, remainder: true, timeval: false, result); return;
                case SyscallArgKind.TimespecIn or SyscallArgKind.Timespec64In: TimeoutSpec(call, timeout.Index, remainder: false, timeval: false, result); return;
            }
        }
    }

    private static readonly LinuxSyscallTable Calls = LinuxSyscalls.X86_64;
    /// <summary>futex_waitv's timeout is a deadline on its own clock argument: left to the kernel (docs/transparency.md).</summary>
    private const long FutexWaitv = 449;

    // ---- exit ----------------------------------------------------------------------------------

    public void OnExit(ISyscallView call, ThreadTime thread)
    {
        keeper.Anchor();
        long ret = call.Return;
        switch (call.Number)
        {
            case 228 when ret == 0: // clock_gettime(clockid, tp)
                if (Clock.Read((int)call.Arg(0), thread, CpuOf) is { } ns && (cpuClocksVirtual || !IsCpuClock((int)call.Arg(0))))
                    WriteTimespec(call, call.Arg(1), ns);
                return;
            case 96 when ret == 0: // gettimeofday(tv, tz)
                if (call.Arg(0) != 0) WriteTimeval(call, call.Arg(0), Clock.RealtimeNs);
                return;
            case 201 when ret >= 0: // time(tloc)
            {
                long secs = Clock.RealtimeNs / NsPerSecond;
                if (call.Arg(0) != 0) WriteLong(call, call.Arg(0), secs);
                call.Return = secs;
                return;
            }
            case 100 when ret >= 0: // times(buf): the return is clock ticks since boot
                if (call.Arg(0) != 0 && cpuClocksVirtual)
                {
                    var tms = new byte[32];
                    BinaryPrimitives.WriteInt64LittleEndian(tms, thread.Process.CpuPs / 1000 / 10_000_000);
                    BinaryPrimitives.WriteInt64LittleEndian(tms.AsSpan(16), thread.Process.ChildrenCpuPs / 1000 / 10_000_000);
                    call.WriteMemory(call.Arg(0), tms);
                }
                call.Return = Clock.BoottimeNs / 10_000_000;
                return;
            case 98 when ret == 0 && cpuClocksVirtual: // getrusage(who, ru): user time is all virtual CPU time, system time 0
            {
                long ps = (long)call.Arg(0) switch { 0 => thread.Process.CpuPs, 1 => thread.CpuPs, -1 => thread.Process.ChildrenCpuPs, _ => -1 };
                if (ps < 0) return;
                var tv = new byte[32];
                WriteTimevalBytes(tv, ps / 1000);
                call.WriteMemory(call.Arg(1), tv);
                return;
            }
            case 99 when ret == 0: // sysinfo(info): uptime is the first field
                WriteLong(call, call.Arg(0), Clock.BoottimeNs / NsPerSecond);
                return;
            case 35 or 230 or 219:
                EndSleep(call);
                return;
            case 202:
                EndTimeout(call, ret);
                return;
            case 4 or 5 or 6 or 262 when ret == 0: // stat, fstat, lstat, newfstatat: struct stat
                StatTimes(call, call.Arg(call.Number == 262 ? 2 : 1), [72, 88, 104], nsecWidth: 8);
                return;
            case 332 when ret == 0: // statx: struct statx_timestamp { s64 sec; u32 nsec; } at atime, btime, ctime, mtime
                StatTimes(call, call.Arg(4), [0x40, 0x50, 0x60, 0x70], nsecWidth: 4);
                return;
            case 157 when ret == 0 && !trapsTsc && call.Arg(0) == 26: // the program set its own TSC mode (the kernel did it)
                _tscMode[call.Pid] = (int)call.Arg(1);
                return;
        }
        if (keeper.WaitOf(call.Tid) is { Kind: WaitKind.Timeout }) EndTimeout(call, ret);
    }

    private long? CpuOf(int id, bool perThread) =>
        perThread ? keeper.FindThread(id)?.CpuPs : keeper.FindProcess(id)?.CpuPs;

    private static bool IsCpuClock(int clockId) => ClockIds.Decode(clockId).Kind is ClockIds.Kind.ProcessCpu or ClockIds.Kind.ThreadCpu;

    // ---- sleeps ----------------------------------------------------------------------------------

    private void Sleep(ISyscallView call, int clockId, ulong flags, ulong req, ulong rem)
    {
        var kind = ClockIds.Decode(clockId).Kind;
        if (kind is ClockIds.Kind.Unknown or ClockIds.Kind.ProcessCpu or ClockIds.Kind.ThreadCpu) return; // left to the kernel
        if (!ReadTimespec(call, req, out long sec, out long nsec)) { call.Skip(-EFAULT); return; }
        if (sec < 0 || nsec is < 0 or >= NsPerSecond) { call.Skip(-EINVAL); return; }
        long target = sec * NsPerSecond + nsec;
        long now = Clock.ElapsedNs;
        bool absolute = (flags & TimerAbstime) != 0 && call.Number == 230;
        long deadline = absolute ? now + (target - (Clock.Read(clockId, keeper.Thread(call.Tid, call.Pid)) ?? target)) : now + target;
        call.Skip(0);
        if (deadline <= now) return;
        keeper.Wait(new TimedWait(call.Tid, call.Pid, call.Number, WaitKind.Sleep, deadline) { Remainder = absolute ? 0 : rem });
        host.HoldInSyscall(call.Tid);
    }

    /// <summary>restart_syscall after a stop signal ended a held sleep's call: it goes on sleeping.</summary>
    private void ResumeSleep(ISyscallView call, TimedWait w)
    {
        call.Skip(0);
        if (w.Ended) return;
        host.HoldInSyscall(call.Tid);
    }

    private void EndSleep(ISyscallView call)
    {
        if (keeper.WaitOf(call.Tid) is not { Kind: WaitKind.Sleep } w) return;
        keeper.EndWait(call.Tid);
        if (w.Interrupted)
        {
            call.Return = -EINTR;
            if (w.Remainder != 0) WriteTimespec(call, w.Remainder, Math.Max(0, w.DeadlineNs - Clock.ElapsedNs));
        }
        else call.Return = 0;
    }

    // ---- waits with a timeout ----------------------------------------------------------------------

    /// <summary>A timeout in milliseconds in argument <paramref name="arg"/> (negative: none; 0: do not wait).</summary>
    private void TimeoutMs(ISyscallView call, int arg, long timeoutResult)
    {
        int ms = (int)call.Arg(arg);
        if (ms <= 0) return;
        StartTimeout(call, arg, unchecked((ulong)-1L), ms * 1_000_000L, remainder: 0, timeval: false, timeoutResult);
    }

    /// <summary>A timeout as a timespec (or timeval) pointer in argument <paramref name="arg"/> (NULL: none).</summary>
    private void TimeoutSpec(ISyscallView call, int arg, bool remainder, bool timeval, long timeoutResult)
    {
        ulong ptr = call.Arg(arg);
        if (ptr == 0) return;
        if (!ReadTimespec(call, ptr, out long sec, out long frac)) return; // the kernel reports EFAULT
        long ns = sec * NsPerSecond + (timeval ? frac * 1000 : frac);
        if (sec < 0 || frac < 0 || ns <= 0) return; // invalid (the kernel says so) or do not wait
        StartTimeout(call, arg, 0, ns, remainder ? ptr : 0, timeval, timeoutResult);
    }

    private void Futex(ISyscallView call)
    {
        int op = (int)call.Arg(1) & 127;
        ulong ptr = call.Arg(3);
        if (op is not (0 or 9) || ptr == 0) return; // FUTEX_WAIT, FUTEX_WAIT_BITSET with a timeout
        if (!ReadTimespec(call, ptr, out long sec, out long nsec) || sec < 0 || nsec is < 0 or >= NsPerSecond) return;
        long ns = sec * NsPerSecond + nsec;
        if (op == 9) // absolute, on CLOCK_MONOTONIC or (FUTEX_CLOCK_REALTIME) CLOCK_REALTIME
        {
            int clock = (call.Arg(1) & 256) != 0 ? ClockIds.Realtime : ClockIds.Monotonic;
            ns -= Clock.Read(clock, keeper.Thread(call.Tid, call.Pid)) ?? ns;
        }
        if (ns <= 0) return; // already expired: the kernel says so at once
        StartTimeout(call, 3, 0, ns, remainder: 0, timeval: false, -ETIMEDOUT);
    }

    private void StartTimeout(ISyscallView call, int arg, ulong infinite, long timeoutNs, ulong remainder, bool timeval, long timeoutResult)
    {
        // A restarted call (after a signal without a handler) keeps its first deadline.
        long deadline = keeper.WaitOf(call.Tid) is { Kind: WaitKind.Timeout } w && w.Number == call.Number ? w.DeadlineNs : Clock.ElapsedNs + timeoutNs;
        keeper.Wait(new TimedWait(call.Tid, call.Pid, call.Number, WaitKind.Timeout, deadline)
        {
            Remainder = remainder, RemainderIsTimeval = timeval, TimeoutResult = timeoutResult,
        });
        call.SetArgument(arg, infinite);
    }

    private void EndTimeout(ISyscallView call, long ret)
    {
        if (keeper.WaitOf(call.Tid) is not { Kind: WaitKind.Timeout } w || w.Number != call.Number) return;
        bool restart = ret is -512 or -513 or -514 or -516;
        if (w.Ended)
        {
            // The recorder interrupted it when virtual time passed the timeout.
            keeper.EndWait(call.Tid);
            call.Return = w.TimeoutResult;
            WriteRemainder(call, w, 0);
            return;
        }
        WriteRemainder(call, w, Math.Max(0, w.DeadlineNs - Clock.ElapsedNs));
        if (!restart) keeper.EndWait(call.Tid); // done (ready, or an error); a restart keeps its deadline
    }

    private void WriteRemainder(ISyscallView call, TimedWait w, long ns)
    {
        if (w.Remainder == 0) return;
        if (w.RemainderIsTimeval) WriteTimeval(call, w.Remainder, ns);
        else WriteTimespec(call, w.Remainder, ns);
    }

    // ---- ITIMER_REAL -------------------------------------------------------------------------------

    private void Alarm(ISyscallView call)
    {
        var t = keeper.Timer(call.Pid);
        long now = Clock.ElapsedNs;
        long left = t.Armed ? Math.Max(1, (t.DeadlineNs - now + NsPerSecond - 1) / NsPerSecond) : 0;
        long secs = (long)(uint)call.Arg(0);
        t.DeadlineNs = secs == 0 ? 0 : now + secs * NsPerSecond;
        t.IntervalNs = 0;
        call.Skip(left);
    }

    private void SetTimer(ISyscallView call)
    {
        if (call.Arg(0) != 0) return; // ITIMER_VIRTUAL and ITIMER_PROF: the kernel's (docs/transparency.md)
        var t = keeper.Timer(call.Pid);
        Span<byte> it = stackalloc byte[32];
        if (call.Arg(1) == 0 || call.ReadMemory(call.Arg(1), it) != 32) { call.Skip(-EFAULT); return; }
        long interval = TimevalNs(it), value = TimevalNs(it[16..]);
        if (interval < 0 || value < 0) { call.Skip(-EINVAL); return; }
        if (call.Arg(2) != 0 && !WriteItimer(call, call.Arg(2), t)) { call.Skip(-EFAULT); return; }
        t.DeadlineNs = value == 0 ? 0 : Clock.ElapsedNs + value;
        t.IntervalNs = value == 0 ? 0 : interval;
        call.Skip(0);
    }

    private void GetTimer(ISyscallView call)
    {
        if (call.Arg(0) != 0) return;
        call.Skip(WriteItimer(call, call.Arg(1), keeper.Timer(call.Pid)) ? 0 : -EFAULT);
    }

    private bool WriteItimer(ISyscallView call, ulong at, VirtualTimer t)
    {
        var b = new byte[32];
        WriteTimevalBytes(b, t.IntervalNs);
        WriteTimevalBytes(b.AsSpan(16), t.Armed ? Math.Max(1000, t.DeadlineNs - Clock.ElapsedNs) : 0);
        return call.WriteMemory(at, b);
    }

    private static long TimevalNs(ReadOnlySpan<byte> tv)
    {
        long sec = BinaryPrimitives.ReadInt64LittleEndian(tv), usec = BinaryPrimitives.ReadInt64LittleEndian(tv[8..]);
        return sec < 0 || usec is < 0 or >= 1_000_000 ? -1 : sec * NsPerSecond + usec * 1000;
    }

    // ---- the TSC mode -------------------------------------------------------------------------------

    private void Prctl(ISyscallView call)
    {
        if (!trapsTsc) return;
        switch (call.Arg(0))
        {
            case 25: // PR_GET_TSC(int *mode)
                Span<byte> b = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, TscMode(call.Pid));
                call.Skip(call.WriteMemory(call.Arg(1), b) ? 0 : -EFAULT);
                return;
            case 26: // PR_SET_TSC(mode): the recorder keeps rdtsc trapped and acts on the program's mode
                if (call.Arg(1) is not (1 or 2)) { call.Skip(-EINVAL); return; }
                _tscMode[call.Pid] = (int)call.Arg(1);
                call.Skip(0);
                return;
        }
    }

    // ---- file times ---------------------------------------------------------------------------------

    private void StatTimes(ISyscallView call, ulong buf, int[] offsets, int nsecWidth)
    {
        Span<byte> ts = stackalloc byte[16];
        foreach (int off in offsets)
        {
            ulong at = buf + (ulong)off;
            if (call.ReadMemory(at, ts[..(8 + nsecWidth)]) != 8 + nsecWidth) return;
            long sec = BinaryPrimitives.ReadInt64LittleEndian(ts);
            long nsec = nsecWidth == 8 ? BinaryPrimitives.ReadInt64LittleEndian(ts[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(ts[8..]);
            long real = sec * NsPerSecond + nsec;
            if (real < keeper.RealStartNs) continue;
            long v = keeper.VirtualOfReal(real);
            BinaryPrimitives.WriteInt64LittleEndian(ts, v / NsPerSecond);
            if (nsecWidth == 8) BinaryPrimitives.WriteInt64LittleEndian(ts[8..], v % NsPerSecond);
            else BinaryPrimitives.WriteUInt32LittleEndian(ts[8..], (uint)(v % NsPerSecond));
            call.WriteMemory(at, ts[..(8 + nsecWidth)]);
        }
    }

    // ---- memory helpers --------------------------------------------------------------------------------

    private static bool ReadTimespec(ISyscallView call, ulong at, out long sec, out long frac)
    {
        Span<byte> b = stackalloc byte[16];
        sec = frac = 0;
        if (at == 0 || call.ReadMemory(at, b) != 16) return false;
        sec = BinaryPrimitives.ReadInt64LittleEndian(b);
        frac = BinaryPrimitives.ReadInt64LittleEndian(b[8..]);
        return true;
    }

    private static void WriteTimespec(ISyscallView call, ulong at, long ns)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(b, ns / NsPerSecond);
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], ns % NsPerSecond);
        call.WriteMemory(at, b);
    }

    private static void WriteTimeval(ISyscallView call, ulong at, long ns)
    {
        Span<byte> b = stackalloc byte[16];
        WriteTimevalBytes(b, ns);
        call.WriteMemory(at, b);
    }

    private static void WriteTimevalBytes(Span<byte> b, long ns)
    {
        BinaryPrimitives.WriteInt64LittleEndian(b, ns / NsPerSecond);
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], ns % NsPerSecond / 1000);
    }

    private static void WriteLong(ISyscallView call, ulong at, long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        call.WriteMemory(at, b);
    }
}
