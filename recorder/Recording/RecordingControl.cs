using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// How other threads (Ctrl-C handler, timeout timer) ask a running recording to stop. The tracer
/// thread polls <see cref="StopRequested"/> between stops; if it is blocked waiting for a target
/// that sleeps in a system call, the owner of this object kills the target tree after a grace
/// period, which wakes the tracer up (see <see cref="KillTarget"/>).
/// </summary>
public sealed class RecordingControl
{
    private volatile bool _requested;
    private StopReason _reason;
    private string _detail = "";
    private readonly object _gate = new();

    public bool StopRequested => _requested;
    public StopReason Reason { get { lock (_gate) return _reason; } }
    public string Detail { get { lock (_gate) return _detail; } }

    /// <summary>Set by the backend: kills every traced process (safe to call from any thread).</summary>
    internal Action? KillTarget { get; set; }

    /// <summary>First request wins; later ones are ignored.</summary>
    public void RequestStop(StopReason reason, string detail)
    {
        lock (_gate)
        {
            if (_requested) return;
            _reason = reason;
            _detail = detail;
            _requested = true;
        }
        // Wake a tracer blocked in waitpid: the target may sleep in a system call for hours.
        var kill = KillTarget;
        if (kill != null)
            _ = Task.Delay(TimeSpan.FromMilliseconds(300)).ContinueWith(_ => kill(), TaskScheduler.Default);
    }
}
