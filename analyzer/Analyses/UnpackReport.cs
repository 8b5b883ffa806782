using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>A row of unpack_layers.sql.</summary>
public sealed record LayerRow(
    string Trace, int Pid, int Image, int Layer, long FirstStep, long LastStep, ulong EntryAddress, int EntryTid,
    ulong? RegionStart, ulong? RegionEnd, string? RegionName, bool MainImage, long BytesWritten, long KernelBytes,
    string? Writers, long? WriterFirstStep, long? WriterLastStep, long Instructions, bool OepCandidate,
    long FixupBytes = 0, string Arrival = "", string? Chain = null);

/// <summary>A row of unpack_transitions.sql.</summary>
public sealed record TransitionRow(string Trace, int Pid, int Image, int FromLayer, int ToLayer, long Times, long FirstStep, string FirstFrom, string FirstTo);

/// <summary>A row of oep_candidates.sql.</summary>
public sealed record OepRow(string Trace, int Pid, int Image, int Layer, ulong Address, long Step, int Tid, string Evidence, int Rank, bool Chosen, string Detail);

/// <summary>
/// `ether unpack`: the unpacking layers of each process (SoK on runtime packers): per layer and
/// region the entry, bytes written by the previous layer and their writers, fix-ups, how the code
/// arrived; the transitions between layers; and the original entry point with its evidence.
/// </summary>
public static class UnpackReport
{
    public static List<LayerRow> Layers(AnalysisDatabase db, string? trace = null, int? pid = null) =>
        ShippedQuery.Run(db, "unpack_layers.sql", new Dictionary<string, object?> { ["trace"] = trace, ["pid"] = pid })
            .Select(r => new LayerRow(
                r.Text("trace")!, r.Get<int>("pid"), r.Get<int>("image"), r.Get<int>("layer"), r.Get<long>("first_step"), r.Get<long>("last_step"),
                r.Get<ulong>("entry_address"), r.Get<int>("entry_tid"), r.Nullable<ulong>("region_start"), r.Nullable<ulong>("region_end"),
                r.Text("region_name"), r.Get<bool>("main_image"), r.Get<long>("bytes_written"), r.Get<long>("kernel_bytes"), r.Text("writers"),
                r.Nullable<long>("writer_first_step"), r.Nullable<long>("writer_last_step"), r.Get<long>("instructions"), r.Nullable<bool>("oep_candidate") ?? false,
                r.Get<long>("fixup_bytes"), r.Text("arrival") ?? "", r.Text("chain")))
            .ToList();

    public static List<TransitionRow> Transitions(AnalysisDatabase db, string? trace = null, int? pid = null) =>
        ShippedQuery.Run(db, "unpack_transitions.sql", new Dictionary<string, object?> { ["trace"] = trace, ["pid"] = pid })
            .Select(r => new TransitionRow(r.Text("trace")!, r.Get<int>("pid"), r.Get<int>("image"), r.Get<int>("from_layer"), r.Get<int>("to_layer"),
                r.Get<long>("times"), r.Get<long>("first_step"), r.Text("first_from")!, r.Text("first_to")!))
            .ToList();

    public static List<OepRow> Oeps(AnalysisDatabase db, string? trace = null, int? pid = null) =>
        ShippedQuery.Run(db, "oep_candidates.sql", new Dictionary<string, object?> { ["trace"] = trace, ["pid"] = pid })
            .Select(r => new OepRow(r.Text("trace")!, r.Get<int>("pid"), r.Get<int>("image"), r.Get<int>("layer"), r.Get<ulong>("address"),
                r.Get<long>("step"), r.Get<int>("tid"), r.Text("evidence")!, r.Get<int>("rank"), r.Get<bool>("chosen"), r.Text("detail") ?? ""))
            .ToList();

    public static void Write(IReadOnlyList<LayerRow> layers, IReadOnlyList<TransitionRow> transitions, IReadOnlyList<OepRow> oeps, TextWriter output)
    {
        bool manyTraces = layers.Select(l => l.Trace).Distinct().Count() > 1;
        foreach (var group in layers.GroupBy(l => (l.Trace, l.Pid, l.Image)))
        {
            var (trace, pid, image) = group.Key;
            int deepest = group.Max(l => l.Layer);
            output.WriteLine($"{(manyTraces ? $"trace {trace}, " : "")}process {pid}, image {image}: " +
                             (deepest == 0 ? "no unpacking (only layer 0: code that was loaded)" : $"{deepest} written layer{(deepest == 1 ? "" : "s")} after layer 0"));
            var table = new TextTable("layer", "arrival", "first step", "entry", "region", "bytes written", "writers (rip)", "written at steps", "instructions")
                .RightAlign(0, 2, 5, 8);
            foreach (var l in group)
            {
                string region = l.RegionStart is { } s ? $"0x{s:x}-0x{l.RegionEnd:x} {l.RegionName ?? "?"}" : "?";
                string written = l.Layer == 0 ? "-" : l.KernelBytes > 0 ? $"{l.BytesWritten} ({l.KernelBytes} by the kernel)" : l.BytesWritten.ToString();
                if (l.FixupBytes > 0) written += $", {l.FixupBytes} fixed up";
                string steps = l.WriterFirstStep is { } a ? $"{a}-{l.WriterLastStep}" : "-";
                table.Add(l.Layer, l.Arrival, l.FirstStep, $"0x{l.EntryAddress:x}{(l.OepCandidate ? " *" : "")}", region, written, l.Writers ?? "-", steps, l.Instructions);
            }
            table.WriteTo(output, "  ");
            foreach (var l in group.Where(l => l.Chain != null))
                output.WriteLine($"  layer {l.Layer} arrived as a file: {l.Chain}");
            var mine = oeps.Where(o => o.Trace == trace && o.Pid == pid && o.Image == image).ToList();
            if (mine.FirstOrDefault(o => o.Chosen) is { } oep)
            {
                output.WriteLine($"  * original entry point: 0x{oep.Address:x} (layer {oep.Layer}, step {oep.Step}; {oep.Evidence}: {oep.Detail})");
                foreach (var other in mine.Where(o => !o.Chosen))
                    output.WriteLine($"    other candidate: 0x{other.Address:x} (layer {other.Layer}, step {other.Step}; {other.Evidence}: {other.Detail})");
            }
            var moves = transitions.Where(t => t.Trace == trace && t.Pid == pid && t.Image == image).ToList();
            if (moves.Count > 0)
            {
                output.WriteLine("  transitions:");
                var t = new TextTable("from", "to", "times", "first at step", "first jump").RightAlign(0, 1, 2, 3);
                foreach (var m in moves) t.Add(m.FromLayer, m.ToLayer, m.Times, m.FirstStep, $"{m.FirstFrom} -> {m.FirstTo}");
                t.WriteTo(output, "    ");
            }
            output.WriteLine();
        }
        if (layers.Count == 0) output.WriteLine("no instructions in the trace: nothing to report");
    }
}
