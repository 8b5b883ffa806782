using System.Buffers.Binary;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

namespace Ether.Replay.Recorder.Tests.Transparency;

/// <summary>The time system calls in virtual time, against a fake session (what it is asked to do to threads).</summary>
public sealed class TimeCallsTests
{
    private const int Pid = 50, Tid = 50;
    private const ulong Buf = 0x1000, Buf2 = 0x2000;

    private static readonly ClockBases Bases = new()
    {
        RealtimeNs = 1_800_000_000_000_000_000, MonotonicNs = 7_000_000_000, MonotonicRawNs = 6_000_000_000,
        BoottimeNs = 9_000_000_000, TaiOffsetNs = 37_000_000_000, CoarseTickNs = 4_000_000, Tsc = 5000, TscHz = 2_000_000_000,
    };

    private sealed class Host : ITimeHost
    {
        public readonly List<string> Did = [];
        public bool SignalPending;
        public void HoldInSyscall(int tid) => Did.Add($"hold {tid}");
        public void ReleaseSyscall(int tid) => Did.Add($"release {tid}");
        public void Interrupt(int tid) => Did.Add($"interrupt {tid}");
        public bool CaughtSignalPending(int tid) => SignalPending;
        public void Alarm(int pid) => Did.Add($"alarm {pid}");
        public int RunningNatively => 1;
    }

    private readonly FakeMemory _memory = new();
    private readonly Host _host = new();
    private readonly TimeKeeper _keeper;
    private readonly TimeCalls _calls;

    public TimeCallsTests()
    {
        _keeper = new TimeKeeper(new VirtualClock(Bases, 100_000_000, cpus: 1));
        _calls = new TimeCalls(_keeper, _host, cpuClocksVirtual: true, trapsTsc: true);
        _memory.Map(Buf, 256);
        _memory.Map(Buf2, 256);
    }

    private FakeSyscall Enter(long nr, params ulong[] args)
    {
        var c = new FakeSyscall(Pid, Tid, nr, _memory, args);
        _calls.OnEntry(c);
        return c;
    }

    private long Exit(FakeSyscall c, long kernelRet)
    {
        c.Exit(kernelRet);
        _calls.OnExit(c, _keeper.Thread(Tid, Pid));
        return c.Return;
    }

    private void Run(int instructions) { for (int i = 0; i < instructions; i++) _keeper.Step(Tid, Pid, 1); }

    private (long Sec, long Frac) Pair(ulong at) => (BinaryPrimitives.ReadInt64LittleEndian(_memory.Get(at, 8)), BinaryPrimitives.ReadInt64LittleEndian(_memory.Get(at + 8, 8)));
    private void SetPair(ulong at, long a, long b) { var x = new byte[16]; BinaryPrimitives.WriteInt64LittleEndian(x, a); BinaryPrimitives.WriteInt64LittleEndian(x.AsSpan(8), b); _memory.Write(at, x); }

    [Fact]
    public void Clocks_show_virtual_time_whatever_the_kernel_wrote()
    {
        Run(250_000); // 2.5 ms
        _memory.Write(Buf, new byte[16]);
        var c = Enter(228, 1, Buf);                        // clock_gettime(CLOCK_MONOTONIC)
        Assert.Equal(0, Exit(c, 0));
        Assert.Equal((7L, 2_500_000L), Pair(Buf));
        c = Enter(96, Buf, 0);                              // gettimeofday
        Exit(c, 0);
        Assert.Equal((1_800_000_000L, 2_500L), Pair(Buf));
        c = Enter(201, Buf2);                               // time
        Assert.Equal(1_800_000_000, Exit(c, 1_700_000_000));
        Assert.Equal(1_800_000_000L, BinaryPrimitives.ReadInt64LittleEndian(_memory.Get(Buf2, 8)));
        c = Enter(228, 3, Buf);                             // CLOCK_THREAD_CPUTIME_ID
        Exit(c, 0);
        Assert.Equal((0L, 2_500_000L), Pair(Buf));
        c = Enter(100, Buf);                                // times: ticks since boot
        Assert.Equal(900, Exit(c, 12345));
        c = Enter(99, Buf);                                 // sysinfo: uptime in seconds
        Exit(c, 0);
        Assert.Equal(9L, BinaryPrimitives.ReadInt64LittleEndian(_memory.Get(Buf, 8)));
    }

