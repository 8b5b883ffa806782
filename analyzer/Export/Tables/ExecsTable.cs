namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class ExecsTable : StepRowsTable
{
    public readonly StringColumn Path = new("path", "the program");
    public readonly StringColumn Argv = new("argv", "its arguments, shell-quoted");

    public ExecsTable() : base("execs", "One row per program a process executed (execve).",
        step: "step of the exec")
        => Declare(Path, Argv);
}
