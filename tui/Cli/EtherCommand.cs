using System.CommandLine;
using Ether.Replay.Cli.Commands;

namespace Ether.Replay.Cli;

/// <summary>The root `ether` command: a list of subcommands, each in its own file under Commands/.</summary>
public static class EtherCommand
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("Ether.Replay: record a program's every instruction, system call and memory write, then analyze the trace with SQL.");
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(SqlCommand.Create());
        return root.Parse(args).Invoke();
    }
}
