using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>A row of unpack_layers.sql.</summary>
public sealed record LayerRow(
    string Trace, int Pid, int Image, int Layer, long FirstStep, long LastStep, ulong EntryAddress, int EntryTid,
    ulong? RegionStart, ulong? RegionEnd, string? RegionName, bool MainImage, long BytesWritten, long KernelBytes,
    string? Writers, long? WriterFirstStep, long? WriterLastStep, long Instructions, bool OepCandidate);

/// <summary>A row of unpack_transitions.sql.</summary>
public sealed record TransitionRow(string Trace, int Pid, int Image, int FromLayer, int ToLayer, long Times, long FirstStep, string FirstFrom, string FirstTo);

/// <summary>
/// `ether unpack`: the unpacking layers of each process (SoK on runtime packers): per layer the
/// entry, region, bytes written by the previous layer and their writers; the transitions between
/// layers; and the original-entry-point candidate (entry of the deepest layer in the program's image).
/// </summary>
public static class UnpackReport
{
    public static List<LayerRow> Layers(AnalysisDatabase db, string? trace = null, int? pid = null) =>
        ShippedQuery.Run(db, "unpack_layers.sql", new Dictionary<string, object?> { ["trace"] = trace, ["pid"] = pid })
            .Select(r => new LayerRow(
                r.Text("trace")!, r.Get<int>("pid"), r.Get<int>("image"), r.Get<int>("layer"), r.Get<long>("first_step"), r.Get<long>("last_step"),
                r.Get<ulong>("entry_address"), r.Get<int>("entry_tid"), r.Nullable<ulong>("region_start"), r.Nullable<ulong>("region_end"),
                r.Text("region_name"), r.Get<bool>("main_image"), r.Get<long>("bytes_written"), r.Get<long>("kernel_bytes"), r.Text("writers"),
                r.Nullable<long>("writer_first_step"), r.Nullable<long>("writer_last_step"), r.Get<long>("instructions"), r.Nullable<bool>("oep_candidate") ?? false))
            .ToList();

    public static List<TransitionRow> Transitions(AnalysisDatabase db, string? trace = null, int? pid = null) =>
        ShippedQuery.Run(db, "unpack_transitions.sql", new Dictionary<string, object?> { ["trace"] = trace, ["pid"] = pid })
            .Select(r => new TransitionRow(r.Text("trace")!, r.Get<int>("pid"), r.Get<int>("image"), r.Get<int>("from_layer"), r.Get<int>("to_layer"),
                r.Get<long>("times"), r.Get<long>("first_step"), r.Text("first_from")!, r.Text("first_to")!))
            .ToList();

    public static void Write(IReadOnlyList<LayerRow> layers, IReadOnlyList<TransitionRow> transitions, TextWriter output)
    {
        bool manyTraces = layers.Select(l => l.Trace).Distinct().Count() > 1;
        foreach (var group in layers.GroupBy(l => (l.Trace, l.Pid, l.Image)))
        {
            var (trace, pid, image) = group.Key;
            int deepest = group.Max(l => l.Layer);
            output.WriteLine($"{(manyTraces ? $"trace {trace}, " : "")}process {pid}, image {image}: " +
                             (deepest == 0 ? "no unpacking (only layer 0: code that was loaded)" : $"{deepest} written layer{(deepest == 1 ? "" : "s")} after layer 0"));
            var table = new TextTable("layer", "first step", "entry", "region", "bytes written", "writers (rip)", "written at steps", "instructions").RightAlign(0, 1, 4, 7);
            foreach (var l in group)
            {
                string region = l.RegionStart is { } s ? $"0x{s:x}-0x{l.RegionEnd:x} {l.RegionName ?? "?"}" : "?";
                string written = l.Layer == 0 ? "-" : l.KernelBytes > 0 ? $"{l.BytesWritten} ({l.KernelBytes} by the kernel)" : l.BytesWritten.ToString();
                string steps = l.WriterFirstStep is { } a ? $"{a}-{l.WriterLastStep}" : "-";
                table.Add(l.Layer, l.FirstStep, $"0x{l.EntryAddress:x}{(l.OepCandidate ? " *" : "")}", region, written, l.Writers ?? "-", steps, l.Instructions);
            }
            table.WriteTo(output, "  ");
            var oep = group.FirstOrDefault(l => l.OepCandidate && l.Layer > 0);
            if (oep != null)
                output.WriteLine($"  * original entry point candidate: 0x{oep.EntryAddress:x} (layer {oep.Layer}, the deepest layer in the program's image; entered at step {oep.FirstStep})");
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
