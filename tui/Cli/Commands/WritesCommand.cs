namespace Ether.Replay.Cli.Commands;

/// <summary>`ether writes TRACE`: written memory merged into ranges, with writers and counts.</summary>
internal static class WritesCommand
{
    public static Command Create()
    {
        var target = AnalyzerCli.TargetArgument();
        var pid = AnalyzerCli.PidOption();
        var trace = AnalyzerCli.TraceOption();
        var top = new Option<int>("--writers") { Description = "How many writers to name per range", DefaultValueFactory = _ => 5 };
        var command = new Command("writes", "Written memory merged into ranges: who wrote each (instruction addresses, or the kernel) and how often")
        {
            target, pid, trace, top,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            if (r.GetValue(top) < 1) throw new CliException("--writers must be at least 1");
            using var db = AnalyzerCli.Open(r.GetValue(target)!);
            WrittenRanges.Write(WrittenRanges.Rows(db, r.GetValue(trace), r.GetValue(pid), r.GetValue(top)), Console.Out);
            return Cli.Ok;
        }));
        return command;
    }
}
