using System.CommandLine;
using System.Globalization;
using System.Text;
using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether at TRACE --step S [--regs] [--mem ADDR:LEN]`: the program's state after a step.</summary>
internal static class AtCommand
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "An .etrace file" };
        var step = new Option<long>("--step", "-s") { Description = "The step (after it executed; 0 = before the first instruction)", Required = true };
        var regs = new Option<bool>("--regs", "-r") { Description = "Print the registers" };
        var mem = new Option<string[]>("--mem", "-m") { Description = "Print memory: ADDR:LEN (hex or decimal; ADDR may be a register, e.g. rsp:64); repeatable", AllowMultipleArgumentsPerToken = false };
        var pid = new Option<int?>("--pid") { Description = "Process for --mem and --regs (default: the one that executed the step)" };
        var tid = new Option<int?>("--tid") { Description = "Thread for --regs (default: the one that executed the step)" };
        var all = new Option<bool>("--all-threads") { Description = "Registers of every live thread" };
        var command = new Command("at", "The state after a step: the instruction and the memory it read, registers, and memory (bytes the program never read or wrote print as ??), who last wrote it and who writes it next")
        {
            trace, step, regs, mem, pid, tid, all,
        };
        command.SetAction(r => AnalyzerCli.Guard(() =>
        {
            string path = r.GetValue(trace)!;
            using (var reader = AnalyzerCli.OpenTrace(path)) AnalyzerCli.WarnIfDamaged(reader, path);
            using var session = ReplaySession.Open(path);
            long s = r.GetValue(step);
            if (s < 0 || s > session.LastStep) throw new CliException($"--step {s} is outside the trace (0..{session.LastStep})");
            var output = Console.Out;
            var state = session.StateAt(s);
            output.WriteLine($"step {s:N0} of {session.LastStep:N0}");
            if (state.Executed is { } x)
            {
                output.WriteLine($"executed  [pid {x.Pid} tid {x.Tid}] 0x{x.Rip:x}  {Convert.ToHexString(x.Bytes).ToLowerInvariant(),-20}  {session.Disassemble(x)}");
                var previous = session.PreviousExecution(x.Rip, s, x.Pid);
                var next = session.NextExecution(x.Rip, s, x.Pid);
                output.WriteLine($"0x{x.Rip:x} also runs at: previous step {(previous?.ToString("N0") ?? "none")}, next step {(next?.ToString("N0") ?? "none")}");
                if (session.ReadsAt(s) is { } reads)
                {
                    foreach (var read in reads.Reads)
                        output.WriteLine($"read      0x{read.Address:x}  {read.Size} byte{(read.Size == 1 ? "" : "s")}: {read.Value.Hex(0, 32)}{(read.Size > 32 ? " …" : "")}");
                    if (reads.Unresolved) output.WriteLine("read      (a gather: its addresses come from a vector register the trace does not hold)");
                }
            }
            else
            {
                output.WriteLine(s == 0 ? "before the first instruction" : "no instruction at this step (a tick: system-call-only recording)");
            }
            var current = r.GetValue(tid) is { } wantTid
                ? state.Threads.FirstOrDefault(t => t.Tid == wantTid && (r.GetValue(pid) is not { } p || t.Pid == p))
                    ?? throw new CliException($"thread {wantTid} is not alive at step {s}")
                : r.GetValue(pid) is { } wantPid
                    ? state.Threads.FirstOrDefault(t => t.Pid == wantPid) ?? throw new CliException($"process {wantPid} has no live thread at step {s}")
                    : state.Current;
            if (current != null)
                output.WriteLine($"next      [pid {current.Pid} tid {current.Tid}] rip 0x{current.Registers.Rip:x}{(current.RipKnown ? "" : " (the trace ends before it shows where the thread went: fall-through guess)")}");

            if (r.GetValue(regs))
            {
                var threads = r.GetValue(all) ? state.Threads : current != null ? [current] : [];
                foreach (var t in threads) WriteRegisters(output, t, s);
                if (threads.Count == 0) output.WriteLine("no live thread at this step");
            }
            foreach (string spec in r.GetValue(mem) ?? [])
            {
                int memPid = r.GetValue(pid) ?? current?.Pid ?? throw new CliException("--mem needs --pid: no thread is alive at this step");
                var (address, length) = ParseRange(spec, current);
                var bytes = session.ReadMemory(s, memPid, address, length);
                output.WriteLine();
                int later = bytes.LaterCount;
                output.WriteLine($"memory of pid {memPid} at 0x{address:x}, {length} bytes ({bytes.KnownCount} seen in the trace" +
                                 $"{(later > 0 ? $", {later} of them first seen at a later step (read then, unchanged since this one)" : "")}; ?? = never seen)");
                WriteHexDump(output, bytes);
                var last = session.LastWriteBefore(address, s, memPid);
                var nextWrite = session.NextWrite(address, s, memPid);
                output.WriteLine($"0x{address:x} last written: {Describe(last)}");
                output.WriteLine($"0x{address:x} next written: {Describe(nextWrite)}");
            }
            return AnalyzerCli.Ok;
        }));
        return command;
    }

    private static string Describe(WriteRef? w) => w == null ? "never (in the trace)" :
        $"step {w.Step:N0} by {(w.Kernel ? "the kernel" : w.Rip is { } rip ? $"0x{rip:x}" : "?")} [tid {w.Tid}], {w.Size} byte{(w.Size == 1 ? "" : "s")} at 0x{w.Address:x}: {Convert.ToHexString(w.Value.AsSpan(0, Math.Min(w.Value.Length, 16))).ToLowerInvariant()}{(w.Value.Length > 16 ? "…" : "")}";

    private static void WriteRegisters(TextWriter output, ThreadRegisters t, long step)
    {
        output.WriteLine();
        output.WriteLine($"registers of thread {t.Tid} (pid {t.Pid}) after step {step:N0}");
        var sb = new StringBuilder();
        for (int i = 0; i < Registers.Count; i++)
        {
            sb.Append($"  {Registers.Names[i],-8} 0x{t.Registers[i]:x16}");
            if (i % 4 == 3 || i == Registers.Count - 1)
            {
                output.WriteLine(sb.ToString());
                sb.Clear();
            }
        }
    }

    private static void WriteHexDump(TextWriter output, MemoryBytes m)
    {
        for (int line = 0; line < m.Bytes.Length; line += 16)
        {
            int n = Math.Min(16, m.Bytes.Length - line);
            var ascii = new StringBuilder();
            for (int i = line; i < line + n; i++)
                ascii.Append(!m.Known[i] ? ' ' : m.Bytes[i] is >= 0x20 and < 0x7f ? (char)m.Bytes[i] : '.');
            output.WriteLine($"  0x{m.Address + (ulong)line:x12}  {m.Hex(line, n),-47}  |{ascii}|");
        }
    }

    /// <summary>"0x401000:32", "4198400:0x20", "rsp:64" (register of the current thread).</summary>
    internal static (ulong Address, int Length) ParseRange(string spec, ThreadRegisters? thread)
    {
        int colon = spec.LastIndexOf(':');
        string addressText = colon < 0 ? spec : spec[..colon];
        string lengthText = colon < 0 ? "64" : spec[(colon + 1)..];
        ulong address;
        int slot = Array.IndexOf(Registers.Names, addressText.ToLowerInvariant());
        if (slot >= 0)
        {
            if (thread == null) throw new CliException($"--mem {spec}: no thread to read {addressText} from at this step");
            address = thread.Registers[slot];
        }
        else if (!TryNumber(addressText, out address))
        {
            throw new CliException($"--mem {spec}: the address must be hex (0x...), decimal or a register name");
        }
        if (!TryNumber(lengthText, out ulong length) || length == 0 || length > 1 << 20)
            throw new CliException($"--mem {spec}: the length must be between 1 and 1048576");
        return (address, (int)length);
    }

    private static bool TryNumber(string text, out ulong value) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
