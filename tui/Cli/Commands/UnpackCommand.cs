using Ether.Replay.Analyzer.Replay;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether unpack TRACE [--dump DIR]`: unpacking layers, transitions, OEP candidate; raw and ELF dumps.</summary>
internal static class UnpackCommand
{
    public static Command Create()
    {
        var target = AnalyzerCli.TargetArgument("An .etrace file (or a dataset folder; --dump then needs the trace file it was exported from)");
        var dump = new Option<string?>("--dump") { Description = "Write each layer's memory (raw bytes at its entry) and, for the program's image, a runnable ELF with the original entry point into DIR" };
        var pid = AnalyzerCli.PidOption();
        var trace = AnalyzerCli.TraceOption();
        var command = new Command("unpack", "Unpacking layers (code executed from memory written earlier, or from files the trace wrote): per layer and region the entry, writers, sizes, fix-ups and how it arrived; transitions; the original entry point with its evidence")
        {
            target, dump, pid, trace,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            string source = r.GetValue(target)!;
            using var db = AnalyzerCli.Open(source);
            var layers = UnpackReport.Layers(db, r.GetValue(trace), r.GetValue(pid));
            var oeps = UnpackReport.Oeps(db, r.GetValue(trace), r.GetValue(pid));
            UnpackReport.Write(layers, UnpackReport.Transitions(db, r.GetValue(trace), r.GetValue(pid)), oeps, Console.Out);
            // Traces whose threads ran natively between steps: say what the instruction counts cover.
            foreach (var t in ShippedQuery.Run(db, "traces.sql", new Dictionary<string, object?> { ["trace"] = r.GetValue(trace) }))
                if (StepCoverage.Counts(t.Text("mode") ?? "") is { } note && layers.Any(l => l.Trace == t.Text("trace")))
                    Console.WriteLine($"note: {note}");
            if (r.GetValue(dump) is not { } dir) return Cli.Ok;

            foreach (var group in layers.GroupBy(l => l.Trace))
            {
                string file = File.Exists(source) ? source
                    : ShippedQuery.Run(db, "traces.sql", new Dictionary<string, object?> { ["trace"] = group.Key }).FirstOrDefault()?.Text("file") ?? "";
                if (!File.Exists(file)) throw new CliException($"--dump needs the trace file of {group.Key} ({file}): it is gone; give the .etrace file");
                foreach (var d in ExecImageDump.Write(db, group, dir))
                    Console.WriteLine($"wrote {d.Path}: {d.What}; {d.KnownBytes:N0} bytes");
                using var session = ReplaySession.Open(file);
                foreach (var d in LayerDump.Write(session, group.ToList(), dir, oeps.Where(o => o.Trace == group.Key).ToList()))
                    Console.WriteLine($"wrote {d.Path}: 0x{d.Start:x}-0x{d.End:x}, {d.What}; {d.KnownBytes:N0} of {d.End - d.Start:N0} bytes seen in the trace" +
                                      (d.FromFile > 0 ? $", {d.FromFile:N0} from the original file" : ""));
            }
            return Cli.Ok;
        }));
        return command;
    }
}
