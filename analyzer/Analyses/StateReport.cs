using System.Globalization;
using System.Text;
using Ether.Replay.Analyzer.Replay;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>
/// `ether at`: the program's state after a step, from the replay engine — the instruction that ran
/// (when that address runs before and after, the memory it read), where the thread goes next,
/// registers, and memory with the bytes the trace never saw as ??, who last wrote the address and who
/// writes it next.
/// </summary>
public static class StateReport
{
    /// <summary>What to show: <see cref="Memory"/> holds ADDR:LEN specs ("0x401000:32", "rsp-16:64").</summary>
    public sealed record Request(long Step, bool Registers = false, bool AllThreads = false, int? Pid = null, int? Tid = null,
        IReadOnlyList<string>? Memory = null);

    public static void Write(ReplaySession session, Request request, TextWriter output)
    {
        long s = request.Step;
        if (s < 0 || s > session.LastStep) throw new AnalysisInputException($"--step {s} is outside the trace (0..{session.LastStep})");
        var state = session.StateAt(s);
        output.WriteLine($"step {s:N0} of {session.LastStep:N0}");
        if (StepCoverage.Gaps(session.Header) is { } gaps) output.WriteLine(gaps);
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
            output.WriteLine(s == 0 ? "before the first instruction" : $"no instruction at this step ({StepCoverage.Tick(session.Header)})");
        }
        var current = request.Tid is { } wantTid
            ? state.Threads.FirstOrDefault(t => t.Tid == wantTid && (request.Pid is not { } p || t.Pid == p))
                ?? throw new AnalysisInputException($"thread {wantTid} is not alive at step {s}")
            : request.Pid is { } wantPid
                ? state.Threads.FirstOrDefault(t => t.Pid == wantPid) ?? throw new AnalysisInputException($"process {wantPid} has no live thread at step {s}")
                : state.Current;
        if (current != null)
            output.WriteLine($"next      [pid {current.Pid} tid {current.Tid}] rip 0x{current.Registers.Rip:x}{(current.RipKnown ? "" : " (the trace ends before it shows where the thread went: fall-through guess)")}");

        if (request.Registers)
        {
            var threads = request.AllThreads ? state.Threads : current != null ? [current] : [];
            foreach (var t in threads) WriteRegisters(output, t, s);
            if (threads.Count == 0) output.WriteLine("no live thread at this step");
        }
        foreach (string spec in request.Memory ?? [])
        {
            int memPid = request.Pid ?? current?.Pid ?? throw new AnalysisInputException("--mem needs --pid: no thread is alive at this step");
            var (address, length) = ParseRange(spec, current);
            var bytes = session.ReadMemory(s, memPid, address, length);
            output.WriteLine();
            int later = bytes.LaterCount;
            output.WriteLine($"memory of pid {memPid} at 0x{address:x}, {length} bytes ({bytes.KnownCount} seen in the trace" +
                             $"{(later > 0 ? $", {later} of them first seen at a later step (read then, unchanged since this one)" : "")}; ?? = never seen)");
            WriteHexDump(output, bytes);
            output.WriteLine($"0x{address:x} last written: {Describe(session.LastWriteBefore(address, s, memPid))}");
            output.WriteLine($"0x{address:x} next written: {Describe(session.NextWrite(address, s, memPid))}");
        }
    }

    private static string Describe(WriteRef? w) => w == null ? "never (in the trace)" :
        $"step {w.Step:N0} by {w.Writer} [tid {w.Tid}], {w.Size} byte{(w.Size == 1 ? "" : "s")} at 0x{w.Address:x}: " +
        $"{Convert.ToHexString(w.Value.AsSpan(0, Math.Min(w.Value.Length, 16))).ToLowerInvariant()}{(w.Value.Length > 16 ? "…" : "")}";

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
            output.WriteLine($"  0x{m.Address + (ulong)line:x12}  {m.Hex(line, n),-47}  |{m.Text(line, n)}|");
        }
    }

    /// <summary>"0x401000:32", "4198400:0x20", "rsp:64", "rbp-0x10:16" (a register of <paramref name="thread"/>); the length defaults to 64.</summary>
    public static (ulong Address, int Length) ParseRange(string spec, ThreadRegisters? thread)
    {
        int colon = spec.LastIndexOf(':');
        string addressText = colon < 0 ? spec : spec[..colon];
        string lengthText = colon < 0 ? "64" : spec[(colon + 1)..];
        if (!AddressExpression.TryParse(addressText, out var expression, out string? error))
            throw new AnalysisInputException($"--mem {spec}: {error}");
        ulong address = expression!.Resolve(thread?.Registers)
            ?? throw new AnalysisInputException($"--mem {spec}: no thread to read {addressText} from at this step");
        if (!AddressExpression.TryNumber(lengthText.Trim().ToLowerInvariant(), out ulong length) || length == 0 || length > 1 << 20)
            throw new AnalysisInputException($"--mem {spec}: the length must be between 1 and 1048576");
        return (address, (int)length);
    }
}
