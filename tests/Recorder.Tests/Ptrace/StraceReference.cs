using System.Globalization;
using System.Text.RegularExpressions;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>One system call as both sides can state it: its name and its return (null: none, e.g. exit_group).</summary>
internal readonly record struct Call(string Name, long? Return)
{
    public override string ToString() => $"{Name} = {(Return is { } r ? r.ToString() : "?")}";
}

/// <summary>
/// The per-process system-call sequences of a command, from `strace -f -qq -o FILE` run in the same
/// sandbox the recorder uses (same prologue, limits, network namespace, environment), and from a
/// trace; and their comparison with processes matched by their place in the process tree.
/// </summary>
internal static partial class StraceReference
{
    public static (Dictionary<int, List<Call>> Calls, int Root) Run(string program, string[] arguments)
    {
        string dir = Directory.CreateTempSubdirectory("ether-test-strace-").FullName;
        string log = Path.Combine(dir, "strace.txt");
        var sandbox = new Sandbox(new SandboxOptions());
        try
        {
            var argv = sandbox.ShellArgv("/usr/bin/strace", ["-f", "-qq", "-o", log, program, .. arguments], stopBeforeExec: false);
            // stdout to a regular file, as in Recordings.Record: stdio probes a character device
            // (/dev/null, a tty) with an extra ioctl, so the kind of file must match.
            int pid = sandbox.Spawn(argv, new PosixSpawn.Stdio("/dev/null", Path.Combine(dir, "stdout.txt"), null));
            var ptrace = new LinuxPtrace();
            Assert.Equal(pid, ptrace.WaitChild(pid, out var status));
            Assert.True(status.Exited, $"strace {status}");
            return Parse(File.ReadAllLines(log));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(sandbox.WorkingDirectory, recursive: true);
        }
    }

    [GeneratedRegex(@"^(\d+)\s+(.*)$")]
    private static partial Regex PidLine();

    [GeneratedRegex(@"^<\.\.\. (\w+) resumed>")]
    private static partial Regex Resumed();

    [GeneratedRegex(@"^(\w+)\(")]
    private static partial Regex CallStart();

    /// <summary>Parses strace -f output (lines "PID call(args) = ret", with unfinished/resumed halves).</summary>
    public static (Dictionary<int, List<Call>> Calls, int Root) Parse(IEnumerable<string> lines)
    {
        var calls = new Dictionary<int, List<Call>>();
        var order = new List<int>();
        var unfinished = new Dictionary<int, int>(); // pid -> index of its unfinished call
        foreach (var line in lines)
        {
            var m = PidLine().Match(line);
            if (!m.Success) continue;
            int pid = int.Parse(m.Groups[1].Value);
            string body = m.Groups[2].Value;
            if (body.StartsWith("---") || body.StartsWith("+++")) continue; // signals, exits
            if (!calls.TryGetValue(pid, out var list)) { calls[pid] = list = new List<Call>(); order.Add(pid); }

            var resumed = Resumed().Match(body);
            if (resumed.Success)
            {
                if (unfinished.Remove(pid, out int index)) list[index] = list[index] with { Return = ParseReturn(body) };
                continue;
            }
            var start = CallStart().Match(body);
            if (!start.Success) continue;
            if (body.EndsWith("<unfinished ...>"))
            {
                unfinished[pid] = list.Count;
                list.Add(new Call(start.Groups[1].Value, null));
                continue;
            }
            list.Add(new Call(start.Groups[1].Value, ParseReturn(body)));
        }
        return (calls, order.Count > 0 ? order[0] : 0);
    }

    private static long? ParseReturn(string body)
    {
        int at = body.LastIndexOf(" = ", StringComparison.Ordinal);
        if (at < 0) return null;
        var parts = body[(at + 3)..].Split(' ', 3);
        string value = parts[0];
        if (value == "?")
            return parts.Length > 1 && Formats.Abi.Errno.TryGetNumber(parts[1], out int restart) && Formats.Abi.Errno.IsRestart(restart)
                ? -restart
                : null;
        long number = value.StartsWith("0x") ? (long)ulong.Parse(value[2..], NumberStyles.HexNumber) : long.Parse(value);
        // strace prints a failed call as "-1 ENOENT (...)": the raw return is -errno.
        if (number == -1 && parts.Length > 1 && parts[1].StartsWith('E') && Formats.Abi.Errno.TryGetNumber(parts[1], out int errno))
            return -errno;
        return number;
    }

    /// <summary>The same sequences from a recorded trace: calls in entry order, returns from their exits.</summary>
    public static Dictionary<int, List<Call>> FromTrace(IEnumerable<TraceEvent> events)
    {
        var calls = new Dictionary<int, List<Call>>();
        var open = new Dictionary<int, (int Pid, int Index)>(); // tid -> call awaiting its exit
        // Virtual time redirects the vDSO's clock functions into system calls (docs/transparency.md):
        // those calls exist only in the recording, and strace never sees them. They are the calls that
        // return into the [vdso] mapping.
        var vdso = new List<(ulong Start, ulong End)>();
        var exits = new Dictionary<(long Step, int Tid), (int Pid, int Index)>();
        var fromVdso = new HashSet<(int Pid, int Index)>();
        foreach (var e in events)
        {
            switch (e)
            {
                case SyscallEntryEvent entry:
                    if (!calls.TryGetValue(entry.Pid, out var list)) calls[entry.Pid] = list = new List<Call>();
                    open[entry.Tid] = (entry.Pid, list.Count);
                    list.Add(new Call(entry.Name, null));
                    break;
                case SyscallExitEvent exit when open.Remove(exit.Tid, out var at):
                    calls[at.Pid][at.Index] = calls[at.Pid][at.Index] with { Return = exit.Return };
                    exits[(exit.Step, exit.Tid)] = at;
                    break;
                case RegionMapEvent map when map.Name == "[vdso]":
                    vdso.Add((map.Start, map.End));
                    break;
                case RegisterChangeEvent regs when exits.Remove((regs.Step, regs.Tid), out var call):
                    ulong rip = regs.Registers[Register.Rip];
                    if (vdso.Any(r => rip >= r.Start && rip < r.End)) fromVdso.Add(call);
                    break;
            }
        }
        foreach (var (pid, index) in fromVdso.OrderByDescending(c => c.Index)) calls[pid].RemoveAt(index);
        return calls;
    }

