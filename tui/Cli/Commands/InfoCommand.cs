using System.CommandLine;
using Ether.Replay.Analyzer.Analyses;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether info TRACE`: what a trace file holds and whether it is whole (<see cref="TraceInfoReport"/>).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "An .etrace file" };
        var verify = new Option<bool>("--verify") { Description = "Decode every chunk to check it (slower); without it only the index or chunk headers are read" };
        var command = new Command("info", "Show a trace's header, backend, target, event counts, steps, chunks, size and bytes per instruction, and whether it was closed cleanly or recovered") { trace, verify };
        command.SetAction(r => Cli.Guard(() =>
        {
            string path = r.GetValue(trace)!;
            using var reader = Cli.OpenTrace(path);
            TraceInfoReport.Write(reader, path, r.GetValue(verify), Console.Out);
            return Cli.Ok;
        }));
        return command;
    }
}
