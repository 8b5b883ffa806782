using System.Data.Common;
using DuckDB.NET.Data;
using Ether.Replay.Analyzer.Export;

namespace Ether.Replay.Analyzer.Query;

/// <summary>
/// An in-memory DuckDB session over a Parquet dataset: one view per table (reading every trace's
/// partition, with <c>trace</c> as the first column) and the scalar functions of
/// <see cref="SqlFunctions"/>. A table with no files at all still gets a typed, empty view, so
/// queries over an older or partial dataset fail only where they should. Every entry point (Execute,
/// Query, Scalar, Rows, CopyTo) reads hex literals as addresses (<see cref="HexLiterals"/>), so SQL
/// means the same whether a user, a shipped file or the browser's console runs it.
/// </summary>
public sealed class AnalysisDatabase : IDisposable
{
    private readonly DuckDBConnection _connection;

    public string Dataset { get; }

    private AnalysisDatabase(string dataset, DuckDBConnection connection)
    {
        Dataset = dataset;
        _connection = connection;
    }

    public static AnalysisDatabase Open(string dataset)
    {
        if (!Directory.Exists(dataset)) throw new DirectoryNotFoundException($"{dataset}: no such dataset folder");
        var connection = new DuckDBConnection("DataSource=:memory:");
        try
        {
            connection.Open();
            SqlFunctions.Register(connection);
            var db = new AnalysisDatabase(dataset, connection);
            foreach (var table in DatasetSchema.Tables) db.Execute(ViewSql(dataset, table));
            return db;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public DuckDBConnection Connection => _connection;

    internal static string ViewSql(string dataset, TableInfo table)
    {
        string name = Quote(table.Name);
        if (DatasetLayout.HasParts(dataset, table.Name))
        {
            string glob = DatasetLayout.Glob(dataset, table.Name).Replace("'", "''");
            return $"CREATE VIEW {name} AS SELECT trace, * EXCLUDE (trace) FROM read_parquet('{glob}', " +
                   "hive_partitioning = true, hive_types = {'trace': VARCHAR}, union_by_name = true)";
        }
        var columns = new[] { $"NULL::VARCHAR AS {DatasetSchema.TraceColumn}" }
            .Concat(table.Columns.Select(c => $"NULL::{c.DuckDbType} AS {Quote(c.Name)}"));
        return $"CREATE VIEW {name} AS SELECT {string.Join(", ", columns)} WHERE false";
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    /// <summary>Runs a statement (or several); DuckDB's failure becomes a one-line <see cref="SqlException"/>.</summary>
    public void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        Run(() => command.ExecuteNonQuery());
    }

    /// <summary>Runs a query and returns its reader (dispose it).</summary>
    public DbDataReader Query(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Command(sql, parameters);
        try
        {
            return Run(() => command.ExecuteReader());
        }
        finally
        {
            command.Dispose();
        }
    }

    /// <summary>The first column of the first row, or null.</summary>
    public object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        var value = Run(() => command.ExecuteScalar());
        return value is DBNull ? null : value;
    }

    /// <summary>Every row as an array of values (for small results: analyses, tests).</summary>
    public List<object?[]> Rows(string sql, params (string Name, object? Value)[] parameters)
    {
        using var reader = Query(sql, parameters);
        var rows = new List<object?[]>();
        while (Read(reader))
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : Materialize(reader.GetValue(i));
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Writes the result of <paramref name="select"/> (one query, a trailing ';' allowed) to a
    /// Parquet file at <paramref name="path"/> (zstd), as DuckDB's COPY does.</summary>
    public void CopyTo(string select, string path)
    {
        string query = select.Trim().TrimEnd(';').TrimEnd();
        Execute($"COPY ({query}) TO '{Path.GetFullPath(path).Replace("'", "''")}' (FORMAT parquet, COMPRESSION zstd)");
    }

    /// <summary>DbDataReader.Read, with DuckDB's failures (raised while streaming) as <see cref="SqlException"/>.</summary>
    public static bool Read(DbDataReader reader) => Run(reader.Read);

    /// <summary>BLOBs come back as streams into DuckDB's memory: copy them out.</summary>
    public static object Materialize(object value)
    {
        if (value is Stream s)
        {
            using (s)
            {
                var bytes = new byte[s.Length];
                s.ReadExactly(bytes);
                return bytes;
            }
        }
        return value;
    }

    private DuckDBCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = HexLiterals.Rewrite(sql);
        foreach (var (name, value) in parameters)
            command.Parameters.Add(new DuckDBParameter(name, value ?? DBNull.Value));
        return command;
    }

    private static T Run<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DuckDBException e)
        {
            throw new SqlException(SqlException.OneLine(e.Message), e);
        }
    }

    public void Dispose() => _connection.Dispose();
}
