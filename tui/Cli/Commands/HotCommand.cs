using System.CommandLine;
using Ether.Replay.Analyzer.Analyses;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether hot TRACE [-n N]`: the hottest basic blocks with disassembly and execution counts.</summary>
internal static class HotCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("target") { Description = "An .etrace file or a dataset folder" };
        var top = new Option<int>("-n", "--top") { Description = "How many blocks", DefaultValueFactory = _ => 20 };
        var pid = new Option<int?>("--pid", "-p") { Description = "Only this process" };
        var trace = new Option<string?>("--trace") { Description = "Only this trace of a multi-trace dataset" };
        var command = new Command("hot", "The hottest basic blocks (most instructions executed), with their disassembly and execution counts")
        {
            target, top, pid, trace,
        };
        command.SetAction(r => AnalyzerCli.Guard(() =>
        {
            if (r.GetValue(top) < 1) throw new CliException("-n must be at least 1");
            using var db = AnalyzerCli.Open(r.GetValue(target)!);
            HotBlocks.Write(HotBlocks.Rows(db, r.GetValue(top), r.GetValue(trace), r.GetValue(pid)), Console.Out);
            return AnalyzerCli.Ok;
        }));
        return command;
    }
}
