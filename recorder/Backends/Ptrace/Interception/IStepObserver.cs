namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// Called after every completed instruction step of a stepping thread, once the pipeline has
/// recorded it (registers are the ones after the step). Used to switch a thread's
/// <see cref="Modes.ExecutionStyle"/> — e.g. back to native running once execution leaves written
/// code. On the hot path of full mode: keep it to a few comparisons, allocate nothing.
/// </summary>
internal interface IStepObserver
{
    void AfterStep(ThreadStop stop);

    /// <summary>The thread is gone (it died, or another thread's exec ended it): forget what was kept about it (its tid may be reused).</summary>
    void ThreadGone(int tid)
    {
    }
}
