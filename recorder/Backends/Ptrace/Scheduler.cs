using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// The traced threads and who runs next. Threads in <see cref="ExecutionStyle.Stepping"/> take
/// turns, one at a time (so every memory write is attributable to one instruction), in round-robin
/// time slices; threads in <see cref="ExecutionStyle.Native"/> all run at once, each until its next
/// system-call stop. A thread inside a system call runs in the kernel meanwhile, whatever its style.
/// Tracer thread only.
/// </summary>
internal sealed class Scheduler(int timeSliceSteps)
{
    private readonly Dictionary<int, TraceeThread> _byTid = new();
    /// <summary>Creation order: the round-robin order of stepping threads.</summary>
    private readonly List<TraceeThread> _order = new();
    /// <summary>Native threads that became ready since the loop last resumed them.</summary>
    private readonly List<TraceeThread> _nativeReady = new();

    /// <summary>Processes whose threads must not run (stopped by the program's own emulated debugger).</summary>
    private readonly HashSet<int> _heldPids = new();

    private TraceeThread? _current;
    private int _sliceLeft;
    private int _rrIndex;

    public int Count => _order.Count;

    /// <summary>Every traced thread, in creation order.</summary>
    public IReadOnlyList<TraceeThread> All => _order;

    /// <summary>The stepping thread whose single step (or stepped system-call instruction) is under way; at most one.</summary>
    public TraceeThread? InFlight { get; private set; }

    public bool TryGet(int tid, out TraceeThread thread) => _byTid.TryGetValue(tid, out thread!);

    public void Add(TraceeThread t)
    {
        _byTid[t.Tid] = t;
        _order.Add(t);
    }

    public void Remove(TraceeThread t)
    {
        if (_byTid.TryGetValue(t.Tid, out var found) && found == t) _byTid.Remove(t.Tid);
        int index = _order.IndexOf(t);
        if (index >= 0)
        {
            _order.RemoveAt(index);
            if (_rrIndex >= index && _rrIndex > 0) _rrIndex--;
        }
        _nativeReady.Remove(t);
        if (InFlight == t) InFlight = null;
        if (_current == t) _current = null;
    }

    /// <summary>A non-leader thread exec'd and took over the thread-group id.</summary>
    public void ChangeTid(TraceeThread t, int newTid)
    {
        _byTid.Remove(t.Tid);
        t.Rec.Tid = newTid;
        _byTid[newTid] = t;
    }

    /// <summary>The other live threads of <paramref name="process"/> (a copy: callers remove them).</summary>
    public List<TraceeThread> ThreadsOf(RecordedProcess process, TraceeThread? except = null) =>
        _order.Where(o => o.Rec.Process == process && o != except).ToList();

    /// <summary>The thread stopped and may run again: it joins its style's queue.</summary>
    public void MakeReady(TraceeThread t)
    {
        t.State = TraceeState.Ready;
        if (InFlight == t) InFlight = null;
        if (t.Style == ExecutionStyle.Native) _nativeReady.Add(t);
    }

    /// <summary>
    /// Changes the style of a thread from outside its own stop (another thread's interceptor): a
    /// ready thread moves to the other queue (a ready thread made native would otherwise be in
    /// neither: the stepping turn skips it and nobody resumes it).
    /// </summary>
    public void SetStyle(TraceeThread t, ExecutionStyle style)
    {
        t.Style = style;
        if (style == ExecutionStyle.Native && t.State == TraceeState.Ready && !_nativeReady.Contains(t)) _nativeReady.Add(t);
    }

    /// <summary>Takes the native threads to resume now (the list is reused: consume it before the next call).</summary>
    public List<TraceeThread> TakeNativeReady(List<TraceeThread> into)
    {
        into.Clear();
        foreach (var t in _nativeReady)
            if (t.State == TraceeState.Ready && t.Style == ExecutionStyle.Native && !IsHeld(t)) into.Add(t);
        _nativeReady.Clear();
        return into;
    }

    /// <summary>The stepping thread whose turn it is, or null when none is ready (or one is in flight).</summary>
    public TraceeThread? NextToStep()
    {
        if (InFlight != null) return null;
        if (_current is { State: TraceeState.Ready, Style: ExecutionStyle.Stepping } && _sliceLeft > 0 && !IsHeld(_current)) return _current;
        int n = _order.Count;
        for (int i = 1; i <= n; i++)
        {
            int index = (_rrIndex + i) % n;
            var t = _order[index];
            if (t.State != TraceeState.Ready || t.Style != ExecutionStyle.Stepping || IsHeld(t)) continue;
            _rrIndex = index;
            _current = t;
            _sliceLeft = timeSliceSteps;
            return t;
        }
        return null;
    }

    public bool IsHeld(TraceeThread t) => _heldPids.Count > 0 && _heldPids.Contains(t.Pid);

    /// <summary>
    /// Holds every thread of <paramref name="pid"/> where it stops (they are not stepped nor resumed
    /// until released), or releases them. Returns the process's threads (the caller stops those
    /// running natively, and requeues ready native ones on release).
    /// </summary>
    public List<TraceeThread> Hold(int pid, bool held)
    {
        if (held) _heldPids.Add(pid);
        else _heldPids.Remove(pid);
        var threads = _order.Where(t => t.Pid == pid).ToList();
        if (!held)
            foreach (var t in threads)
                if (t.State == TraceeState.Ready && t.Style == ExecutionStyle.Native && !_nativeReady.Contains(t)) _nativeReady.Add(t);
        return threads;
    }

    /// <summary>The thread was resumed for one step: its trap is awaited, and its slice shrinks.</summary>
    public void StepStarted(TraceeThread t)
    {
        InFlight = t;
        _sliceLeft--;
    }

    /// <summary>The in-flight thread stopped for another reason (a system call, a signal, a group-stop) or is gone.</summary>
    public void Landed(TraceeThread t)
    {
        if (InFlight == t) InFlight = null;
    }
}
