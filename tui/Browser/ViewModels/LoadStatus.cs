namespace Ether.Replay.Tui.ViewModels;

public enum LoadState { Waiting, Running, Ready, Failed }

/// <summary>
/// How far one piece of background work has got (the replay index, the Parquet export): written by
/// the worker thread, read by the UI each time it draws the status bar.
/// </summary>
public sealed class LoadStatus(string what)
{
    private volatile LoadState _state;
    private long _progress; // done << 32 | total
    private volatile string? _error;

    public string What { get; } = what;
    public LoadState State => _state;
    public string? Error => _error;
    public bool IsReady => _state == LoadState.Ready;

    /// <summary>Percent done, 0..100.</summary>
    public int Percent
    {
        get
        {
            long p = Interlocked.Read(ref _progress);
            long done = p >> 32, total = p & 0xffffffff;
            return total == 0 ? 0 : (int)Math.Min(100, done * 100 / total);
        }
    }

    public void Start() => _state = LoadState.Running;

    public void Report(int done, int total)
    {
        Interlocked.Exchange(ref _progress, ((long)Math.Max(0, done) << 32) | (uint)Math.Max(0, total));
        if (_state == LoadState.Waiting) _state = LoadState.Running;
    }

    public void Finish() => _state = LoadState.Ready;

    public void Fail(string error)
    {
        _error = error;
        _state = LoadState.Failed;
    }

    /// <summary>"index 42%", "index ready", "export failed: …".</summary>
    public string Describe() => _state switch
    {
        LoadState.Waiting => $"{What}: waiting",
        LoadState.Running => $"{What} {Percent}%",
        LoadState.Ready => $"{What} ready",
        _ => $"{What} failed: {_error}",
    };

    /// <summary>Why something that needs this work cannot run yet, or null when it can.</summary>
    public string? NotReadyReason(string needs) => _state switch
    {
        LoadState.Ready => null,
        LoadState.Failed => $"{needs} unavailable: {What} failed ({_error})",
        _ => $"{needs} needs the {What}, still being built ({Percent}%): try again in a moment",
    };
}
