namespace Ether.Replay.Cli.Commands;

/// <summary>`ether info TRACE`: what a trace file holds and whether it is whole (<see cref="TraceInfoReport"/>).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "An .etrace file" };
        var verify = new Option<bool>("--verify") { Description = "Decode every chunk to check it (slower); without it only the index or chunk headers are read" };
        var columns = new Option<bool>("--columns") { Description = "Decode every chunk and show where the bytes go: each column of the chunk bodies and each side-event kind, raw and zstd-compressed, in bytes per instruction" };
        var command = new Command("info", "Show a trace's header, backend, target, event counts, steps, chunks, size and bytes per instruction, and whether it was closed cleanly or recovered") { trace, verify, columns };
        command.SetAction(r => Cli.Guard(() =>
        {
            string path = r.GetValue(trace)!;
            using var reader = Cli.OpenTrace(path);
            TraceInfoReport.Write(reader, path, r.GetValue(verify), r.GetValue(columns), Console.Out);
            return Cli.Ok;
        }));
        return command;
    }
}
