using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

namespace Ether.Replay.Recorder.Tests.Transparency;

public sealed class VirtualClockTests
{
    private static readonly ClockBases Bases = new()
    {
        RealtimeNs = 1_700_000_000_000_000_000, MonotonicNs = 5_000_000_000, MonotonicRawNs = 4_000_000_000,
        BoottimeNs = 6_000_000_000, TaiOffsetNs = 37_000_000_000, CoarseTickNs = 4_000_000, Tsc = 1_000_000, TscHz = 2_500_000_000,
    };

    [Fact]
    public void One_instruction_is_one_rate_th_of_a_second_and_clocks_start_at_the_bases()
    {
        var clock = new VirtualClock(Bases, 100_000_000, cpus: 2);
        var thread = new ThreadTime(new ProcessTime());
        Assert.Equal(Bases.RealtimeNs, clock.Read(ClockIds.Realtime, thread));
        for (int i = 0; i < 1_000_000; i++) clock.Step(thread, runnable: 1);
        Assert.Equal(10_000_000, clock.ElapsedNs); // 1 M instructions at 100 M/s = 10 ms
        Assert.Equal(Bases.MonotonicNs + 10_000_000, clock.Read(ClockIds.Monotonic, thread));
        Assert.Equal(Bases.MonotonicRawNs + 10_000_000, clock.Read(ClockIds.MonotonicRaw, thread));
        Assert.Equal(Bases.BoottimeNs + 10_000_000, clock.Read(ClockIds.Boottime, thread));
        Assert.Equal(Bases.RealtimeNs + 37_000_000_000 + 10_000_000, clock.Read(ClockIds.Tai, thread));
        Assert.Equal(10_000_000, clock.Read(ClockIds.ThreadCpuTime, thread));
        Assert.Equal(10_000_000, clock.Read(ClockIds.ProcessCpuTime, thread));
        // The TSC ran 10 ms at 2.5 GHz.
        Assert.Equal(Bases.Tsc + 25_000_000UL, clock.Tsc);
    }

    [Fact]
    public void Threads_side_by_side_share_the_clock_up_to_the_cpu_count()
    {
        var clock = new VirtualClock(Bases, 100_000_000, cpus: 2);
        var process = new ProcessTime();
        var a = new ThreadTime(process);
        var b = new ThreadTime(process);
        for (int i = 0; i < 1000; i++) { clock.Step(a, 2); clock.Step(b, 2); }
        // Two runnable threads on two CPUs: each ran 1000 instructions in 10 us.
        Assert.Equal(10_000, clock.ElapsedNs);
        Assert.Equal(10_000, clock.Read(ClockIds.ThreadCpuTime, a));
        Assert.Equal(20_000, clock.Read(ClockIds.ProcessCpuTime, a));
        // Three runnable threads on two CPUs: they share them.
        var c = new ThreadTime(process);
        for (int i = 0; i < 1000; i++) { clock.Step(a, 3); clock.Step(b, 3); clock.Step(c, 3); }
        Assert.Equal(10_000 + 15_000, clock.ElapsedNs);
    }

    [Fact]
    public void Waits_and_skips_move_the_clock_forward_only()
    {
        var clock = new VirtualClock(Bases);
        clock.Advance(5_000);
        clock.AdvanceTo(2_000);
        Assert.Equal(5_000, clock.ElapsedNs);
        clock.AdvanceTo(600_000_000_000);
        Assert.Equal(600_000_000_000, clock.ElapsedNs);
        clock.Advance(-5);
        Assert.Equal(600_000_000_000, clock.ElapsedNs);
    }

    [Fact]
    public void Coarse_clocks_trail_by_less_than_a_tick()
    {
        var clock = new VirtualClock(Bases);
        var t = new ThreadTime(new ProcessTime());
        clock.Advance(6_999_999);
        long precise = clock.Read(ClockIds.Monotonic, t)!.Value, coarse = clock.Read(ClockIds.MonotonicCoarse, t)!.Value;
        Assert.True(coarse <= precise && precise - coarse < Bases.CoarseTickNs);
        Assert.Equal(0, coarse % Bases.CoarseTickNs);
    }

    [Fact]
    public void Dynamic_cpu_clocks_of_other_tasks_decode_and_fd_clocks_are_not_answered()
    {
        // pthread_getcpuclockid(tid 321) and clock_getcpuclockid(pid 77) as glibc builds them.
        int threadClock = (~321 << 3) | 4 | 2, processClock = (~77 << 3) | 2, fdClock = (~3 << 3) | 3;
        Assert.Equal(new ClockIds.Decoded(ClockIds.Kind.ThreadCpu, 321), ClockIds.Decode(threadClock));
        Assert.Equal(new ClockIds.Decoded(ClockIds.Kind.ProcessCpu, 77), ClockIds.Decode(processClock));
        Assert.Equal(ClockIds.Kind.Unknown, ClockIds.Decode(fdClock).Kind);
        var clock = new VirtualClock(Bases);
        var t = new ThreadTime(new ProcessTime());
        Assert.Equal(4_000, clock.Read(threadClock, t, (id, perThread) => id == 321 && perThread ? 4_000_000 : null));
        Assert.Null(clock.Read(processClock, t, (_, _) => null));
        Assert.Null(clock.Read(fdClock, t));
        Assert.Null(clock.Read(10, t)); // no clock 10
    }

    [Fact]
    public void The_rate_must_be_sensible() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtualClock(Bases, 10));

    [Fact]
    public void The_host_tsc_runs_at_a_plausible_frequency_and_the_bases_are_now()
    {
        ulong a = HostTsc.Read();
        ulong b = HostTsc.Read();
        Assert.True(b > a);
        Assert.InRange(HostTsc.FrequencyHz, 200_000_000L, 20_000_000_000L);
        // Where the kernel reports it (constant TSC), the measured frequency is within 2 % of "cpu MHz".
        string info = File.ReadAllText("/proc/cpuinfo");
        if (info.Contains(" constant_tsc") && info.Contains(" tsc_known_freq"))
        {
            double mhz = double.Parse(info.Split('\n').First(l => l.StartsWith("cpu MHz")).Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(HostTsc.FrequencyHz / 1e6, mhz * 0.98, mhz * 1.02);
        }
        var bases = ClockBases.Now();
        Assert.InRange(bases.RealtimeNs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 - 5_000_000_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 + 5_000_000_000);
        Assert.True(bases.BoottimeNs >= bases.MonotonicNs);
        Assert.Equal(0, bases.TaiOffsetNs % 1_000_000_000);
    }
}
