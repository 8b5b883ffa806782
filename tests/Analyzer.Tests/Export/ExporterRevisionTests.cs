namespace Ether.Replay.Analyzer.Tests.Export;

/// <summary>Keeps the exporter revision honest: a schema change without a new revision fails here.</summary>
public sealed class ExporterRevisionTests
{
    [Fact]
    public void The_schema_exported_is_the_one_pinned_for_the_current_revision()
    {
        var current = ExporterRevision.History[^1];
        Assert.True(current.SchemaHash == ExporterRevision.SchemaHash,
            $"The exported tables or columns changed (schema hash {ExporterRevision.SchemaHash}, revision {current.Number} pins {current.SchemaHash}). " +
            $"Add a line to ExporterRevision.History: ({current.Number + 1}, \"{ExporterRevision.SchemaHash}\", \"what changed\") " +
            "so that datasets cached by the old exporter are rebuilt.");
    }

    [Fact]
    public void Revisions_count_up_by_one_and_say_what_changed()
    {
        var history = ExporterRevision.History;
        Assert.Equal(Enumerable.Range(1, history.Count), history.Select(h => h.Number));
        Assert.All(history, h => Assert.Matches("^[0-9a-f]{16}$", h.SchemaHash));
        Assert.All(history, h => Assert.False(string.IsNullOrWhiteSpace(h.Change)));
        Assert.Equal($"{ExporterRevision.Number}/{ExporterRevision.SchemaHash}", ExporterRevision.Stamp);
    }

    [Fact]
    public void The_schema_hash_sees_a_column_added_retyped_renamed_or_made_nullable()
    {
        var tables = DatasetSchema.Tables;
        string hash = ExporterRevision.Hash(tables);
        Assert.Equal(ExporterRevision.SchemaHash, hash);
        TableInfo Change(TableInfo t, Func<ColumnInfo, ColumnInfo> f) => t with { Columns = [f(t.Columns[0]), .. t.Columns.Skip(1)] };
        IReadOnlyList<TableInfo>[] variants =
        [
            [.. tables, new TableInfo("new_table", "", [new ColumnInfo("step", "BIGINT", false, "")])],
            [tables[0] with { Columns = [.. tables[0].Columns, new ColumnInfo("extra", "BIGINT", true, "")] }, .. tables.Skip(1)],
            [Change(tables[0], c => c with { DuckDbType = c.DuckDbType == "VARCHAR" ? "BIGINT" : "VARCHAR" }), .. tables.Skip(1)],
            [Change(tables[0], c => c with { Name = c.Name + "_renamed" }), .. tables.Skip(1)],
            [Change(tables[0], c => c with { Nullable = !c.Nullable }), .. tables.Skip(1)],
        ];
        foreach (var v in variants) Assert.NotEqual(hash, ExporterRevision.Hash(v));
        // Descriptions are documentation, not content.
        Assert.Equal(hash, ExporterRevision.Hash([Change(tables[0], c => c with { Description = "reworded" }), .. tables.Skip(1)]));
    }
}
