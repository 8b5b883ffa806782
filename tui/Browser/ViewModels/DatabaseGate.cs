using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>
/// The trace's DuckDB session, one query at a time, always off the UI thread: a DuckDB connection is
/// not meant for concurrent commands, and a slow query must never freeze the screen.
/// </summary>
public sealed class DatabaseGate(AnalysisDatabase database) : IDisposable
{
    private readonly SemaphoreSlim _one = new(1, 1);

    public Task<T> Run<T>(Func<AnalysisDatabase, T> work, CancellationToken cancel = default) => Task.Run(async () =>
    {
        await _one.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return work(database);
        }
        finally
        {
            _one.Release();
        }
    }, cancel);

    public void Dispose()
    {
        _one.Wait();
        database.Dispose();
    }

    /// <summary>Closes the connection unless a query is running (leaving to the process's end).</summary>
    public void DisposeIfIdle()
    {
        if (_one.Wait(0)) database.Dispose();
    }
}
