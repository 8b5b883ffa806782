using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>`ether syscalls -c`: strace -c's table (calls and errors per call, most frequent first, a total line).</summary>
public static class SyscallSummary
{
    public sealed record Entry(string Name, long Calls, long Errors, double PercentCalls);

    public static List<Entry> Rows(AnalysisDatabase db, SyscallFilter filter) =>
        ShippedQuery.Run(db, "syscalls_summary.sql", filter.Variables())
            .Select(r => new Entry(r.Text("syscall")!, r.Get<long>("calls"), r.Get<long>("errors"), r.Get<double>("percent_calls")))
            .ToList();

    public static void Write(IReadOnlyList<Entry> entries, TextWriter output)
    {
        string rule = $"{new string('-', 7)} {new string('-', 11)} {new string('-', 9)} {new string('-', 16)}";
        output.WriteLine($"{"% calls",7} {"calls",11} {"errors",9} syscall");
        output.WriteLine(rule);
        foreach (var e in entries)
            output.WriteLine($"{e.PercentCalls,7:F2} {e.Calls,11} {(e.Errors > 0 ? e.Errors.ToString() : ""),9} {e.Name}");
        output.WriteLine(rule);
        long calls = entries.Sum(e => e.Calls), errors = entries.Sum(e => e.Errors);
        output.WriteLine($"{(calls > 0 ? 100.0 : 0),7:F2} {calls,11} {(errors > 0 ? errors.ToString() : ""),9} total");
    }
}
