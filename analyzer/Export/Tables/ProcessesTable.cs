namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class ProcessesTable : ExportTable
{
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly NullableColumn<int> ParentPid = new("parent_pid", "parent process id, when the trace saw the process start");
    public readonly StringColumn How = new("how", "spawn (the target itself), fork, vfork or clone", nullable: true);
    public readonly NullableColumn<long> StartStep = new("start_step", "step of its start event");
    public readonly NullableColumn<long> ExitStep = new("exit_step", "step of its exit event");
    public readonly NullableColumn<int> ExitCode = new("exit_code", "exit status");
    public readonly NullableColumn<int> Signal = new("signal", "signal that killed it (0 when it exited)");
    public readonly NullableColumn<bool> CoreDumped = new("core_dumped", "it dumped core");
    public readonly StringColumn Path = new("path", "program of its last exec", nullable: true);
    public readonly StringColumn Argv = new("argv", "arguments of its last exec, shell-quoted", nullable: true);
    public readonly ValueColumn<int> Threads = new("threads", "threads seen");
    public readonly ValueColumn<long> Instructions = new("instructions", "instructions executed");
    public readonly ValueColumn<long> Syscalls = new("syscalls", "system calls made");

    public ProcessesTable() : base("processes", "One row per process the trace saw.")
        => Declare(Pid, ParentPid, How, StartStep, ExitStep, ExitCode, Signal, CoreDumped, Path, Argv, Threads, Instructions, Syscalls);
}
