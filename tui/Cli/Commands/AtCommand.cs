using Ether.Replay.Analyzer.Replay;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether at TRACE --step S [--regs] [--mem ADDR:LEN]`: the program's state after a step (<see cref="StateReport"/>).</summary>
internal static class AtCommand
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "An .etrace file" };
        var step = new Option<long>("--step", "-s") { Description = "The step (after it executed; 0 = before the first instruction)", Required = true };
        var regs = new Option<bool>("--regs", "-r") { Description = "Print the registers" };
        var mem = new Option<string[]>("--mem", "-m") { Description = "Print memory: ADDR:LEN (hex or decimal; ADDR may be a register or a register and offset, e.g. rsp:64, rbp-0x10:16); repeatable", AllowMultipleArgumentsPerToken = false };
        var pid = new Option<int?>("--pid") { Description = "Process for --mem and --regs (default: the one that executed the step)" };
        var tid = new Option<int?>("--tid") { Description = "Thread for --regs (default: the one that executed the step)" };
        var all = new Option<bool>("--all-threads") { Description = "Registers of every live thread" };
        var command = new Command("at", "The state after a step: the instruction and the memory it read, registers, and memory (bytes the program never read or wrote print as ??), who last wrote it and who writes it next")
        {
            trace, step, regs, mem, pid, tid, all,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            string path = r.GetValue(trace)!;
            using var session = ReplaySession.Open(Cli.ExistingFile(path));
            AnalyzerCli.WarnIfDamaged(session.Summary, path);
            StateReport.Write(session, new StateReport.Request(r.GetValue(step), r.GetValue(regs), r.GetValue(all), r.GetValue(pid), r.GetValue(tid), r.GetValue(mem)), Console.Out);
            return Cli.Ok;
        }));
        return command;
    }
}
