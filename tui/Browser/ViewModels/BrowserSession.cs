using Ether.Replay.Analyzer.Export;
using Ether.Replay.Analyzer.Query;
using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Log;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>A trace that cannot be browsed, with the one line the user should read.</summary>
public sealed class BrowserOpenException(string message) : Exception(message);

/// <summary>
/// One trace open in the browser. The replay engine answers everything the first screen shows (a page
/// of instructions, the registers at a step) from the chunks around it, so opening costs a footer read
/// and one chunk decode whatever the trace's length. What needs a pass over the whole trace runs in
/// the background after the first screen: the replay index (memory, who-wrote, next execution) and
/// the Parquet export with its DuckDB session (system calls, layers, SQL).
/// </summary>
public sealed class BrowserSession : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private DatabaseGate? _database;
    private TraceAnalysis? _analysis;
    private Task? _loading;

    public string TracePath { get; }
    public string Name => System.IO.Path.GetFileName(TracePath);
    /// <summary>The replay engine. Not thread-safe: the UI thread's alone.</summary>
    public ReplaySession Replay { get; }
    public long LastStep => Replay.LastStep;
    /// <summary>Why only a prefix of the trace is usable (cut or damaged), else null.</summary>
    public string? Warning => Replay.Warning;

    /// <summary>The user's keys: the export steps aside for a moment after each (see <see cref="UserActivity"/>).</summary>
    public UserActivity User { get; } = new();

    public LoadStatus Index { get; } = new("index");
    public LoadStatus Export { get; } = new("export");
    /// <summary>Set when the export finished and its DuckDB session is open.</summary>
    public DatabaseGate? Database => Volatile.Read(ref _database);
    /// <summary>System calls, layers and layer changes, once the export is loaded.</summary>
    public TraceAnalysis? Analysis => Volatile.Read(ref _analysis);
    /// <summary>A warning from the export (the dataset covers a readable prefix only), if any.</summary>
    public string? ExportWarning { get; private set; }

    /// <summary>Raised on a background thread when the index is ready.</summary>
    public event Action? IndexReady;
    /// <summary>Raised on a background thread when <see cref="Analysis"/> is set (or the export failed).</summary>
    public event Action? AnalysisReady;

    private BrowserSession(string path, ReplaySession replay)
    {
        TracePath = path;
        Replay = replay;
    }

    /// <summary>Opens a trace; a missing, unreadable or damaged file is a <see cref="BrowserOpenException"/>.</summary>
    public static BrowserSession Open(string path)
    {
        if (Directory.Exists(path)) throw new BrowserOpenException($"{path}: is a directory, not a trace file");
        if (!File.Exists(path)) throw new BrowserOpenException($"{path}: no such file");
        try
        {
            return new BrowserSession(path, ReplaySession.Open(path));
        }
        catch (TraceFormatException e)
        {
            throw new BrowserOpenException($"{path}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BrowserOpenException($"{path}: cannot read: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>Starts the background work (once): index and export run side by side.</summary>
    public Task StartLoading()
    {
        return _loading ??= Task.WhenAll(LoadIndex(), LoadAnalysis());
    }

    private async Task LoadIndex()
    {
        Index.Start();
        try
        {
            // The index does not step aside for keys: it is short (~0.5 s for 10 M steps) and the jumps wait for it.
            await BackgroundWork.Run("ether-tui index", () => Replay.BuildIndexOnOwnReader(Index.Report, _stop.Token)).ConfigureAwait(false);
            if (Replay.IndexBuilt) Index.Finish();
            else Index.Fail("the trace changed while it was indexed");
        }
        catch (OperationCanceledException)
        {
            Index.Fail("cancelled");
        }
        catch (Exception e)
        {
            Index.Fail(OneLine(e));
        }
        IndexReady?.Invoke();
    }

    private async Task LoadAnalysis()
    {
        Export.Start();
        try
        {
            string dataset = "";
            await BackgroundWork.Run("ether-tui export", () =>
            {
                // One thread, no background writes: all of the export's CPU at low priority.
                dataset = DatasetTarget.Resolve(TracePath, p =>
                    {
                        Export.Report(p.Chunk, p.Chunks);
                        User.StepAside(_stop.Token);
                    }, out var warning,
                    new ExportOptions { BackgroundWrites = false }, _stop.Token);
                ExportWarning = warning;
            }).ConfigureAwait(false);
            _stop.Token.ThrowIfCancellationRequested();
            // Not on the low-priority thread: DuckDB's worker threads, started here, would inherit its priority.
            var database = await Task.Run(() => new DatabaseGate(AnalysisDatabase.Open(dataset)), _stop.Token).ConfigureAwait(false);
            Volatile.Write(ref _database, database);
            var analysis = await Database!.Run(TraceAnalysis.Load, _stop.Token).ConfigureAwait(false);
            Volatile.Write(ref _analysis, analysis);
            Export.Finish();
        }
        catch (OperationCanceledException)
        {
            Export.Fail("cancelled");
        }
        catch (Exception e)
        {
            Export.Fail(OneLine(e));
        }
        AnalysisReady?.Invoke();
    }

    internal static string OneLine(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => OneLine(a.InnerExceptions[0]),
        _ => e.Message.ReplaceLineEndings(" ").Trim(),
    };

    /// <summary>Stops the background work: the index and the export stop at their next chunk (a cut export
    /// removes its half-written folder), given a few seconds; a query still running keeps its connection.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loading?.Wait(TimeSpan.FromSeconds(3));
        }
        catch (AggregateException)
        {
            // failures are in the load statuses already
        }
        Database?.DisposeIfIdle();
        Replay.Dispose();
    }
}
