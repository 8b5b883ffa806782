using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>One system call as the syscalls pane lists it: where it is and its strace-style line.</summary>
public sealed record SyscallItem(long Step, int Pid, int Tid, string Call);

/// <summary>
/// What the browser takes from the SQL tables once the trace is exported: the system calls
/// (strace-style, as `ether syscalls` prints them), the unpacking layers (as `ether unpack`) and every
/// layer change. Read once, in the background; everything else is asked of the replay engine.
/// </summary>
public sealed record TraceAnalysis(IReadOnlyList<SyscallItem> Syscalls, IReadOnlyList<LayerRow> Layers, LayerChanges LayerChanges)
{
    /// <summary>The images' original-entry-point candidates (oep_candidates.sql), chosen ones included.</summary>
    public IReadOnlyList<OepRow> Oeps { get; init; } = [];

    public static TraceAnalysis Load(AnalysisDatabase db)
    {
        var syscalls = ShippedQuery.Run(db, "syscalls.sql").Select(Syscall).ToList();
        var layers = UnpackReport.Layers(db);
        var changes = ShippedQuery.Run(db, "layer_changes.sql")
            .Select(r => new LayerChange(r.Get<long>("step"), r.Get<int>("pid"), r.Get<int>("tid"), r.Get<int>("from_layer"), r.Get<int>("to_layer")))
            .ToList();
        // A layer entered without a transition (a thread whose first instruction is in written code)
        // still begins at its first step.
        var seen = changes.Select(c => (c.Step, c.Tid)).ToHashSet();
        foreach (var l in layers)
            if (l.Layer > 0 && !seen.Contains((l.FirstStep, l.EntryTid)))
                changes.Add(new LayerChange(l.FirstStep, l.Pid, l.EntryTid, -1, l.Layer));
        return new TraceAnalysis(syscalls, layers, new LayerChanges(changes)) { Oeps = UnpackReport.Oeps(db) };
    }

    private static SyscallItem Syscall(ResultRow row)
    {
        string name = row.Text("name") ?? "?";
        string result = SyscallListing.Result(name, row.Nullable<long>("ret"), row.Nullable<long>("errno"), row.Text("abi") ?? "");
        long step = row.Nullable<long>("entry_step") ?? row.Nullable<long>("exit_step") ?? 0;
        return new SyscallItem(step, row.Get<int>("pid"), row.Get<int>("tid"), $"{name}({row.Text("args")}) = {result}");
    }
}
