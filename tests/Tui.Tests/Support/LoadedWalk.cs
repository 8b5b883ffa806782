namespace Ether.Replay.Tui.Tests.Support;

/// <summary>The walk trace opened in a browser session with its background work done (index and
/// export): shared by the tests of a class, since exporting takes a second or two.</summary>
public sealed class LoadedWalk : IDisposable
{
    private readonly TempDir _dir = new();
    internal WalkTrace Trace { get; }
    public string Path { get; }
    public BrowserSession Session { get; }

    public LoadedWalk()
    {
        Path = _dir.File("walk.etrace");
        Trace = WalkTrace.Write(Path);
        Session = BrowserSession.Open(Path);
        if (!Session.StartLoading().Wait(TimeSpan.FromMinutes(2))) throw new TimeoutException("background load of the walk trace");
    }

    public void Dispose()
    {
        Session.Dispose();
        _dir.Dispose();
    }
}
