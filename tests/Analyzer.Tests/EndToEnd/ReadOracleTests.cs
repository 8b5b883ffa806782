using Ether.Replay.Formats.Instructions;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;
using Ether.Replay.Recorder.Instructions;
using Ether.Replay.Recorder.Recording;
using Iced.Intel;

namespace Ether.Replay.Analyzer.Tests.EndToEnd;

/// <summary>
/// The live process is the oracle: a probe in the recorder reads, before every step, the bytes of
/// each memory operand the instruction is about to read or write, straight from the traced process.
/// </summary>
internal sealed class LiveOperandProbe : IStepProbe
{
    public sealed record Operand(ulong Address, bool Read, byte[] Bytes);
    public sealed record Sample(long Step, int Pid, int Tid, ulong Rip, List<Operand> Operands);

    private readonly MemoryOperands _operands = HostCpu.NewOperands();
    private readonly MemoryRange[] _ranges = new MemoryRange[MemoryOperands.MaxRanges];
    public readonly Dictionary<long, Sample> Samples = new();

    public void BeforeStep(long step, RecordedThread thread, in Instruction insn)
    {
        var operands = new List<Operand>();
        foreach (var kind in new[] { AccessKind.Read, AccessKind.Write })
        {
            int n = _operands.Compute(insn, thread.Registers, default, _ranges, kind);
            for (int k = 0; k < n; k++)
            {
                var bytes = new byte[_ranges[k].Size];
                int got = thread.Process.Memory.Read(_ranges[k].Address, bytes);
                operands.Add(new Operand(_ranges[k].Address, kind == AccessKind.Read, bytes[..got]));
            }
        }
        // A step that did not run (a signal came first) is probed again when it does: the last probe wins.
        Samples[step] = new Sample(step, thread.Pid, thread.Tid, thread.Registers.Rip, operands);
    }
}

/// <summary>Programs/reads.c recorded once (for every test class of the collection), with the live probe.</summary>
public sealed class ReadsRecording : IDisposable
{
    public const string Collection = "reads recording";
    private readonly TempDir _dir = new();

    public string Trace { get; }
    public string Program { get; }
    public string Stdout { get; }
    internal LiveOperandProbe Probe { get; } = new();

    public ReadsRecording()
    {
        Program = Path.Combine(_dir.Path, "reads");
        var gcc = EtherProcess.Exec(_dir.Path, "gcc", "-O1", "-o", Program, Path.Combine(AppContext.BaseDirectory, "Programs", "reads.c"));
        Assert.True(gcc.ExitCode == 0, gcc.ToString());
        Trace = Path.Combine(_dir.Path, "reads.etrace");
        string stdout = Path.Combine(_dir.Path, "stdout.txt");
        TraceRecorder.Record(new PtraceRecordOptions
        {
            Program = Program,
            Arguments = ["alpha", "beta"],
            OutputPath = Trace,
            Timeout = TimeSpan.FromMinutes(5),
            Sandbox = new SandboxOptions { StdoutPath = stdout, StdinPath = "/dev/null" },
            StepProbe = Probe,
        });
        Stdout = File.ReadAllText(stdout);
    }

    public void Dispose() => _dir.Dispose();
}

[CollectionDefinition(ReadsRecording.Collection)]
public sealed class ReadsRecordingCollection : ICollectionFixture<ReadsRecording>;

/// <summary>
/// Every byte a recorded program read is in its trace, at the step that read it: the values the replay
/// rebuilds for every memory operand equal what the live process held before that step — including
/// the initial stack, file mappings, libc's data, and pages changed behind the program's back (a
/// shared page written by a child, a page madvise dropped, a memfd page written through its
/// descriptor), which the recorder notices at the read and snapshots again.
/// </summary>
[Collection(ReadsRecording.Collection)]
public sealed class ReadOracleTests(ReadsRecording run)
{
    [Fact]
    public void The_recorded_program_behaves_as_it_does_natively()
    {
        var native = EtherProcess.Exec(Path.GetDirectoryName(run.Program)!, run.Program, "alpha", "beta");
        Assert.Equal(0, native.ExitCode);
        Assert.Equal(native.Stdout, run.Stdout);
    }

