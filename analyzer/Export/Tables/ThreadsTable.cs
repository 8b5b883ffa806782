namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class ThreadsTable : ExportTable
{
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<int> Tid = new("tid", "thread id");
    public readonly NullableColumn<int> ParentTid = new("parent_tid", "thread that created it, when the trace saw it start");
    public readonly NullableColumn<long> StartStep = new("start_step", "step of its start event");
    public readonly NullableColumn<long> ExitStep = new("exit_step", "step of its exit event");
    public readonly NullableColumn<int> ExitCode = new("exit_code", "exit status");
    public readonly NullableColumn<long> FirstStep = new("first_step", "its first instruction");
    public readonly NullableColumn<long> LastStep = new("last_step", "its last instruction");
    public readonly ValueColumn<long> Instructions = new("instructions", "instructions it executed");

    public ThreadsTable() : base("threads", "One row per thread the trace saw.")
        => Declare(Pid, Tid, ParentTid, StartStep, ExitStep, ExitCode, FirstStep, LastStep, Instructions);
}
