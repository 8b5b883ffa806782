namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>
/// The recording's virtual time and everything that depends on it: the clock
/// (<see cref="VirtualClock"/>), every thread's and process's CPU time, the threads waiting until a
/// virtual deadline (<see cref="TimedWait"/>), the processes' ITIMER_REAL timers, and the map from
/// real to virtual time for file timestamps. Tracer thread only.
///
/// How time moves (docs/transparency.md): single-stepped instructions advance it
/// (<see cref="VirtualClock.Step"/>); threads running natively (syscalls mode) advance it by the CPU
/// time they really use (<see cref="FollowNative"/>: not by the wall clock, which on a loaded machine
/// also counts the time they wait for a CPU and for the recorder); when no thread can run, time jumps
/// to the next deadline (sleeps and timeouts are skipped, not waited for) — or, with nothing to wait
/// for, follows the wall clock (the program waits for the outside world).
/// </summary>
internal sealed class TimeKeeper(VirtualClock clock)
{
    private readonly Dictionary<int, ThreadTime> _threads = new();
    private readonly Dictionary<int, ProcessTime> _processes = new();
    private readonly Dictionary<int, TimedWait> _waits = new();
    private readonly Dictionary<int, VirtualTimer> _timers = new();
    /// <summary>(real CLOCK_REALTIME, virtual CLOCK_REALTIME) pairs, in order: what virtual time it was when the real clock said so.</summary>
    private readonly List<(long Real, long Virtual)> _anchors = [];
    private long _wallStartNs = HostClock.Read(ClockIds.Monotonic);
    private long _skippedNs;
    private int _lastTid = -1;
    private ThreadTime? _last;

    public VirtualClock Clock { get; } = clock;
    /// <summary>Real CLOCK_REALTIME when virtual time started (file times before it are left alone).</summary>
    public long RealStartNs { get; } = clock.Bases.RealtimeNs;

    // ---- threads and processes ------------------------------------------------------------------

    public ProcessTime Process(int pid)
    {
        if (!_processes.TryGetValue(pid, out var p))
            _processes[pid] = p = new ProcessTime { StartBoottimeNs = Clock.BoottimeNs };
        return p;
    }

    public ThreadTime Thread(int tid, int pid)
    {
        if (tid == _lastTid && _last != null) return _last;
        if (!_threads.TryGetValue(tid, out var t))
            _threads[tid] = t = new ThreadTime(Process(pid)) { StartBoottimeNs = Clock.BoottimeNs };
        _lastTid = tid;
        _last = t;
        return t;
    }

    public ThreadTime? FindThread(int tid) => _threads.GetValueOrDefault(tid);
    public ProcessTime? FindProcess(int pid) => _processes.GetValueOrDefault(pid);

    /// <summary>One single-stepped instruction of a thread, with <paramref name="runnable"/> threads wanting a CPU.</summary>
    public void Step(int tid, int pid, int runnable) => Clock.Step(Thread(tid, pid), runnable);

    public void ThreadExited(int tid)
    {
        _threads.Remove(tid);
        _waits.Remove(tid);
        if (_lastTid == tid) { _lastTid = -1; _last = null; }
    }

    /// <summary>A process ended: its CPU time becomes its parent's children's time; its timer is gone.</summary>
    public void ProcessExited(int pid, int parentPid)
    {
        if (_processes.Remove(pid, out var p) && _processes.TryGetValue(parentPid, out var parent))
            parent.ChildrenCpuPs += p.CpuPs + p.ChildrenCpuPs;
        _timers.Remove(pid);
    }

    // ---- the wall clock ---------------------------------------------------------------------

    private long _excludedNs, _pausedAt = -1;

    /// <summary>
    /// Real nanoseconds since virtual time started (CLOCK_MONOTONIC), less the time every thread was
    /// stopped in the recorder's hands (the program could not have run then: natively that time does
    /// not exist).
    /// </summary>
    public long WallElapsedNs
    {
        get
        {
            long now = HostClock.Read(ClockIds.Monotonic);
            long paused = _pausedAt >= 0 ? now - _pausedAt : 0;
            return now - _wallStartNs - _excludedNs - paused;
        }
    }

    /// <summary>The recorder holds every thread now (it is handling a stop and none runs): the wall clock stops counting.</summary>
    public void PauseWall()
    {
        if (_pausedAt < 0) _pausedAt = HostClock.Read(ClockIds.Monotonic);
    }

    /// <summary>Threads run again (the recorder waits for their next stop): the wall clock counts again.</summary>
    public void ResumeWall()
    {
        if (_pausedAt < 0) return;
        _excludedNs += HostClock.Read(ClockIds.Monotonic) - _pausedAt;
        _pausedAt = -1;
    }

    private long _nativeNs, _lastWallNs;

