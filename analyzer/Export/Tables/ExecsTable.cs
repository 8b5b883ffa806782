using Ether.Replay.Analyzer.Export.Columns;

namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class ExecsTable : ExportTable
{
    public readonly ValueColumn<long> Step = new("step", "step of the exec");
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<int> Tid = new("tid", "thread id");
    public readonly StringColumn Path = new("path", "the program");
    public readonly StringColumn Argv = new("argv", "its arguments, shell-quoted");

    public ExecsTable() : base("execs", "One row per program a process executed (execve).")
        => Declare(Step, Pid, Tid, Path, Argv);
}
