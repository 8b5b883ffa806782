namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// Where files go in a dataset: <c>DIR/&lt;table&gt;/trace=&lt;id&gt;/part-NNNNN.parquet</c>, the hive
/// layout DuckDB, Spark, Trino, pandas/pyarrow read as is, with <c>trace</c> as a partition column.
/// A trace being exported is written under <c>.trace=&lt;id&gt;.tmp</c> and renamed at the end, so
/// readers never see half an export and a re-export replaces the old one.
/// </summary>
public static class DatasetLayout
{
    public static string Partition(string dataset, string table, string traceId) =>
        Path.Combine(dataset, table, $"trace={traceId}");

    internal static string Staging(string dataset, string table, string traceId) =>
        Path.Combine(dataset, table, $".trace={traceId}.tmp");

    /// <summary>The glob of a table's part files, as DuckDB's read_parquet takes it.</summary>
    public static string Glob(string dataset, string table) =>
        Path.Combine(Path.GetFullPath(dataset), table, "trace=*", "*.parquet");

    /// <summary>True when the table has at least one part file.</summary>
    public static bool HasParts(string dataset, string table)
    {
        var dir = Path.Combine(dataset, table);
        return Directory.Exists(dir) && Directory.EnumerateDirectories(dir, "trace=*")
            .Any(d => Directory.EnumerateFiles(d, "*.parquet").Any());
    }

    /// <summary>A folder looks like a dataset when it has a traces table.</summary>
    public static bool IsDataset(string path) => Directory.Exists(Path.Combine(path, "traces"));
}
