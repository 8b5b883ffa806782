namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>CPU time a thread has used in virtual time (and the process it belongs to).</summary>
internal sealed class ThreadTime(ProcessTime process)
{
    public ProcessTime Process { get; } = process;
    /// <summary>Virtual CPU time, picoseconds.</summary>
    public long CpuPs;
    /// <summary>Virtual CLOCK_BOOTTIME (ns) when the thread started (its /proc starttime).</summary>
    public long StartBoottimeNs;
}

/// <summary>CPU time a process has used in virtual time: every thread it ever had.</summary>
internal sealed class ProcessTime
{
    public long CpuPs;
    /// <summary>Virtual CPU time of its children that have ended (cutime), picoseconds.</summary>
    public long ChildrenCpuPs;
    /// <summary>Virtual CLOCK_BOOTTIME (ns) when the process started (its /proc starttime).</summary>
    public long StartBoottimeNs;
    /// <summary>The kernel's CPU time of the process (all its threads, ns) when native progress last looked (<see cref="TimeKeeper.FollowNative"/>).</summary>
    public long HostCpuNs;
}

/// <summary>
/// The recording's virtual time: one clock that every time source the program can read is answered
/// from (rdtsc/rdtscp, every clock_gettime clock, gettimeofday, time, /proc/uptime, CPU-time
/// clocks, file timestamps), so that the program sees a machine running at a plausible speed
/// however slowly it is really being single-stepped.
///
/// It advances by <b>executed instructions</b>: one instruction is 1/<see cref="InstructionsPerSecond"/>
/// of a virtual second on a virtual machine with <see cref="Cpus"/> CPUs — while k threads are
/// runnable, each step advances the clock by 1/(rate·min(k, cpus)), so up to <c>cpus</c> threads run
/// at full speed side by side and more share the CPUs (threads are interleaved fairly in virtual
/// time). It also advances by <see cref="Advance"/>: time the program spent waiting for the outside
/// world, and sleeps and timeouts that are skipped (<see cref="AdvanceTo"/>). Time never goes back.
/// Each thread's CPU time is the instructions it executed, at the same rate.
/// </summary>
internal sealed class VirtualClock
{
    public const long DefaultInstructionsPerSecond = 100_000_000;
    private const long PsPerSecond = 1_000_000_000_000;

    private readonly long[] _stepPs; // index k-1: picoseconds per step with k runnable threads
    private long _elapsedPs;

    public ClockBases Bases { get; }
    public long InstructionsPerSecond { get; }
    public int Cpus { get; }
    /// <summary>Picoseconds of one instruction of one thread (its CPU time).</summary>
    public long InstructionPs { get; }

    public VirtualClock(ClockBases bases, long instructionsPerSecond = DefaultInstructionsPerSecond, int cpus = 1)
    {
        if (instructionsPerSecond is < 1000 or > PsPerSecond)
            throw new ArgumentOutOfRangeException(nameof(instructionsPerSecond), "the clock rate must be 1,000 - 1,000,000,000,000 instructions per second");
        Bases = bases;
        InstructionsPerSecond = instructionsPerSecond;
        Cpus = Math.Max(1, cpus);
        InstructionPs = PsPerSecond / instructionsPerSecond;
        _stepPs = new long[Cpus];
        for (int k = 1; k <= Cpus; k++) _stepPs[k - 1] = InstructionPs / k;
    }

    /// <summary>Virtual nanoseconds since the start.</summary>
    public long ElapsedNs => _elapsedPs / 1000;

    /// <summary>One instruction of <paramref name="thread"/>, with <paramref name="runnable"/> threads wanting a CPU.</summary>
    public void Step(ThreadTime thread, int runnable)
    {
        int k = runnable < 1 ? 1 : runnable > Cpus ? Cpus : runnable;
        _elapsedPs += _stepPs[k - 1];
        thread.CpuPs += InstructionPs;
        thread.Process.CpuPs += InstructionPs;
    }

    /// <summary>Moves the clock on by <paramref name="ns"/> (time nobody computed in: waiting, skipped sleeps).</summary>
    public void Advance(long ns)
    {
        if (ns > 0) _elapsedPs += ns * 1000;
    }

    /// <summary>Moves the clock on to <paramref name="elapsedNs"/> if it is not there yet.</summary>
    public void AdvanceTo(long elapsedNs)
    {
        if (elapsedNs * 1000 > _elapsedPs) _elapsedPs = elapsedNs * 1000;
    }

    // ---- readings -------------------------------------------------------------------------

    public long RealtimeNs => Bases.RealtimeNs + ElapsedNs;
    public long MonotonicNs => Bases.MonotonicNs + ElapsedNs;
    public long BoottimeNs => Bases.BoottimeNs + ElapsedNs;

    /// <summary>The virtual time-stamp counter: the real counter at the start, then TscHz per virtual second.</summary>
    public ulong Tsc => Bases.Tsc + (ulong)((UInt128)(ulong)_elapsedPs * (ulong)Bases.TscHz / PsPerSecond);

    /// <summary>
    /// The value (ns) of a clock id for <paramref name="thread"/>, or null when the virtual clock
    /// does not answer for it (unknown or fd-based clocks; CPU clocks of tasks <paramref name="cpuOf"/> does not know).
    /// </summary>
    /// <param name="cpuOf">CPU time (ps) of another task: (pid or tid, per-thread) → value, or null if unknown.</param>
    public long? Read(int clockId, ThreadTime thread, Func<int, bool, long?>? cpuOf = null)
    {
        var d = ClockIds.Decode(clockId);
        long e = ElapsedNs;
        switch (d.Kind)
        {
            case ClockIds.Kind.Realtime: return Bases.RealtimeNs + e;
            case ClockIds.Kind.Monotonic: return Bases.MonotonicNs + e;
            case ClockIds.Kind.MonotonicRaw: return Bases.MonotonicRawNs + e;
            case ClockIds.Kind.Boottime: return Bases.BoottimeNs + e;
            case ClockIds.Kind.Tai: return Bases.RealtimeNs + Bases.TaiOffsetNs + e;
            case ClockIds.Kind.RealtimeCoarse: return Coarse(Bases.RealtimeNs + e);
            case ClockIds.Kind.MonotonicCoarse: return Coarse(Bases.MonotonicNs + e);
            case ClockIds.Kind.ProcessCpu:
                if (d.Pid == 0) return thread.Process.CpuPs / 1000;
                return cpuOf?.Invoke(d.Pid, false) is { } p ? p / 1000 : null;
            case ClockIds.Kind.ThreadCpu:
                if (d.Pid == 0) return thread.CpuPs / 1000;
                return cpuOf?.Invoke(d.Pid, true) is { } t ? t / 1000 : null;
            default: return null;
        }
    }

    /// <summary>A coarse clock shows the time of the last tick: the precise time cut down to the tick grid.</summary>
    private long Coarse(long ns) => ns - ns % Bases.CoarseTickNs;
}
