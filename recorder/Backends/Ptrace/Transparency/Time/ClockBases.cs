namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>
/// The real clocks at the moment virtual time starts (the program's exec), from which every
/// virtual clock counts on: the program starts at the real date, uptime and TSC, and from then on
/// sees time advance at the virtual rate. Also the host facts the clocks are shaped by: the TSC
/// frequency, the coarse clocks' tick and the TAI offset.
/// </summary>
internal sealed record ClockBases
{
    public required long RealtimeNs { get; init; }
    public required long MonotonicNs { get; init; }
    public required long MonotonicRawNs { get; init; }
    public required long BoottimeNs { get; init; }
    /// <summary>CLOCK_TAI - CLOCK_REALTIME (37 s when the kernel was told; 0 when not).</summary>
    public required long TaiOffsetNs { get; init; }
    /// <summary>Resolution of the *_COARSE clocks (one kernel tick).</summary>
    public required long CoarseTickNs { get; init; }
    /// <summary>The time-stamp counter at that moment, and its frequency.</summary>
    public required ulong Tsc { get; init; }
    public required long TscHz { get; init; }

    /// <summary>The host's clocks now (CLOCK_* via clock_gettime, the TSC via <see cref="HostTsc"/>).</summary>
    public static ClockBases Now()
    {
        long coarse = HostClock.Resolution(ClockIds.RealtimeCoarse);
        ulong tsc = HostTsc.Read();
        long mono = HostClock.Read(ClockIds.Monotonic);
        long real = HostClock.Read(ClockIds.Realtime);
        long raw = HostClock.Read(ClockIds.MonotonicRaw);
        long boot = HostClock.Read(ClockIds.Boottime);
        long tai = HostClock.Read(ClockIds.Tai);
        // Whole seconds: the kernel's TAI offset is an integer number of seconds.
        long offset = (long)Math.Round((tai - real) / 1e9) * 1_000_000_000L;
        return new ClockBases
        {
            RealtimeNs = real, MonotonicNs = mono, MonotonicRawNs = raw, BoottimeNs = boot, TaiOffsetNs = offset,
            CoarseTickNs = coarse > 0 ? coarse : 4_000_000, Tsc = tsc, TscHz = HostTsc.FrequencyHz,
        };
    }
}
