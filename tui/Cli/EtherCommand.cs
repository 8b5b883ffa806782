using Ether.Replay.Cli.Commands;

namespace Ether.Replay.Cli;

/// <summary>The root `ether` command: a list of subcommands, each in its own file under Commands/.</summary>
public static class EtherCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Ether.Replay: record a program's every instruction, system call and memory write once, then study the trace: " +
            "SQL over Parquet, strace-style listings, unpacking layers, a terminal browser.");
        root.Subcommands.Add(RecordCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(SqlCommand.Create());
        root.Subcommands.Add(AtCommand.Create());
        root.Subcommands.Add(SyscallsCommand.Create());
        root.Subcommands.Add(UnpackCommand.Create());
        root.Subcommands.Add(WritesCommand.Create());
        root.Subcommands.Add(HotCommand.Create());
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(TuiCommand.Create());
        return root;
    }

    public static int Run(string[] args) => Build().Parse(args).Invoke();
}
