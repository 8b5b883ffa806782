namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>
/// The clock ids of clock_gettime(2) (linux/time.h) and the encoding of the dynamic CPU-time clocks
/// (clock_getcpuclockid, pthread_getcpuclockid: <c>(~pid &lt;&lt; 3) | perthread &lt;&lt; 2 | type</c>,
/// kernel/time/posix-cpu-timers.c).
/// </summary>
internal static class ClockIds
{
    public const int Realtime = 0, Monotonic = 1, ProcessCpuTime = 2, ThreadCpuTime = 3, MonotonicRaw = 4,
        RealtimeCoarse = 5, MonotonicCoarse = 6, Boottime = 7, RealtimeAlarm = 8, BoottimeAlarm = 9, Tai = 11;

    /// <summary>What a clock id asks for, in terms of the virtual clock.</summary>
    public enum Kind
    {
        /// <summary>Not a clock the virtual clock answers (file-descriptor clocks, unknown ids): the kernel's answer stands.</summary>
        Unknown,
        Realtime, Monotonic, MonotonicRaw, Boottime, Tai, RealtimeCoarse, MonotonicCoarse,
        /// <summary>CPU time of a process (its pid in <see cref="Decoded.Pid"/>; 0 = the caller's).</summary>
        ProcessCpu,
        /// <summary>CPU time of a thread (its tid in <see cref="Decoded.Pid"/>; 0 = the caller).</summary>
        ThreadCpu,
    }

    public readonly record struct Decoded(Kind Kind, int Pid);

    /// <summary>The dynamic clock of a process's CPU time (all its threads; CPUCLOCK_SCHED), as clock_getcpuclockid gives it.</summary>
    public static int ProcessCpuClockOf(int pid) => (~pid << 3) | 2;

    public static Decoded Decode(int clockId)
    {
        switch (clockId)
        {
            case Realtime or RealtimeAlarm: return new(Kind.Realtime, 0);
            case Monotonic: return new(Kind.Monotonic, 0);
            case ProcessCpuTime: return new(Kind.ProcessCpu, 0);
            case ThreadCpuTime: return new(Kind.ThreadCpu, 0);
            case MonotonicRaw: return new(Kind.MonotonicRaw, 0);
            case RealtimeCoarse: return new(Kind.RealtimeCoarse, 0);
            case MonotonicCoarse: return new(Kind.MonotonicCoarse, 0);
            case Boottime or BoottimeAlarm: return new(Kind.Boottime, 0);
            case Tai: return new(Kind.Tai, 0);
        }
        if (clockId >= 0) return new(Kind.Unknown, 0);
        // Dynamic clocks: type 3 (CPUCLOCK_MAX / CLOCKFD) are posix clocks on a file descriptor.
        int type = clockId & 3;
        if (type == 3) return new(Kind.Unknown, 0);
        int pid = ~(clockId >> 3);
        return new((clockId & 4) != 0 ? Kind.ThreadCpu : Kind.ProcessCpu, pid);
    }
}
