using System.Globalization;

namespace Ether.Replay.Analyzer.Tests.EndToEnd;

/// <summary>
/// A reader of Tenet's text trace written from its published format (gaasedelen/tenet,
/// tracers/README.md, and its parser plugins/tenet/trace/file.py): comma-separated <c>name=value</c>
/// items, register names case-insensitive with hex values, <c>mr</c>/<c>mw</c>/<c>mrw</c> =
/// <c>ADDRESS:HEXBYTES</c>. The state at line k is the register values and memory bytes of the last
/// line ≤ k that set them (Tenet's reader counts a line's accesses into that line's state).
/// </summary>
internal sealed class TenetReader
{
    public static readonly string[] Registers = ["RAX", "RBX", "RCX", "RDX", "RBP", "RSP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"];

    public sealed record Line(ulong Rip, Dictionary<string, ulong> Registers, List<(ulong Address, byte[] Bytes, bool Read, bool Write)> Memory);

    public static List<Line> Parse(string path)
    {
        var lines = new List<Line>();
        foreach (string text in File.ReadLines(path))
        {
            ulong? rip = null;
            var registers = new Dictionary<string, ulong>();
            var memory = new List<(ulong, byte[], bool, bool)>();
            foreach (string item in text.Split(','))
            {
                var parts = item.Split('=');
                Assert.True(parts.Length == 2, $"not name=value: '{item}' in '{text}'");
                string name = parts[0].ToUpperInvariant();
                if (name == "RIP") rip = Hex(parts[1]);
                else if (Registers.Contains(name)) registers[name] = Hex(parts[1]);
                else if (name is "MR" or "MW" or "MRW")
                {
                    var access = parts[1].Split(':');
                    memory.Add((Hex(access[0]), Convert.FromHexString(access[1].Trim()), name != "MW", name != "MR"));
                }
                else Assert.Fail($"Tenet rejects '{name}' in '{text}'");
            }
            Assert.True(rip.HasValue, $"a line without rip: '{text}'");
            lines.Add(new Line(rip!.Value, registers, memory));
        }
        return lines;
    }

    private static ulong Hex(string text) =>
        ulong.Parse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

/// <summary>`ether export --format tenet`, read back with <see cref="TenetReader"/> and compared with the replay.</summary>
[Collection(ReadsRecording.Collection)]
public sealed class TenetExportTests(ReadsRecording run)
{
    private static readonly (string Name, Register Slot)[] Slots =
    [
        ("RAX", Register.Rax), ("RBX", Register.Rbx), ("RCX", Register.Rcx), ("RDX", Register.Rdx),
        ("RBP", Register.Rbp), ("RSP", Register.Rsp), ("RSI", Register.Rsi), ("RDI", Register.Rdi),
        ("R8", Register.R8), ("R9", Register.R9), ("R10", Register.R10), ("R11", Register.R11),
        ("R12", Register.R12), ("R13", Register.R13), ("R14", Register.R14), ("R15", Register.R15),
    ];

    private (int Pid, int Tid) MainThread()
    {
        using var reader = TraceReader.Open(run.Trace);
        var exec = reader.Events().OfType<ExecEvent>().First();
        return (exec.Pid, exec.Tid);
    }