    /// <summary>The trace's instruction at each probed step is the one the probe saw (else the sample is not comparable).</summary>
    private static Dictionary<long, (int Pid, int Tid, ulong Rip)> Instructions(string trace)
    {
        using var reader = TraceReader.Open(trace);
        return reader.Events().OfType<InstructionEvent>().ToDictionary(i => i.Step, i => (i.Pid, i.Tid, i.Rip));
    }

    [Fact]
    public void Every_read_of_every_step_in_the_memory_reads_table_is_what_the_live_process_held()
    {
        var instructions = Instructions(run.Trace);
        using var x = new Exported(p => File.Copy(run.Trace, p));
        var rows = x.Rows("SELECT step, address, size, value FROM memory_reads")
            .GroupBy(r => (long)r[0]!).ToDictionary(g => g.Key, g => g.Select(r => (Address: Convert.ToUInt64(r[1]), Size: Convert.ToInt32(r[2]), Value: r[3] as byte[])).ToList());
        int compared = 0, unreadable = 0;
        var failures = new List<string>();
        foreach (var sample in run.Probe.Samples.Values)
        {
            if (!instructions.TryGetValue(sample.Step, out var i) || i != (sample.Pid, sample.Tid, sample.Rip)) continue;
            var reads = sample.Operands.Where(o => o.Read).ToList();
            var got = rows.GetValueOrDefault(sample.Step) ?? [];
            if (got.Count != reads.Count)
            {
                failures.Add($"step {sample.Step} at 0x{sample.Rip:x}: {got.Count} rows for {reads.Count} read operands");
                continue;
            }
            for (int k = 0; k < reads.Count; k++)
            {
                var live = reads[k];
                if (got[k].Address != live.Address) failures.Add($"step {sample.Step}: row address 0x{got[k].Address:x}, operand 0x{live.Address:x}");
                if (live.Bytes.Length < got[k].Size) { unreadable++; continue; } // the live process cannot read it either
                if (got[k].Value is not { } value || !value.AsSpan().SequenceEqual(live.Bytes))
                    failures.Add($"step {sample.Step} at 0x{sample.Rip:x} read 0x{live.Address:x}: trace {(got[k].Value is { } v ? Convert.ToHexString(v) : "unknown")}, live {Convert.ToHexString(live.Bytes)}");
                compared++;
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} reads differ:\n{string.Join("\n", failures.Take(20))}");
        Assert.True(compared > 10_000, $"only {compared} reads compared");
        Assert.True(unreadable < 50, $"{unreadable} reads the live process could not read");
    }

    [Fact]
    public void At_random_steps_the_replay_shows_every_operand_as_the_live_process_held_it()
    {
        var instructions = Instructions(run.Trace);
        using var session = ReplaySession.Open(run.Trace);
        var rng = new Random(14);
        var steps = run.Probe.Samples.Values
            .Where(s => instructions.TryGetValue(s.Step, out var i) && i == (s.Pid, s.Tid, s.Rip) && s.Operands.Count > 0)
            .Select(s => s.Step).ToArray();
        var failures = new List<string>();
        int compared = 0;
        for (int n = 0; n < 250; n++)
        {
            var sample = run.Probe.Samples[steps[rng.Next(steps.Length)]];
            foreach (var live in sample.Operands)
            {
                if (live.Bytes.Length == 0) continue;
                // Memory as the step began: after the step before it.
                var replayed = session.ReadMemory(sample.Step - 1, sample.Pid, live.Address, live.Bytes.Length);
                if (!replayed.Known.All(k => k) || !replayed.Bytes.AsSpan().SequenceEqual(live.Bytes))
                    failures.Add($"step {sample.Step} at 0x{sample.Rip:x} {(live.Read ? "read" : "wrote")} 0x{live.Address:x}: replay {replayed.Hex()}, live {Convert.ToHexString(live.Bytes)}");
                compared++;
            }
            var reads = session.ReadsAt(sample.Step)!;
            Assert.Equal(sample.Operands.Where(o => o.Read).Select(o => o.Address), reads.Reads.Select(r => r.Address));
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} operands differ:\n{string.Join("\n", failures.Take(20))}");
    }

    [Fact]
    public void The_initial_stack_is_known_at_the_first_step()
    {
        using var session = ReplaySession.Open(run.Trace);
        var first = session.StateAt(1);
        var thread = first.Current!;
        var stack = session.ReadMemory(1, thread.Pid, thread.Registers.Rsp, 256);
        Assert.All(stack.Known, Assert.True);
        // argc, then argv[0..2] pointing at the strings the kernel copied.
        Assert.Equal(3UL, BitConverter.ToUInt64(stack.Bytes, 0));
        ulong argv1 = BitConverter.ToUInt64(stack.Bytes, 16);
        var text = session.ReadMemory(1, thread.Pid, argv1, 11);
        Assert.All(text.Known, Assert.True);
        Assert.Equal("alpha\0beta\0"u8.ToArray(), text.Bytes);
    }

    [Fact]
    public void Ether_at_shows_the_initial_stack_and_what_a_step_read()
    {
        string dir = Path.GetDirectoryName(run.Trace)!;
        var at1 = EtherProcess.Run(dir, ["at", run.Trace, "--step", "1", "--mem", "rsp:64"]);
        Assert.True(at1.ExitCode == 0, at1.ToString());
        Assert.Contains("64 bytes (64 seen in the trace", at1.Stdout);
        var dump = at1.StdoutLines.Where(l => l.StartsWith("  0x")).ToList();
        Assert.Equal(4, dump.Count);
        Assert.All(dump, l => Assert.DoesNotContain("??", l));
        // A step that read memory: its operand and the value, as the live process held it.
        var sample = run.Probe.Samples.Values.First(s => s.Step > 1000 && s.Operands.Count(o => o.Read) == 1 && s.Operands.Count == 1 && s.Operands[0].Bytes.Length == 8);
        var at = EtherProcess.Run(dir, ["at", run.Trace, "--step", sample.Step.ToString()]);
        Assert.True(at.ExitCode == 0, at.ToString());
        string hex = string.Join(' ', sample.Operands[0].Bytes.Select(b => b.ToString("x2")));
        Assert.Contains($"read      0x{sample.Operands[0].Address:x}  8 bytes: {hex}", at.Stdout);
    }

    [Fact]
    public void Pages_changed_behind_the_programs_back_are_snapshotted_again_at_the_read()
    {
        using var reader = TraceReader.Open(run.Trace);
        var events = reader.Events().ToList();
        int parent = events.OfType<ExecEvent>().First().Pid;
        var changed = events.OfType<RegionSnapshotEvent>().Where(s => s.Reason == "changed" && s.Pid == parent).ToList();
        // The shared page the child wrote, the page madvise dropped, the memfd page written through its fd.
        Assert.Contains(changed, s => BitConverter.ToUInt64(s.Bytes, 0) == 0x1122334455667788UL && BitConverter.ToUInt64(s.Bytes, 40) == 42);
        Assert.Contains(changed, s => s.Bytes.All(b => b == 0));
        Assert.Contains(changed, s => s.Bytes.AsSpan(8, 8).SequenceEqual("changed!"u8));
        Assert.Contains(events.OfType<RegionSnapshotEvent>(), s => s.Reason == "read");
        // The replay's reads at those steps are the new bytes, as the live process held them (not the stale ones).
        using var session = ReplaySession.Open(run.Trace);
        int compared = 0;
        foreach (var step in changed.Select(s => s.Step).Distinct())
        {
            if (!run.Probe.Samples.TryGetValue(step, out var sample)) continue;
            var live = sample.Operands.Where(o => o.Read).ToList();
            var reads = session.ReadsAt(step)!.Reads;
            Assert.Equal(live.Select(o => o.Address), reads.Select(r => r.Address));
            for (int k = 0; k < live.Count; k++)
                Assert.True(reads[k].Value.Bytes.AsSpan().SequenceEqual(live[k].Bytes), $"step {step} read 0x{live[k].Address:x}: replay {reads[k].Value.Hex()}, live {Convert.ToHexString(live[k].Bytes)}");
            compared++;
        }
        Assert.True(compared >= 3, $"only {compared} steps with a changed snapshot compared");
    }
}
