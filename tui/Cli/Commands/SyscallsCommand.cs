namespace Ether.Replay.Cli.Commands;

/// <summary>`ether syscalls TRACE [-e name,...] [--pid P] [-c]`: strace-style listing or summary.</summary>
internal static class SyscallsCommand
{
    public static Command Create()
    {
        var target = AnalyzerCli.TargetArgument();
        var names = new Option<string?>("-e") { Description = "Only these calls, comma-separated (strace's -e trace=open,read also works)" };
        var pid = AnalyzerCli.PidOption();
        var trace = AnalyzerCli.TraceOption();
        var count = new Option<bool>("-c") { Description = "Summary: calls and errors per system call (strace -c)" };
        var steps = new Option<bool>("--steps") { Description = "Show the step of each call" };
        var command = new Command("syscalls", "List the system calls of a trace as strace does: [pid] name(args) = ret")
        {
            target, names, pid, trace, count, steps,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            IReadOnlyList<string>? only = r.GetValue(names) is { } e ? SyscallFilter.ParseNames(e) : null;
            var filter = new SyscallFilter { Pid = r.GetValue(pid), Names = only, Trace = r.GetValue(trace) };
            using var db = AnalyzerCli.Open(r.GetValue(target)!);
            var output = Console.Out;
            if (r.GetValue(count))
            {
                SyscallSummary.Write(SyscallSummary.Rows(db, filter), output);
                return Cli.Ok;
            }
            foreach (string line in SyscallListing.Lines(db, filter, r.GetValue(steps))) output.WriteLine(line);
            return Cli.Ok;
        }));
        return command;
    }
}