    private string Export(string name, params string[] options)
    {
        var (_, tid) = MainThread();
        string file = Path.Combine(Path.GetDirectoryName(run.Trace)!, name);
        var r = EtherProcess.Run(Path.GetDirectoryName(run.Trace)!, ["export", "--format", "tenet", run.Trace, "--thread", tid.ToString(), "-o", file, .. options]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return file;
    }

    [Fact]
    public void Every_register_and_memory_value_at_random_lines_is_the_replays()
    {
        var (pid, tid) = MainThread();
        var lines = TenetReader.Parse(Export("runtime.tenet", "--image-base", "none"));
        using var session = ReplaySession.Open(run.Trace);
        // The thread's instruction steps, in order: line k is the machine before the k-th of them.
        var steps = new List<long>();
        for (long from = 1; from <= session.LastStep;)
        {
            var page = session.InstructionsPage(from, 4096);
            if (page.Count == 0) break;
            steps.AddRange(page.Where(r => r.Pid == pid && r.Tid == tid).Select(r => r.Step));
            from = page[^1].Step + 1;
        }
        Assert.True(lines.Count == steps.Count, $"{lines.Count} lines for {steps.Count} instructions");
        Assert.Equal(TenetReader.Registers.Length, lines[0].Registers.Count); // the first line has them all

        var rng = new Random(3);
        var chosen = Enumerable.Range(0, 120).Select(_ => rng.Next(1, lines.Count - 1)).Append(1).Append(lines.Count - 1).ToHashSet();
        // And lines after an instruction that read memory, as the live process probe saw it (the oracle, not the export).
        var afterReads = Enumerable.Range(1, lines.Count - 1)
            .Where(k => run.Probe.Samples.TryGetValue(steps[k - 1], out var s) && s.Operands.Any(o => o.Read && o.Bytes.Length > 0)).ToArray();
        for (int n = 0; n < 60; n++) chosen.Add(afterReads[rng.Next(afterReads.Length)]);
        var registers = new Dictionary<string, ulong>();
        var memory = new Dictionary<ulong, byte>();
        var recent = new Queue<List<ulong>>();
        int comparedBytes = 0, comparedReads = 0;
        for (int k = 0; k < lines.Count; k++)
        {
            var line = lines[k];
            foreach (var (r, v) in line.Registers) registers[r] = v;
            var touched = new List<ulong>();
            foreach (var (address, bytes, _, _) in line.Memory)
                for (int b = 0; b < bytes.Length; b++)
                {
                    memory[address + (ulong)b] = bytes[b];
                    touched.Add(address + (ulong)b);
                }
            recent.Enqueue(touched);
            if (recent.Count > 24) recent.Dequeue();
            if (!chosen.Contains(k)) continue;

            long step = steps[k];
            var row = session.InstructionsPage(step, 1)[0];
            Assert.Equal(row.Rip, line.Rip);
            var before = session.RegistersAt(step - 1, pid, tid)!.Registers;
            foreach (var (name, slot) in Slots) Assert.True(before[slot] == registers[name], $"line {k} (step {step}): {name} 0x{registers[name]:x}, replay 0x{before[slot]:x}");
            // The bytes the last lines touched, as the reader holds them now, against the replay's memory before the step.
            foreach (var (start, length) in Runs(recent.SelectMany(t => t)))
            {
                var replayed = session.ReadMemory(step - 1, pid, start, length);
                for (int b = 0; b < length; b++)
                {
                    ulong a = start + (ulong)b;
                    Assert.True(replayed.Known[b] && replayed.Bytes[b] == memory[a], $"line {k} (step {step}) byte 0x{a:x}: tenet {memory[a]:x2}, replay {replayed.Hex(b, 1)}");
                    comparedBytes++;
                }
            }
            // What the previous instruction read is on this line, with the values the replay says it read.
            if (session.ReadsAt(steps[k - 1]) is { } reads)
                foreach (var read in reads.Reads.Where(r => r.Value.Known.All(known => known)))
                {
                    Assert.Contains(line.Memory, m => m.Read && m.Address == read.Address && m.Bytes.AsSpan().SequenceEqual(read.Value.Bytes));
                    comparedReads++;
                }
        }
        Assert.True(comparedBytes > 2000 && comparedReads > 50, $"{comparedBytes} bytes, {comparedReads} reads compared");
    }

    /// <summary>Addresses merged into contiguous runs.</summary>
    private static IEnumerable<(ulong Start, int Length)> Runs(IEnumerable<ulong> addresses)
    {
        ulong start = 0;
        int length = 0;
        foreach (ulong a in addresses.Distinct().Order())
        {
            if (length > 0 && a == start + (ulong)length) { length++; continue; }
            if (length > 0) yield return (start, length);
            (start, length) = (a, 1);
        }
        if (length > 0) yield return (start, length);
    }

    [Fact]
    public void The_image_base_lines_the_trace_up_with_the_binary_in_a_disassembler()
    {
        var runtime = TenetReader.Parse(Export("runtime2.tenet", "--image-base", "none"));
        var rebased = TenetReader.Parse(Export("rebased.tenet"));
        Assert.Equal(runtime.Count, rebased.Count);
        // `main` as the ELF file says (a PIE: linked at 0): the rebased trace executes exactly that address.
        var nm = EtherProcess.Exec(Path.GetDirectoryName(run.Trace)!, "nm", run.Program);
        ulong main = ulong.Parse(nm.Stdout.Split('\n').Single(l => l.EndsWith(" T main")).Split(' ')[0], NumberStyles.HexNumber);
        int at = rebased.FindIndex(l => l.Rip == main);
        Assert.True(at > 0, $"main (0x{main:x} in the file) never runs in the rebased trace");
        ulong slide = runtime[at].Rip - main;
        Assert.True(slide > 0x1000 && slide % 0x1000 == 0, $"slide 0x{slide:x}");
        // Every value in the image (its loadable segments, as readelf lists them) moved by the slide; values
        // outside it (the stack, libc, the copy of the file the program maps for itself) did not.
        var readelf = EtherProcess.Exec(Path.GetDirectoryName(run.Trace)!, "readelf", "-lW", run.Program);
        ulong imageEnd = slide + readelf.StdoutLines.Where(l => l.TrimStart().StartsWith("LOAD "))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Max(f => (ulong.Parse(f[2][2..], NumberStyles.HexNumber) + ulong.Parse(f[5][2..], NumberStyles.HexNumber) + 0xfff) & ~0xfffUL);
        bool InImage(ulong v) => v >= slide && v < imageEnd;
        // Compared as states: a line lists a register only when its value (as that trace shows it) changed.
        var runtimeRegisters = new Dictionary<string, ulong>();
        var rebasedRegisters = new Dictionary<string, ulong>();
        for (int k = 0; k < runtime.Count; k++)
        {
            ulong rip = runtime[k].Rip;
            Assert.Equal(InImage(rip) ? rip - slide : rip, rebased[k].Rip);
            foreach (var (name, value) in runtime[k].Registers) runtimeRegisters[name] = value;
            foreach (var (name, value) in rebased[k].Registers) rebasedRegisters[name] = value;
            foreach (var (name, value) in runtimeRegisters) Assert.Equal(InImage(value) ? value - slide : value, rebasedRegisters[name]);
            Assert.Equal(runtime[k].Memory.Select(m => InImage(m.Address) ? m.Address - slide : m.Address), rebased[k].Memory.Select(m => m.Address));
        }
    }

    [Fact]
    public void Bad_requests_are_one_line_errors()
    {
        string dir = Path.GetDirectoryName(run.Trace)!;
        var noThread = EtherProcess.Run(dir, ["export", "--format", "tenet", run.Trace, "-o", "x.tenet"]);
        Assert.Equal(1, noThread.ExitCode);
        Assert.Contains("--thread", noThread.Stderr);
        var unknown = EtherProcess.Run(dir, ["export", "--format", "tenet", run.Trace, "--thread", "999999", "-o", "x.tenet"]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("thread 999999 runs no instruction", unknown.Stderr);
        Assert.Single(unknown.Stderr.Trim().Split('\n'));
    }
}