    [Fact]
    public void A_sleep_is_held_until_virtual_time_reaches_its_end_and_returns_0()
    {
        SetPair(Buf, 0, 30_000_000);                        // 30 ms
        var c = Enter(35, Buf, Buf2);                        // nanosleep
        Assert.True(c.Skipped);
        Assert.Equal(["hold 50"], _host.Did);
        Assert.Equal(30_000_000, _keeper.NextDeadlineNs);
        Run(1_000_000);                                     // 10 ms of other work
        _keeper.FireDue(_host);
        Assert.Equal(["hold 50"], _host.Did);               // not yet
        _keeper.SkipTo(_keeper.NextDeadlineNs!.Value);      // nothing else to run: skip to the end
        _keeper.FireDue(_host);
        Assert.Equal(["hold 50", "release 50"], _host.Did);
        Assert.Equal(0, Exit(c, 0));
        Assert.Null(_keeper.NextDeadlineNs);
        Assert.Equal(30_000_000, _keeper.Clock.ElapsedNs);
    }

    [Fact]
    public void A_caught_signal_ends_a_sleep_with_EINTR_and_the_time_left()
    {
        SetPair(Buf, 1, 0);
        _memory.Write(Buf2, new byte[16]);
        var c = Enter(35, Buf, Buf2);
        Run(25_000_000);                                    // 250 ms
        _host.SignalPending = true;
        _keeper.FireDue(_host);
        Assert.Contains("release 50", _host.Did);
        Assert.Equal(-4, Exit(c, 0));
        Assert.Equal((0L, 750_000_000L), Pair(Buf2));
    }

    [Fact]
    public void Absolute_sleeps_count_from_the_virtual_clock_and_bad_requests_fail_as_the_kernel_would()
    {
        SetPair(Buf, 7, 500_000_000);                       // CLOCK_MONOTONIC 7.5 s: 0.5 s from now
        var c = Enter(230, 1, 1 /* TIMER_ABSTIME */, Buf, Buf2);
        Assert.Equal(500_000_000, _keeper.NextDeadlineNs);
        _keeper.SkipTo(500_000_000);
        _keeper.FireDue(_host);
        Assert.Equal(0, Exit(c, 0));
        SetPair(Buf, 7, 0);                                 // already past: no wait at all
        c = Enter(230, 1, 1, Buf, 0);
        Assert.Null(_keeper.NextDeadlineNs);
        Assert.Equal(0, Exit(c, 0));
        SetPair(Buf, 0, 1_000_000_000);                     // nsec out of range
        Assert.Equal(-22, Exit(Enter(35, Buf, 0), 0));
        Assert.Equal(-14, Exit(Enter(35, 0xdead0000, 0), 0));
    }

    [Fact]
    public void A_timeout_waits_without_it_in_the_kernel_and_ends_when_virtual_time_passes_it()
    {
        var c = Enter(7, 0, 0, 30);                          // poll(NULL, 0, 30 ms)
        Assert.Equal(unchecked((ulong)-1L), c.KernelArgs[2]); // the kernel waits for readiness only
        _keeper.SkipTo(30_000_000);
        _keeper.FireDue(_host);
        Assert.Equal(["interrupt 50"], _host.Did);
        Assert.Equal(0, Exit(c, -514));                      // -ERESTARTNOHAND from our interrupt becomes "timed out"

        SetPair(Buf, 0, 20_000);                            // select(..., &{0, 20 ms})
        c = Enter(23, 0, 0, 0, 0, Buf);
        Assert.Equal(0UL, c.KernelArgs[4]);
        Run(500_000);                                       // 5 ms, then a descriptor is ready
        Assert.Equal(1, Exit(c, 1));
        Assert.Equal((0L, 15_000L), Pair(Buf));             // the time left, as Linux writes it back

        SetPair(Buf, 0, 5_000_000);                         // futex(FUTEX_WAIT, 5 ms)
        c = Enter(202, 0x9000, 0 | 128, 0, Buf);
        Assert.Equal(0UL, c.KernelArgs[3]);
        _keeper.SkipTo(_keeper.NextDeadlineNs!.Value);
        _keeper.FireDue(_host);
        Assert.Equal(-110, Exit(c, -512));                  // ETIMEDOUT
    }

    [Fact]
    public void Alarm_and_itimers_run_in_virtual_time()
    {
        Assert.Equal(0, Exit(Enter(37, 2), 0));             // alarm(2)
        Run(50_000_000);                                    // 0.5 s
        Assert.Equal(2, Exit(Enter(37, 5), 0));             // 1.5 s left rounds up to 2; now 5 s
        _keeper.FireDue(_host);
        Assert.Empty(_host.Did);
        _keeper.SkipTo(_keeper.NextDeadlineNs!.Value);
        _keeper.FireDue(_host);
        Assert.Equal(["alarm 50"], _host.Did);
        Assert.Equal(5_500_000_000, _keeper.Clock.ElapsedNs);

        var it = new byte[32];
        BinaryPrimitives.WriteInt64LittleEndian(it.AsSpan(8), 10_000);   // interval 10 ms
        BinaryPrimitives.WriteInt64LittleEndian(it.AsSpan(24), 30_000);  // value 30 ms
        _memory.Write(Buf, it);
        Assert.Equal(0, Exit(Enter(38, 0, Buf, 0), 0));      // setitimer(ITIMER_REAL)
        Assert.Equal(0, Exit(Enter(36, 0, Buf2), 0));        // getitimer
        Assert.Equal((0L, 10_000L), Pair(Buf2));
        Assert.Equal((0L, 30_000L), Pair(Buf2 + 16));
        _keeper.SkipTo(_keeper.NextDeadlineNs!.Value);
        _keeper.FireDue(_host);
        Assert.Equal(5_530_000_000 + 10_000_000, _keeper.NextDeadlineNs); // re-armed with its interval
        var virtualTimer = Enter(38, 1, Buf, 0);             // ITIMER_VIRTUAL: the kernel's
        Assert.False(virtualTimer.Skipped);
    }

