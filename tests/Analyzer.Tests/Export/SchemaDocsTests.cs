using System.Text.RegularExpressions;

namespace Ether.Replay.Analyzer.Tests.Export;

/// <summary>docs/schema.md is the contract scripts rely on: it must list every table and column with its type.</summary>
public sealed class SchemaDocsTests
{
    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(relative);
    }

    [Fact]
    public void Every_table_and_column_is_documented_with_its_type()
    {
        string doc = File.ReadAllText(RepoFile("docs/schema.md"));
        foreach (var table in DatasetSchema.Tables)
        {
            Assert.Contains($"## `{table.Name}`", doc);
            int start = doc.IndexOf($"## `{table.Name}`", StringComparison.Ordinal);
            int end = doc.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            string section = end < 0 ? doc[start..] : doc[start..end];
            foreach (var column in table.Columns)
                Assert.Matches(new Regex($@"\| `{Regex.Escape(column.Name)}` \| {Regex.Escape(column.DuckDbType)} \| {(column.Nullable ? "yes" : "no")} \|"), section);
        }
    }

    [Fact]
    public void The_columns_scripts_rely_on_exist()
    {
        // Issue 4 names these; they must never disappear.
        (string Table, string[] Columns)[] required =
        [
            ("instructions", ["step", "pid", "tid", "rip", "length", "bytes"]),
            ("memory_writes", ["step", "pid", "tid", "rip", "address", "size", "value"]),
            ("syscalls", ["pid", "tid", "entry_step", "exit_step", "nr", "name", "args", "ret", "errno"]),
            ("unpack_layers", ["pid", "layer", "first_step", "entry_address", "region_start", "region_end", "bytes_written"]),
        ];
        foreach (var (table, columns) in required)
            Assert.Superset(columns.ToHashSet(), DatasetSchema.Find(table)!.Columns.Select(c => c.Name).ToHashSet());
        foreach (var t in new[] { "registers", "regions", "snapshots", "threads", "processes", "traces" })
            Assert.NotNull(DatasetSchema.Find(t));
    }

    [Fact]
    public void Every_shipped_sql_file_is_documented_and_parses()
    {
        string doc = File.ReadAllText(RepoFile("docs/analyses.md"));
        using var x = new Support.Exported(p => FakePackedProgram.Write(p, 2));
        x.Db.Execute(ShippedSql.Load("syscall_categories.sql"));
        foreach (string name in ShippedSql.Names)
        {
            Assert.Contains(name, doc);
            if (name == "syscall_categories.sql") continue;
            // Runs as a user would run it, with no variables set.
            using var reader = x.Db.Query(ShippedSql.Load(name));
            while (AnalysisDatabase.Read(reader)) { }
        }
    }
}