    private static readonly HashSet<string> Creates = ["clone", "clone3", "fork", "vfork"];
    private static readonly HashSet<string> ReturnsAddress = ["mmap", "mremap", "brk", "shmat"];
    private static readonly HashSet<string> ReturnsPid = ["clone", "clone3", "fork", "vfork", "wait4", "waitid", "getpid", "gettid", "set_tid_address", "getppid", "getpgrp", "getsid", "getpgid"];

    /// <summary>
    /// Processes matched by tree position (the root, then the children each process created, in the
    /// order its fork/clone calls returned them); per process, the (name, return) sequences must be
    /// equal once values that differ between any two runs are named: addresses (ASLR) and pids.
    /// Returns a description of the first difference, or null.
    /// </summary>
    public static string? Compare(Dictionary<int, List<Call>> expected, Dictionary<int, List<Call>> actual, int expectedRoot, int actualRoot)
    {
        var expectedIds = TreeIds(expected, expectedRoot);
        var actualIds = TreeIds(actual, actualRoot);
        if (expectedIds.Count != actualIds.Count)
            return $"strace saw {expectedIds.Count} processes, the trace {actualIds.Count}";
        foreach (var (position, strPid) in expectedIds.OrderBy(p => p.Key))
        {
            if (!actualIds.TryGetValue(position, out int trPid)) return $"no traced process at tree position {position}";
            var want = Normalize(expected[strPid], expectedIds);
            var got = Normalize(actual.GetValueOrDefault(trPid) ?? [], actualIds);
            for (int i = 0; i < Math.Max(want.Count, got.Count); i++)
            {
                string w = i < want.Count ? want[i] : "(nothing)";
                string g = i < got.Count ? got[i] : "(nothing)";
                if (w != g)
                    return $"process {position} (strace pid {strPid}, traced pid {trPid}), call {i}: strace {w}, trace {g}\n" +
                           $"  strace: {string.Join("; ", want.Skip(Math.Max(0, i - 3)).Take(7))}\n" +
                           $"  trace:  {string.Join("; ", got.Skip(Math.Max(0, i - 3)).Take(7))}";
            }
        }
        return null;
    }

    /// <summary>Tree position ("0", "0.1", ...) → pid.</summary>
    private static Dictionary<string, int> TreeIds(Dictionary<int, List<Call>> calls, int root)
    {
        var ids = new Dictionary<string, int>();
        void Visit(int pid, string position)
        {
            ids[position] = pid;
            int k = 0;
            foreach (var c in calls.GetValueOrDefault(pid) ?? [])
                if (Creates.Contains(c.Name) && c.Return > 0 && calls.ContainsKey((int)c.Return.Value))
                    Visit((int)c.Return.Value, $"{position}.{k++}");
        }
        Visit(root, "0");
        return ids;
    }

    /// <summary>
    /// Calls whose place depends on when an asynchronous signal (SIGCHLD, ...) happened to arrive —
    /// which differs between any two runs, traced or not — are left out on both sides: the
    /// handler's rt_sigreturn, and a call interrupted with -ERESTART* (its restart follows anyway).
    /// </summary>
    private static bool DependsOnSignalTiming(Call c) =>
        c.Name == "rt_sigreturn" || c.Return is -512 or -513 or -514 or -516;

    private static List<string> Normalize(List<Call> calls, Dictionary<string, int> ids)
    {
        var byPid = ids.ToDictionary(p => p.Value, p => p.Key);
        var normalized = calls.Where(c => !DependsOnSignalTiming(c)).Select(c =>
        {
            string value = c.Return is not { } r ? "?"
                : r < 0 && r >= -4095 ? r.ToString()
                : ReturnsAddress.Contains(c.Name) ? "ADDR"
                : ReturnsPid.Contains(c.Name) && r > 0 ? (byPid.TryGetValue((int)r, out var p) ? $"PID[{p}]" : "PID[outside]")
                : r.ToString();
            return $"{c.Name} = {value}";
        }).ToList();
        SortReapOrder(normalized);
        return normalized;
    }

    /// <summary>
    /// Which child a wait4 returns first depends on which child exits first: `echo hi | cat`
    /// has cat exit just after echo closed the pipe, and on a loaded machine either exit can be
    /// noticed first, traced or not. A run of consecutive waits that reaped children is compared
    /// as a set.
    /// </summary>
    private static void SortReapOrder(List<string> calls)
    {
        static bool IsReap(string c) => c.StartsWith("wait4 = PID[", StringComparison.Ordinal);
        for (int i = 0; i < calls.Count; i++)
        {
            if (!IsReap(calls[i])) continue;
            int end = i;
            while (end + 1 < calls.Count && IsReap(calls[end + 1])) end++;
            calls.Sort(i, end - i + 1, StringComparer.Ordinal);
            i = end;
        }
    }
}
