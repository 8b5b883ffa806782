using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>`ether summary`: one screen per trace — target, processes and threads, instructions,
/// system calls by category, memory map activity, layers found.</summary>
public static class TraceSummaryReport
{
    public static void Write(AnalysisDatabase db, TextWriter output, string? trace = null)
    {
        ShippedQuery.Execute(db, "syscall_categories.sql");
        var ids = trace != null ? [trace] : db.Rows("SELECT trace FROM traces ORDER BY trace").Select(r => (string)r[0]!).ToList();
        foreach (string id in ids)
        {
            var vars = new Dictionary<string, object?> { ["trace"] = id };
            var t = db.Rows("SELECT target_path, target_argv, target_sha256, backend, architecture, host, start_time, end_time, stop_reason, stop_detail, " +
                            "closed_cleanly, damage, last_step, instructions, memory_writes, syscalls, snapshots, signals, file, file_bytes FROM traces WHERE trace = $t",
                ("t", id)).SingleOrDefault() ?? throw new ArgumentException($"no trace {id} in the dataset");
            output.WriteLine($"trace      {id}  ({t[18]}, {Convert.ToInt64(t[19]):N0} bytes)");
            output.WriteLine($"target     {(t[1] is string argv && argv.Length > 0 ? argv : t[0])}");
            if (t[2] is string sha && sha.Length > 0) output.WriteLine($"sha256     {sha}");
            output.WriteLine($"recorded   {ResultPrinter.Text(t[6])} on {t[5]} with {t[3]} ({t[4]}); stopped: {t[8]}{(t[9] is string d && d.Length > 0 ? $" ({d})" : "")}" +
                             (Equals(t[10], false) ? " [no footer: the recorder did not finish]" : ""));
            if (t[11] is string damage) output.WriteLine($"WARNING    {damage}");
            output.WriteLine($"steps      {Convert.ToInt64(t[12]):N0}: {Convert.ToInt64(t[13]):N0} instructions, {Convert.ToInt64(t[14]):N0} memory writes, " +
                             $"{Convert.ToInt64(t[15]):N0} system calls, {Convert.ToInt64(t[16]):N0} snapshots, {Convert.ToInt64(t[17]):N0} signals");

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
            if (ids.Count > 1) output.WriteLine(new string('=', 78));
        }
    }
}
