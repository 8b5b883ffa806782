using System.Diagnostics;
using System.Globalization;
using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>A query's result as text cells, capped at <see cref="SqlConsoleModel.MaxRows"/> rows.</summary>
public sealed record SqlResult(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows, bool Truncated, TimeSpan Elapsed)
{
    /// <summary>The column whose value is a step to jump to: "step", else the first "*_step" column.</summary>
    public int? StepColumn { get; } = FindStepColumn(Columns);

    private static int? FindStepColumn(IReadOnlyList<string> columns)
    {
        for (int i = 0; i < columns.Count; i++)
            if (columns[i].Equals("step", StringComparison.OrdinalIgnoreCase)) return i;
        for (int i = 0; i < columns.Count; i++)
            if (columns[i].EndsWith("_step", StringComparison.OrdinalIgnoreCase)) return i;
        return null;
    }
}

/// <summary>
/// The SQL console: a query against the trace's tables (the views `ether sql` has: instructions,
/// syscalls, memory_writes, layer_transitions, …), run off the UI thread, its result as a grid, and the
/// step of a row for Enter to jump to. Earlier queries are kept for Up/Down in the query line.
/// </summary>
public sealed class SqlConsoleModel(BrowserSession session)
{
    public const int MaxRows = 10_000;
    private readonly List<string> _history = new();
    private int _historyAt;

    public SqlResult? Result { get; private set; }
    public string? Error { get; private set; }
    public bool Running { get; private set; }

    /// <summary>Runs <paramref name="sql"/>; the result or the one-line error lands in Result / Error.</summary>
    public async Task RunAsync(string sql)
    {
        sql = sql.Trim();
        if (sql.Length == 0)
        {
            Error = "type a query, e.g. SELECT step, name FROM syscalls";
            return;
        }
        if (_history.Count == 0 || _history[^1] != sql) _history.Add(sql);
        _historyAt = _history.Count;
        if (session.Database is not { } db)
        {
            Error = session.Export.NotReadyReason("SQL") ?? "the SQL tables are not loaded yet";
            return;
        }
        Running = true;
        try
        {
            Result = await db.Run(d => Execute(d, sql));
            Error = null;
        }
        catch (SqlException e)
        {
            Error = e.Message;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OverflowException)
        {
            Error = BrowserSession.OneLine(e);
        }
        finally
        {
            Running = false;
        }
    }

    private static SqlResult Execute(AnalysisDatabase db, string sql)
    {
        var watch = Stopwatch.StartNew();
        using var reader = db.Query(sql);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<string?[]>();
        bool truncated = false;
        while (AnalysisDatabase.Read(reader))
        {
            if (rows.Count == MaxRows)
            {
                truncated = true;
                break;
            }
            var cells = new string?[columns.Count];
            for (int i = 0; i < cells.Length; i++)
                cells[i] = reader.IsDBNull(i) ? null : ResultPrinter.Text(AnalysisDatabase.Materialize(reader.GetValue(i)));
            rows.Add(cells);
        }
        return new SqlResult(columns, rows, truncated, watch.Elapsed);
    }

    /// <summary>The step in row <paramref name="row"/>'s step column, if it has one.</summary>
    public long? StepOf(int row)
    {
        if (Result is not { StepColumn: { } c } r || row < 0 || row >= r.Rows.Count) return null;
        return long.TryParse(r.Rows[row][c], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) ? step : null;
    }

    /// <summary>"1,234 rows in 12 ms" (or the error).</summary>
    public string Summary() =>
        Error ?? (Running ? "running…" : Result is { } r
            ? $"{r.Rows.Count:N0}{(r.Truncated ? "+" : "")} row{(r.Rows.Count == 1 ? "" : "s")} in {r.Elapsed.TotalMilliseconds:N0} ms" +
              (r.Truncated ? $" (first {MaxRows:N0} shown)" : "") +
              (r.StepColumn is { } c ? $"; Enter jumps to {r.Columns[c]}" : "")
            : "type a query and press Enter; tables: instructions, syscalls, memory_writes, registers, layer_transitions, unpack_layers, regions, …");

    public string? PreviousQuery() => _history.Count == 0 ? null : _history[_historyAt = Math.Max(0, _historyAt - 1)];

    public string? NextQuery()
    {
        if (_historyAt >= _history.Count - 1)
        {
            _historyAt = _history.Count;
            return "";
        }
        return _history[++_historyAt];
    }
}
