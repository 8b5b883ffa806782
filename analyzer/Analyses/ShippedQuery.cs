using System.Globalization;
using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>One row of a shipped analysis, by column name.</summary>
public sealed class ResultRow(IReadOnlyDictionary<string, int> columns, object?[] values)
{
    public object? this[string column] => values[columns[column]];
    public T Get<T>(string column) => (T)Convert.ChangeType(values[columns[column]]!, typeof(T), CultureInfo.InvariantCulture);
    public T? Nullable<T>(string column) where T : struct => values[columns[column]] is { } v ? (T)Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture) : null;
    public string? Text(string column) => ResultPrinter.Text(values[columns[column]]);
    public IReadOnlyDictionary<string, int> Columns => columns;
    public object?[] Values => values;
}

/// <summary>
/// Runs a shipped SQL file (analyzer/Sql/) with its filters set as DuckDB variables — the same way a
/// user runs the file by hand after <c>SET VARIABLE pid = 1234;</c> — and resets them afterwards.
/// </summary>
public static class ShippedQuery
{
    public static List<ResultRow> Run(AnalysisDatabase db, string file, IReadOnlyDictionary<string, object?>? variables = null)
    {
        variables ??= new Dictionary<string, object?>();
        foreach (var (name, value) in variables)
            if (value != null) db.Execute($"SET VARIABLE {name} = {Literal(value)}");
        try
        {
            using var reader = db.Query(ShippedSql.Load(file));
            var columns = new Dictionary<string, int>();
            for (int i = 0; i < reader.FieldCount; i++) columns.TryAdd(reader.GetName(i), i);
            var rows = new List<ResultRow>();
            while (AnalysisDatabase.Read(reader))
            {
                var values = new object?[reader.FieldCount];
                for (int i = 0; i < values.Length; i++) values[i] = reader.IsDBNull(i) ? null : AnalysisDatabase.Materialize(reader.GetValue(i));
                rows.Add(new ResultRow(columns, values));
            }
            return rows;
        }
        finally
        {
            foreach (var (name, value) in variables)
                if (value != null) db.Execute($"RESET VARIABLE {name}");
        }
    }

    /// <summary>Runs a shipped file of statements (e.g. a view definition).</summary>
    public static void Execute(AnalysisDatabase db, string file) => db.Execute(ShippedSql.Load(file));

    /// <summary>A SQL literal for a variable's value.</summary>
    public static string Literal(object value) => value switch
    {
        string s => "'" + s.Replace("'", "''") + "'",
        IEnumerable<string> list => "[" + string.Join(", ", list.Select(Literal)) + "]::VARCHAR[]",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"no SQL literal for {value.GetType().Name}"),
    };
}