    [Fact]
    public void The_tsc_mode_is_the_programs_own_when_the_recorder_traps_rdtsc()
    {
        _memory.Write(Buf, new byte[4]);
        Assert.Equal(0, Exit(Enter(157, 25, Buf), 0));       // PR_GET_TSC
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(_memory.Get(Buf, 4)));
        Assert.Equal(0, Exit(Enter(157, 26, 2), 0));         // PR_SET_TSC(SIGSEGV)
        Assert.Equal(2, _calls.TscMode(Pid));
        Exit(Enter(157, 25, Buf), 0);
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(_memory.Get(Buf, 4)));
        Assert.Equal(-22, Exit(Enter(157, 26, 7), 0));
        _calls.Forked(Pid, 77);
        Assert.Equal(2, _calls.TscMode(77));
    }

    [Fact]
    public void File_times_from_during_the_recording_are_shown_in_virtual_time()
    {
        // Virtual time started (at the real date) 10 s ago in real terms and has run 1 ms since;
        // a file written "now" was written at 1 ms in virtual time.
        long start = HostClock.Read(ClockIds.Realtime) - 10_000_000_000;
        var keeper = new TimeKeeper(new VirtualClock(Bases with { RealtimeNs = start }, 100_000_000));
        var calls = new TimeCalls(keeper, _host, cpuClocksVirtual: true, trapsTsc: true);
        for (int i = 0; i < 100_000; i++) keeper.Step(Tid, Pid, 1);
        keeper.Anchor();
        long real = HostClock.Read(ClockIds.Realtime);
        var st = new byte[144];
        BinaryPrimitives.WriteInt64LittleEndian(st.AsSpan(88), real / 1_000_000_000);   // st_mtime
        BinaryPrimitives.WriteInt64LittleEndian(st.AsSpan(96), real % 1_000_000_000);
        BinaryPrimitives.WriteInt64LittleEndian(st.AsSpan(72), 1_000_000_000);          // st_atime: 2001, before the recording
        _memory.Map(Buf, 200);
        _memory.Write(Buf, st);
        var fstat = new FakeSyscall(Pid, Tid, 5, _memory, 3, Buf);   // fstat
        calls.OnEntry(fstat);
        calls.OnExit(fstat.Exit(0), keeper.Thread(Tid, Pid));
        long shown = BinaryPrimitives.ReadInt64LittleEndian(_memory.Get(Buf + 88, 8)) * 1_000_000_000 + BinaryPrimitives.ReadInt64LittleEndian(_memory.Get(Buf + 96, 8));
        Assert.Equal(start + 1_000_000, shown);
        Assert.Equal(1_000_000_000L, BinaryPrimitives.ReadInt64LittleEndian(_memory.Get(Buf + 72, 8)));
    }

    /// <summary>
    /// Native threads advance virtual time by the CPU time they use, not by the wall clock: a process
    /// that sleeps half a second of wall time (it could as well be waiting for a CPU on a loaded
    /// machine, or for the recorder) has used almost no CPU, so almost no virtual time passes.
    /// Waits of a second or more count whole (the outside world).
    /// </summary>
    [Fact]
    public void Native_progress_is_the_programs_cpu_time_not_the_wall_clock()
    {
        using var idle = System.Diagnostics.Process.Start("/bin/sleep", "30");
        try
        {
            _keeper.Process(idle.Id);
            _keeper.FollowNative(_host);
            long before = _keeper.Clock.ElapsedNs;
            Thread.Sleep(500);
            _keeper.FollowNative(_host);
            long quiet = _keeper.Clock.ElapsedNs - before;
            Assert.True(quiet < 100_000_000, $"{quiet} ns of virtual time passed for a process that used no CPU");
            Thread.Sleep(1100);
            _keeper.FollowNative(_host);
            Assert.True(_keeper.Clock.ElapsedNs - before >= TimeKeeper.OutsideWaitNs, "a wait of over a second counts as the outside world's");
        }
        finally { idle.Kill(); }
    }
}
