namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// How other threads (Ctrl-C handler, the time limit) ask a running recording to stop. The first
/// request wins. A backend polls <see cref="StopRequested"/> between events and, while it records,
/// registers a wake-up (<see cref="SetWake"/>) for when it may be blocked waiting on its target —
/// e.g. a tracer in waitpid while the program sleeps in a system call for hours.
/// </summary>
public sealed class RecordingControl
{
    private volatile bool _requested;
    private StopReason _reason;
    private string _detail = "";
    private Action? _wake;
    private readonly object _gate = new();

    public bool StopRequested => _requested;
    public StopReason Reason { get { lock (_gate) return _reason; } }
    public string Detail { get { lock (_gate) return _detail; } }

    /// <summary>
    /// Set by the backend while it records (null when it is done): how to wake it. If a stop was
    /// already requested, <paramref name="wake"/> runs at once — a request made while the backend
    /// was still starting is not lost.
    /// </summary>
    internal void SetWake(Action? wake)
    {
        bool now;
        lock (_gate)
        {
            _wake = wake;
            now = wake != null && _requested;
        }
        if (now) wake!();
    }

    /// <summary>First request wins; later ones are ignored. Safe from any thread, including a signal handler's.</summary>
    public void RequestStop(StopReason reason, string detail)
    {
        Action? wake;
        lock (_gate)
        {
            if (_requested) return;
            _reason = reason;
            _detail = detail;
            _requested = true;
            wake = _wake;
        }
        wake?.Invoke();
    }
}
