namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class SyscallsTable : ExportTable
{
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<int> Tid = new("tid", "thread id");
    public readonly NullableColumn<long> EntryStep = new("entry_step", "step at the call's entry; null if the trace began inside the call");
    public readonly NullableColumn<long> ExitStep = new("exit_step", "step at its return; null if it never returned in the trace (exit, execve's old image, a cut trace)");
    public readonly ValueColumn<long> Nr = new("nr", "system call number in its ABI");
    public readonly StringColumn Name = new("name", "system call name (`syscall_N` when the table does not know N)");
    public readonly StringColumn Abi = new("abi", "system call table: linux-x86_64, linux-i386, nt-winxp-sp2-x86, …");
    public readonly StringColumn Args = new("args", "arguments as strace prints them (output buffers as filled by the call), comma-separated");
    public readonly StringColumn ArgsEntry = new("args_entry", "arguments as rendered at entry; null without an entry event", nullable: true);
    public readonly NullableColumn<ulong> Arg0 = new("arg0", "raw first argument register");
    public readonly NullableColumn<ulong> Arg1 = new("arg1", "raw second argument");
    public readonly NullableColumn<ulong> Arg2 = new("arg2", "raw third argument");
    public readonly NullableColumn<ulong> Arg3 = new("arg3", "raw fourth argument");
    public readonly NullableColumn<ulong> Arg4 = new("arg4", "raw fifth argument");
    public readonly NullableColumn<ulong> Arg5 = new("arg5", "raw sixth argument");
    public readonly NullableColumn<long> Ret = new("ret", "raw return value (Linux: -errno on failure); null if it did not return");
    public readonly NullableColumn<long> Errno = new("errno", "error number when the call failed, 0 when it succeeded, null if it did not return");
    public readonly StringColumn ErrnoName = new("errno_name", "ENOENT, EAGAIN, … (null when errno is 0 or unknown)", nullable: true);
    public readonly NullableColumn<ulong> Rip = new("rip", "address of the system call instruction, when known");
    public readonly ValueColumn<int> Layer = new("layer", "unpacking layer of the code that made the call");

    public SyscallsTable() : base("syscalls", "One row per system call: its entry and exit events joined.")
        => Declare(Pid, Tid, EntryStep, ExitStep, Nr, Name, Abi, Args, ArgsEntry, Arg0, Arg1, Arg2, Arg3, Arg4, Arg5, Ret, Errno, ErrnoName, Rip, Layer);
}
