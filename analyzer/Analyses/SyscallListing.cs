using System.Globalization;
using Ether.Replay.Analyzer.Query;
using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>
/// `ether syscalls`: the trace's system calls as strace prints them — <c>[pid] name(args) = ret</c>,
/// failures as <c>= -1 ENOENT (No such file or directory)</c>, calls that never returned as
/// <c>= ?</c>, addresses returned by mmap/brk in hex. One line per row of syscalls.sql.
/// </summary>
public static class SyscallListing
{
    public static IEnumerable<string> Lines(AnalysisDatabase db, SyscallFilter filter, bool steps = false)
    {
        foreach (var row in ShippedQuery.Run(db, "syscalls.sql", filter.Variables()))
            yield return Line(row, steps);
    }

    public static string Line(ResultRow row, bool steps = false)
    {
        string name = row.Text("name")!;
        string prefix = $"[{row["pid"]}] ";
        if (steps) prefix += $"[step {row["entry_step"] ?? row["exit_step"]}] ";
        string call = $"{name}({row.Text("args")})";
        return $"{prefix}{call} = {Result(name, row.Nullable<long>("ret"), row.Nullable<long>("errno"), row.Text("abi") ?? "")}";
    }

    /// <summary>The right-hand side of strace's line.</summary>
    public static string Result(string name, long? ret, long? errno, string abi)
    {
        if (ret is not { } r) return "?";
        if (!abi.StartsWith("linux", StringComparison.Ordinal))
            return $"0x{r:x}"; // NTSTATUS and friends read best in hex
        if (errno is > 0 and <= int.MaxValue)
            return Errno.FormatFailure((int)errno.Value);
        return LinuxSyscalls.ReturnOf(abi, name) == SyscallReturn.Hex ? $"0x{r:x}" : r.ToString(CultureInfo.InvariantCulture);
    }
}
