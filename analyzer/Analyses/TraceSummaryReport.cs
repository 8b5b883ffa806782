using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>`ether summary`: one screen per trace — target, processes and threads, instructions,
/// system calls by category, memory map activity, layers found.</summary>
public static class TraceSummaryReport
{
    public static void Write(AnalysisDatabase db, TextWriter output, string? trace = null)
    {
        ShippedQuery.Execute(db, "syscall_categories.sql");
        var traces = ShippedQuery.Run(db, "traces.sql", new Dictionary<string, object?> { ["trace"] = trace });
        if (trace != null && traces.Count == 0) throw new AnalysisInputException($"no trace {trace} in the dataset");
        foreach (var t in traces)
        {
            string id = t.Text("trace")!;
            var vars = new Dictionary<string, object?> { ["trace"] = id };
            output.WriteLine($"trace      {id}  ({t["file"]}, {t.Get<long>("file_bytes"):N0} bytes)");
            output.WriteLine($"target     {(t["target_argv"] is string argv && argv.Length > 0 ? argv : t["target_path"])}");
            if (t["target_sha256"] is string sha && sha.Length > 0) output.WriteLine($"sha256     {sha}");
            output.WriteLine($"recorded   {t.Text("start_time")} on {t["host"]} with {t["backend"]} ({t["architecture"]}); stopped: {t["stop_reason"]}" +
                             (t["stop_detail"] is string d && d.Length > 0 ? $" ({d})" : "") +
                             (Equals(t["closed_cleanly"], false) ? " [no footer: the recorder did not finish]" : ""));
            if (t["damage"] is string damage) output.WriteLine($"WARNING    {damage}");
            output.WriteLine($"steps      {t.Get<long>("last_step"):N0}: {t.Get<long>("instructions"):N0} instructions, {t.Get<long>("memory_writes"):N0} memory writes, " +
                             $"{t.Get<long>("syscalls"):N0} system calls, {t.Get<long>("snapshots"):N0} snapshots, {t.Get<long>("signals"):N0} signals");

            output.WriteLine();
            output.WriteLine("processes");
            var p = new TextTable("pid", "parent", "how", "program", "threads", "instructions", "syscalls", "ended").RightAlign(0, 1, 4, 5, 6);
            foreach (var r in ShippedQuery.Run(db, "summary_processes.sql", vars))
                p.Add(r["pid"], r["parent_pid"], r["how"], r["program"], r["threads"], $"{r.Get<long>("instructions"):N0}", $"{r.Get<long>("syscalls"):N0}", r["ended"]);
            p.WriteTo(output, "  ");

            output.WriteLine();
            output.WriteLine("system calls by category");
            var s = new TextTable("category", "calls", "errors", "most frequent").RightAlign(1, 2);
            foreach (var r in ShippedQuery.Run(db, "summary_syscalls.sql", vars)) s.Add(r["category"], r["calls"], r["errors"], r["most_frequent"]);
            if (s.Count == 0) output.WriteLine("  none");
            else s.WriteTo(output, "  ");

            output.WriteLine();
            output.WriteLine("memory");
            var m = new TextTable("pid", "maps", "executable", "protects", "made exec.", "unmaps", "bytes written", "pages written", "kernel writes").RightAlign(0, 1, 2, 3, 4, 5, 6, 7, 8);
            foreach (var r in ShippedQuery.Run(db, "summary_regions.sql", vars))
                m.Add(r["pid"], r["maps"], r["executable_maps"], r["protects"], r["made_executable"], r["unmaps"], $"{Convert.ToInt64(r["bytes_written"]):N0}", r["pages_written"], r["kernel_writes"]);
            m.WriteTo(output, "  ");

            output.WriteLine();
            output.WriteLine("unpacking layers");
            var l = new TextTable("pid", "image", "deepest layer", "unpacked instructions", "unpacked bytes", "original entry point").RightAlign(0, 1, 2, 3, 4);
            foreach (var r in ShippedQuery.Run(db, "summary_layers.sql", vars))
                l.Add(r["pid"], r["image"], r["deepest_layer"], r["unpacked_instructions"] ?? 0, r["unpacked_bytes"] ?? 0,
                    r["oep_candidate"] is { } oep ? $"{oep} (step {r["oep_step"]}, {r["oep_evidence"]})" : "-");
            l.WriteTo(output, "  ");
            if (traces.Count > 1) output.WriteLine(new string('=', 78));
        }
    }
}
