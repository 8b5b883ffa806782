using Ether.Replay.Tui;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether tui TRACE`: walk a trace in the terminal browser (instructions, registers, memory,
/// system calls, unpacking layers, SQL) without writing SQL.</summary>
public static class TuiCommand
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "An .etrace file" };
        var command = new Command("tui",
            "Browse a trace in the terminal: instructions step by step with jumps (step, next/previous execution, system call, layer), " +
            "registers and memory at the cursor with who-wrote, system calls, unpacking layers and a SQL console; ? shows the keys")
        {
            trace,
        };
        command.SetAction(r => Cli.Guard(() => BrowserApp.Run(r.GetValue(trace)!, Console.Error)));
        return command;
    }
}
