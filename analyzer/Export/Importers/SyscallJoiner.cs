using Ether.Replay.Analyzer.Export.Tables;
using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Analyzer.Export.Importers;

/// <summary>
/// Joins each thread's system call entry with its exit into one row. A thread has at most one call
/// in flight, so memory is bounded by the number of threads. A new entry while one is pending means
/// the earlier call never returned (exit, a successful execve's old image): it is written unfinished.
/// </summary>
internal sealed class SyscallJoiner(SyscallsTable table)
{
    private sealed record Pending(SyscallEntryEvent Entry, ulong? Rip, int Layer);

    private readonly Dictionary<(int Pid, int Tid), Pending> _pending = new();

    public long Rows { get; private set; }

    public void OnEntry(SyscallEntryEvent e, ThreadState t)
    {
        if (_pending.Remove((e.Pid, e.Tid), out var earlier)) Write(earlier, null);
        _pending[(e.Pid, e.Tid)] = new Pending(e, t.Rip, t.Layers.Layer);
    }

    public void OnExit(SyscallExitEvent e, ThreadState t)
    {
        if (_pending.Remove((e.Pid, e.Tid), out var entry)) Write(entry, e);
        else Write(null, e, t);
    }

    /// <summary>The process (or thread) is gone: its calls in flight never return.</summary>
    public void OnExit(int pid, int? tid)
    {
        foreach (var key in _pending.Keys.Where(k => k.Pid == pid && (tid == null || k.Tid == tid)).ToList())
        {
            Write(_pending[key], null);
            _pending.Remove(key);
        }
    }

    public void Finish()
    {
        foreach (var p in _pending.Values.OrderBy(p => p.Entry.Step)) Write(p, null);
        _pending.Clear();
    }

    private void Write(Pending? entry, SyscallExitEvent? exit, ThreadState? exitThread = null)
    {
        var e = entry?.Entry;
        TraceEvent any = (TraceEvent?)e ?? exit!;
        table.Pid.Add(any.Pid);
        table.Tid.Add(any.Tid);
        table.EntryStep.Add(e?.Step);
        table.ExitStep.Add(exit?.Step);
        table.Nr.Add(e?.Number ?? exit!.Number);
        string abi = e?.Abi ?? exit!.Abi;
        table.Name.Add(NameOf(e?.Name ?? exit!.Name, abi, e?.Number ?? exit!.Number));
        table.Abi.Add(abi);
        string? atEntry = e != null ? string.Join(", ", e.Decoded) : null;
        table.Args.Add(exit is { Decoded.Length: > 0 } ? string.Join(", ", exit.Decoded) : atEntry ?? "");
        table.ArgsEntry.Add(atEntry);
        var args = e?.Args ?? [];
        table.Arg0.Add(args.Length > 0 ? args[0] : null);
        table.Arg1.Add(args.Length > 1 ? args[1] : null);
        table.Arg2.Add(args.Length > 2 ? args[2] : null);
        table.Arg3.Add(args.Length > 3 ? args[3] : null);
        table.Arg4.Add(args.Length > 4 ? args[4] : null);
        table.Arg5.Add(args.Length > 5 ? args[5] : null);
        table.Ret.Add(exit?.Return);
        table.Errno.Add(exit?.Errno);
        table.ErrnoName.Add(exit is { Errno: > 0 and <= int.MaxValue } && abi.StartsWith("linux", StringComparison.Ordinal) ? Formats.Abi.Errno.Name((int)exit.Errno) : null);
        table.Rip.Add(entry != null ? entry.Rip : exitThread?.Rip);
        table.Layer.Add(entry?.Layer ?? exitThread?.Layers.Layer ?? 0);
        table.EndRow();
        Rows++;
    }

    /// <summary>The recorder names calls as it sees them; fill a missing name from the ABI's table.</summary>
    private static string NameOf(string name, string abi, long number)
    {
        if (name.Length > 0) return name;
        return SyscallTables.Name(abi, number);
    }
}
