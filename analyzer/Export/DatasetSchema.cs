namespace Ether.Replay.Analyzer.Export;

/// <summary>A column of the dataset as readers see it (DuckDB type, nullability, meaning).</summary>
public sealed record ColumnInfo(string Name, string DuckDbType, bool Nullable, string Description);

/// <summary>A table of the dataset. Every table is partitioned by <c>trace</c> (hive style), which
/// readers add as a VARCHAR column.</summary>
public sealed record TableInfo(string Name, string Description, IReadOnlyList<ColumnInfo> Columns);

/// <summary>
/// The tables and columns an export writes: the contract scripts rely on (docs/schema.md documents
/// it column by column; a test keeps the two in step). Names only ever get added, never renamed.
/// </summary>
public static class DatasetSchema
{
    /// <summary>The hive partition column every table has.</summary>
    public const string TraceColumn = "trace";

    public static IReadOnlyList<TableInfo> Tables { get; } = Build();

    public static TableInfo? Find(string name) => Tables.FirstOrDefault(t => t.Name == name);

    private static TableInfo[] Build()
    {
        var tables = new ExportTables();
        return tables.All.Select(t => new TableInfo(t.TableName, t.Description,
            t.Columns.Select(c => new ColumnInfo(c.Name, c.DuckDbType, c.Field.IsNullable, c.Description)).ToArray())).ToArray();
    }
}
