using Ether.Replay.Analyzer.Export;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether export TRACE... --out DIR`: traces into one hive-partitioned Parquet dataset;
/// `--format tenet --thread TID -o FILE`: one thread as a Tenet trace (<see cref="TenetExport"/>).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var traces = new Argument<string[]>("traces") { Description = "One or more .etrace files", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "parquet: the dataset folder (DIR/<table>/trace=<id>/part-NNNNN.parquet), created if missing; a trace exported again replaces its old partition. tenet: the trace file (- for stdout)", Required = true };
        var format = new Option<string>("--format", "-f") { Description = "parquet: tables for DuckDB/Spark/pandas (default); tenet: one thread's text trace for the Tenet plugin of IDA Pro / Binary Ninja", DefaultValueFactory = _ => "parquet" };
        format.AcceptOnlyFromAmong("parquet", "tenet");
        var rowGroup = new Option<int>("--row-group-rows") { Description = "Rows per Parquet row group", DefaultValueFactory = _ => new ExportOptions().RowGroupRows };
        var command = new Command("export", "Export traces to a Parquet dataset that DuckDB, Spark, Trino or pandas read as is (docs/schema.md lists every table and column), or one thread to a Tenet trace (--format tenet)")
        {
            traces, output, format, rowGroup,
            TenetExport.Thread, TenetExport.Pid, TenetExport.FromStep, TenetExport.ToStep, TenetExport.ImageBase, TenetExport.Image,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            if (r.GetValue(format) == "tenet")
            {
                var files = r.GetValue(traces)!;
                if (files.Length != 1) throw new CliException("--format tenet exports one trace at a time");
                TenetExport.Run(r, files[0], r.GetValue(output)!);
                return Cli.Ok;
            }
            string dir = r.GetValue(output)!;
            int rows = r.GetValue(rowGroup);
            if (rows < 1) throw new CliException("--row-group-rows must be at least 1");
            var options = new ExportOptions { RowGroupRows = rows };
            if (File.Exists(dir)) throw new CliException($"{dir}: is a file, not a dataset folder");
            foreach (string trace in r.GetValue(traces)!)
            {
                using var reader = Cli.OpenTrace(trace); // a clear message for a missing or foreign file before any work
                var result = AnalyzerCli.WithProgress<ExportResult>($"exporting {Path.GetFileName(trace)}",
                    report => (TraceExporter.Export(reader, trace, dir, options, report), null), out _);
                if (result.Warning != null) Cli.Warn($"{trace}: {result.Warning}");
                Console.WriteLine($"{trace}: trace={result.TraceId}, {result.Instructions:N0} instructions, " +
                                  $"{result.Rows["syscalls"]:N0} syscalls, {result.Rows["memory_writes"]:N0} memory writes, " +
                                  $"layers 0..{result.HighestLayer} -> {dir} ({result.Elapsed.TotalSeconds:F1} s)");
            }
            return Cli.Ok;
        }));
        return command;
    }
}
