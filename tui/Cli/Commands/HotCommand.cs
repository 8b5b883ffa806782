namespace Ether.Replay.Cli.Commands;

/// <summary>`ether hot TRACE [-n N]`: the hottest basic blocks with disassembly and execution counts.</summary>
internal static class HotCommand
{
    public static Command Create()
    {
        var target = AnalyzerCli.TargetArgument();
        var top = new Option<int>("-n", "--top") { Description = "How many blocks", DefaultValueFactory = _ => 20 };
        var pid = AnalyzerCli.PidOption();
        var trace = AnalyzerCli.TraceOption();
        var command = new Command("hot", "The hottest basic blocks (most instructions executed), with their disassembly and execution counts")
        {
            target, top, pid, trace,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            if (r.GetValue(top) < 1) throw new CliException("-n must be at least 1");
            using var db = AnalyzerCli.Open(r.GetValue(target)!);
            HotBlocks.Write(HotBlocks.Rows(db, r.GetValue(top), r.GetValue(trace), r.GetValue(pid)), Console.Out);
            return Cli.Ok;
        }));
        return command;
    }
}
