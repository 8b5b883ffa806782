using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Analyzer.Export;
using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Bench;

/// <summary>
/// Issue 4's query targets on a 100 M-instruction synthetic dataset, DuckDB on 2 threads: `ether
/// syscalls -c`, the top-100 hot blocks and the per-layer summary each under 2 s. Baseline in the
/// same run: a full scan of the instructions table (count of rows per layer straight from Parquet),
/// the cost of touching every instruction once.
/// </summary>
public static class QueryBench
{
    public static int Run(string[] args)
    {
        long n = args.Length > 0 ? long.Parse(args[0]) : 100_000_000;
        string trace = BenchTraces.Synthetic(n);
        string dataset = Path.Combine(BenchTraces.Directory, $"dataset-{n}");
        if (!File.Exists(Path.Combine(dataset, ".complete")))
        {
            Console.WriteLine($"exporting {trace} to {dataset} (cached for later runs) ...");
            if (Directory.Exists(dataset)) Directory.Delete(dataset, true);
            var sw0 = Stopwatch.StartNew();
            var r = TraceExporter.Export(trace, dataset);
            Console.WriteLine($"  {r.Instructions:N0} instructions in {sw0.Elapsed.TotalSeconds:F1} s ({r.Instructions / sw0.Elapsed.TotalSeconds / 1e6:F2} M/s)");
            File.WriteAllText(Path.Combine(dataset, ".complete"), "");
        }
        using var db = AnalysisDatabase.Open(dataset);
        db.Execute("SET threads = 2");
        var results = new List<(string Name, double Seconds, string Answer)>();
        void Time(string name, Func<string> query)
        {
            query(); // warm: file metadata, JIT
            var times = new List<double>();
            string answer = "";
            for (int i = 0; i < 3; i++)
            {
                var sw = Stopwatch.StartNew();
                answer = query();
                times.Add(sw.Elapsed.TotalSeconds);
            }
            results.Add((name, times.Order().ElementAt(1), answer));
        }
        Time("baseline: full scan, instructions per layer", () =>
            string.Join(", ", db.Rows("SELECT layer, count(*) FROM instructions GROUP BY layer ORDER BY layer").Select(r => $"{r[0]}:{r[1]}")));
        Time("ether syscalls -c", () =>
        {
            var rows = SyscallSummary.Rows(db, new SyscallFilter());
            return $"{rows.Count} names, {rows.Sum(r => r.Calls):N0} calls";
        });
        Time("top-100 hot blocks (with disassembly)", () =>
        {
            var blocks = HotBlocks.Rows(db, 100);
            return $"{blocks.Count} blocks, hottest {blocks[0].InstructionsExecuted:N0} instructions";
        });
        Time("per-layer summary (ether unpack)", () =>
        {
            var layers = UnpackReport.Layers(db);
            var transitions = UnpackReport.Transitions(db);
            return $"{layers.Count} layers, {transitions.Count} transition kinds";
        });
        Console.WriteLine($"dataset: {dataset}, {db.Scalar("SELECT count(*) FROM instructions"):N0} instructions, DuckDB threads = 2");
        double baseline = results[0].Seconds;
        foreach (var (name, seconds, answer) in results)
            Console.WriteLine($"  {name,-45} {seconds * 1000,8:F0} ms  ({seconds / baseline:F2}x the full scan)  {answer}");
        bool met = results.Skip(1).All(r => r.Seconds < 2);
        Console.WriteLine($"verdict: {(met ? "MET" : "MISSED")} (each analysis < 2 s)");
        return 0;
    }
}
