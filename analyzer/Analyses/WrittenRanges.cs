using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>`ether writes`: written memory merged into ranges, who wrote each (instruction addresses or the kernel), how often.</summary>
public static class WrittenRanges
{
    public sealed record Range(string Trace, int Pid, ulong Start, ulong End, long Writes, long KernelWrites, long DistinctWriters, string TopWriters);

    public static List<Range> Rows(AnalysisDatabase db, string? trace = null, int? pid = null, int topWriters = 5) =>
        ShippedQuery.Run(db, "writes.sql", new Dictionary<string, object?> { ["trace"] = trace, ["pid"] = pid, ["top_writers"] = topWriters })
            .Select(r => new Range(r.Text("trace")!, r.Get<int>("pid"), r.Get<ulong>("range_start"), r.Get<ulong>("range_end"),
                r.Get<long>("writes"), r.Get<long>("kernel_writes"), r.Get<long>("distinct_writers"), r.Text("top_writers") ?? ""))
            .ToList();

    public static void Write(IReadOnlyList<Range> ranges, TextWriter output)
    {
        bool manyTraces = ranges.Select(r => r.Trace).Distinct().Count() > 1;
        var table = manyTraces
            ? new TextTable("trace", "pid", "start", "end", "bytes", "writes", "kernel", "writers", "top writers (rip: writes)").RightAlign(1, 4, 5, 6, 7)
            : new TextTable("pid", "start", "end", "bytes", "writes", "kernel", "writers", "top writers (rip: writes)").RightAlign(0, 3, 4, 5, 6);
        foreach (var r in ranges)
        {
            object?[] cells = [r.Pid, $"0x{r.Start:x}", $"0x{r.End:x}", r.End - r.Start, r.Writes, r.KernelWrites, r.DistinctWriters, r.TopWriters];
            table.Add(manyTraces ? [r.Trace, .. cells] : cells);
        }
        table.WriteTo(output);
        output.WriteLine($"{ranges.Count} range{(ranges.Count == 1 ? "" : "s")}, {ranges.Sum(r => (long)(r.End - r.Start)):N0} bytes, {ranges.Sum(r => r.Writes):N0} writes");
    }
}
