namespace Ether.Replay.Tui.ViewModels;

/// <summary>
/// When the user last pressed a key. The background export asks <see cref="StepAside"/> between chunks
/// and pauses while a key is fresh, so the frame that key asks for gets both cores
/// instead of sharing them with the export (its nice value alone left the JIT, the garbage collector
/// and the second core to share). A pause lasts at most <see cref="LongestPause"/> per call: holding a
/// key down slows the background work, never stops it.
/// </summary>
public sealed class UserActivity
{
    /// <summary>How long after a key the background work keeps out of the way.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);
    public static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(10);

    private readonly TimeProvider _time;
    private readonly Action<TimeSpan> _sleep;
    private long _lastKey = long.MinValue;

    /// <param name="time">The clock (tests pass a fake one).</param>
    /// <param name="sleep">How to wait a slice (tests advance their fake clock).</param>
    public UserActivity(TimeProvider? time = null, Action<TimeSpan>? sleep = null)
    {
        _time = time ?? TimeProvider.System;
        _sleep = sleep ?? Thread.Sleep;
    }

    /// <summary>Called on the UI thread for every key.</summary>
    public void KeyPressed() => Interlocked.Exchange(ref _lastKey, _time.GetTimestamp());

    /// <summary>Called by background work between chunks: waits until no key came for <see cref="Quiet"/>,
    /// at most <see cref="LongestPause"/>. Returns how long it waited.</summary>
    public TimeSpan StepAside(CancellationToken cancel = default)
    {
        long start = _time.GetTimestamp();
        while (!cancel.IsCancellationRequested)
        {
            long last = Interlocked.Read(ref _lastKey);
            if (last == long.MinValue || _time.GetElapsedTime(last) >= Quiet) break;
            if (_time.GetElapsedTime(start) >= LongestPause) break;
            _sleep(Slice);
        }
        return _time.GetElapsedTime(start);
    }
}
