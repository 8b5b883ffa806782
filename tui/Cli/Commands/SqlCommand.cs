using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether sql TARGET "SELECT ..."`: DuckDB over a dataset, one view per table.</summary>
internal static class SqlCommand
{
    public static Command Create()
    {
        var target = AnalyzerCli.TargetArgument("A dataset folder, or an .etrace file (exported on the fly to a cache next to it)");
        var query = new Argument<string?>("query") { Description = "The SQL to run (or --file)", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file", "-f") { Description = "Read the SQL from this file" };
        var csv = new Option<bool>("--csv") { Description = "Print CSV" };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of objects" };
        var parquet = new Option<string?>("--parquet") { Description = "Write the result to this Parquet file instead of printing it" };
        var command = new Command("sql", "Query traces with DuckDB SQL. Views: " + string.Join(", ", Analyzer.Export.DatasetSchema.Tables.Select(t => t.Name)) +
                                         ". Functions: disasm(bytes, rip), syscall_name(nr, abi), errno_name(n), signal_name(n). Hex literals like 0x401000 are read as addresses.")
        {
            target, query, file, csv, json, parquet,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            string? sql = r.GetValue(query);
            string? path = r.GetValue(file);
            if (sql != null && path != null) throw new CliException("give the SQL as an argument or with --file, not both");
            if (path != null)
            {
                if (!File.Exists(path)) throw new CliException($"{path}: no such file");
                sql = File.ReadAllText(path);
            }
            if (string.IsNullOrWhiteSpace(sql)) throw new CliException("no SQL given (an argument or --file)");
            int formats = (r.GetValue(csv) ? 1 : 0) + (r.GetValue(json) ? 1 : 0) + (r.GetValue(parquet) != null ? 1 : 0);
            if (formats > 1) throw new CliException("choose one of --csv, --json, --parquet");

            using var db = AnalyzerCli.Open(r.GetValue(target)!);
            if (r.GetValue(parquet) is { } output)
            {
                db.CopyTo(sql, output);
                Console.Error.WriteLine($"wrote {output}");
                return Cli.Ok;
            }
            var format = r.GetValue(csv) ? ResultFormat.Csv : r.GetValue(json) ? ResultFormat.Json : ResultFormat.Table;
            using var reader = db.Query(sql);
            var stdout = Console.Out;
            do
            {
                if (reader.FieldCount > 0) ResultPrinter.Print(reader, stdout, format);
            } while (reader.NextResult());
            return Cli.Ok;
        }));
        return command;
    }
}
