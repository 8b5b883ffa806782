namespace Ether.Replay.Cli.Commands;

/// <summary>`ether summary TRACE`: one screen about a trace.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var target = AnalyzerCli.TargetArgument();
        var trace = AnalyzerCli.TraceOption();
        var command = new Command("summary", "One screen: target, processes and threads, instructions, system calls by category, memory, unpacking layers")
        {
            target, trace,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            using var db = AnalyzerCli.Open(r.GetValue(target)!);
            TraceSummaryReport.Write(db, Console.Out, r.GetValue(trace));
            return Cli.Ok;
        }));
        return command;
    }
}