    /// <summary>
    /// Threads running natively: virtual time advances by the CPU time the program's processes used
    /// since the last look (the kernel's process CPU clocks), shared by the threads that ran side by
    /// side (up to the virtual CPUs), plus what was skipped. A stretch of a second or more of wall
    /// time between two looks counts whole when the CPU time is less: the program waited for the
    /// outside world (input, a peer), as with stepped threads.
    /// Not the wall clock itself: on a loaded machine a resumed thread waits for a CPU, and every stop
    /// waits for the recorder — natively neither wait exists (a 50 ms timer armed just before a long
    /// sleep must still interrupt the sleep).
    /// </summary>
    public void FollowNative(ITimeHost host)
    {
        long cpu = 0;
        foreach (var (pid, p) in _processes)
        {
            long now = HostClock.Read(ClockIds.ProcessCpuClockOf(pid));
            if (now <= p.HostCpuNs) continue; // gone (0) or no progress
            cpu += now - p.HostCpuNs;
            p.HostCpuNs = now;
        }
        long wall = WallElapsedNs;
        long wallDelta = wall - _lastWallNs;
        _lastWallNs = wall;
        long progress = cpu / Math.Clamp(host.RunningNatively, 1, Clock.Cpus);
        if (wallDelta >= OutsideWaitNs && progress < wallDelta) progress = wallDelta;
        _nativeNs += progress;
        Clock.AdvanceTo(_nativeNs + _skippedNs);
    }

    /// <summary>Wall-clock stretches this long are the outside world's (shorter ones: the recorder's latency on a loaded machine).</summary>
    public const long OutsideWaitNs = 1_000_000_000;

    /// <summary>Jumps to <paramref name="elapsedNs"/> (nothing could run until then): the time skipped.</summary>
    public void SkipTo(long elapsedNs)
    {
        long from = Clock.ElapsedNs;
        if (elapsedNs <= from) return;
        Clock.AdvanceTo(elapsedNs);
        _skippedNs += elapsedNs - from;
    }

    /// <summary>Notes what virtual time it is now in real terms (for file timestamps). Cheap: called at system-call exits.</summary>
    public void Anchor()
    {
        long v = Clock.RealtimeNs;
        if (_anchors.Count > 0 && _anchors[^1].Virtual == v) return;
        _anchors.Add((HostClock.Read(ClockIds.Realtime), v));
    }

    /// <summary>
    /// A real CLOCK_REALTIME timestamp (a file's mtime, say) in virtual time: unchanged before the
    /// recording started, else the virtual time it was when the real clock showed it.
    /// </summary>
    public long VirtualOfReal(long realNs)
    {
        if (realNs < RealStartNs) return realNs;
        int lo = 0, hi = _anchors.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_anchors[mid].Real <= realNs) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        long v = found < 0 ? Clock.Bases.RealtimeNs : _anchors[found].Virtual;
        return Math.Min(v, Clock.RealtimeNs);
    }

    // ---- waits and timers ----------------------------------------------------------------------

    public TimedWait? WaitOf(int tid) => _waits.GetValueOrDefault(tid);
    public void Wait(TimedWait wait) => _waits[wait.Tid] = wait;
    public void EndWait(int tid) => _waits.Remove(tid);
    public IEnumerable<TimedWait> Waits => _waits.Values;

    public VirtualTimer Timer(int pid)
    {
        if (!_timers.TryGetValue(pid, out var t)) _timers[pid] = t = new VirtualTimer();
        return t;
    }

    /// <summary>When <see cref="FireDue"/> has something to do (long.MaxValue: never). Cheap when nothing waits (the per-step check).</summary>
    public long DueAtNs => _waits.Count == 0 && _timers.Count == 0 ? long.MaxValue : NextDeadlineNs ?? long.MaxValue;

    /// <summary>The earliest virtual deadline of a wait or timer not yet ended, or null.</summary>
    public long? NextDeadlineNs
    {
        get
        {
            long? next = null;
            foreach (var w in _waits.Values)
                if (!w.Ended && (next is null || w.DeadlineNs < next)) next = w.DeadlineNs;
            foreach (var t in _timers.Values)
                if (t.Armed && (next is null || t.DeadlineNs < next)) next = t.DeadlineNs;
            return next;
        }
    }

    /// <summary>
    /// Ends what is due at the current virtual time: sleeps are released, timed-out waits interrupted,
    /// expired timers deliver SIGALRM (and re-arm). Also ends sleeps that a caught signal interrupts.
    /// </summary>
    public void FireDue(ITimeHost host)
    {
        long now = Clock.ElapsedNs;
        // Timers first: a sleep their SIGALRM interrupts must see the signal pending below.
        foreach (var (pid, t) in _timers)
        {
            if (!t.Armed || t.DeadlineNs > now) continue;
            t.DeadlineNs = t.IntervalNs > 0 ? Math.Max(t.DeadlineNs + t.IntervalNs, now + 1) : 0;
            host.Alarm(pid);
        }
        List<TimedWait>? due = null;
        foreach (var w in _waits.Values)
        {
            if (w.Ended) continue;
            bool signalled = w.Kind == WaitKind.Sleep && host.CaughtSignalPending(w.Tid);
            if (w.DeadlineNs > now && !signalled) continue;
            w.Interrupted = w.DeadlineNs > now;
            (due ??= []).Add(w);
        }
        if (due is null) return;
        foreach (var w in due)
        {
            w.Ended = true;
            if (w.Kind == WaitKind.Sleep) host.ReleaseSyscall(w.Tid);
            else host.Interrupt(w.Tid);
        }
    }
}
