using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Changing how OTHER threads run, from one thread's stop: a mode's rule for a whole address space
/// (layers mode: while any thread steps inside written code, its pages are executable for every
/// thread sharing them, so every one of those threads must step too).
/// </summary>
internal sealed partial class PtraceSession
{
    private readonly List<TraceeThread> _interrupted = new();

    /// <summary>
    /// Every thread sharing <paramref name="self"/>'s address space (its process's threads, CLONE_VM
    /// processes) but itself and those <paramref name="keep"/> names runs in <paramref name="style"/>
    /// from its next resume on. To stepping: threads running natively are stopped first
    /// (PTRACE_INTERRUPT) and waited for, so once this returns none of them executes another
    /// instruction unstepped; their stops are handled later, in order, by the loop. To native: a
    /// thread in the middle of a step keeps stepping (the mode's step observer decides after it).
    /// </summary>
    internal void RestyleSpace(TraceeThread self, ExecutionStyle style, Func<int, bool>? keep)
    {
        var space = self.Rec.Process.Space;
        _interrupted.Clear();
        foreach (var t in _scheduler.All)
        {
            if (t == self || t.Style == style || t.State == TraceeState.Dying || !ReferenceEquals(t.Rec.Process.Space, space)) continue;
            if (keep != null && keep(t.Tid)) continue;
            if (style == ExecutionStyle.Native && t.State is TraceeState.Stepping or TraceeState.EnteringSyscall) continue;
            _scheduler.SetStyle(t, style);
            if (style != ExecutionStyle.Stepping || t.State != TraceeState.Running || HasDeferredStop(t.Tid)) continue;
            if (_ptrace.Interrupt(t.Tid)) _interrupted.Add(t);
            else Gone(t);
        }
        // Any stop will do (the interrupt's, or a system call, a fault or a death that came first):
        // stopped, the thread runs nothing until the loop resumes it, stepped. An interrupt still
        // pending after another stop arrives later as a PTRACE_EVENT_STOP (the thread is then just
        // ready again). Waited for with any-wait, not per thread: a group leader killed by another
        // thread's exit_group reports only once the other threads' deaths are reaped.
        while (_interrupted.Count > 0)
        {
            int tid = _ptrace.WaitAny(out var status);
            if (tid < 0) break;
            _deferred.Enqueue((tid, status));
            for (int i = 0; i < _interrupted.Count; i++)
                if (_interrupted[i].Tid == tid) _interrupted.RemoveAt(i--);
        }
        _interrupted.Clear();
    }

    private bool HasDeferredStop(int tid)
    {
        foreach (var (deferredTid, _) in _deferred)
            if (deferredTid == tid) return true;
        return false;
    }
}
