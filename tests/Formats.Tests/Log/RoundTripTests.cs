using CsCheck;

namespace Ether.Replay.Formats.Tests.Log;

public class RoundTripTests
{
    internal static (byte[] File, TraceScript.Expected Expected) Record(TraceScript script, int chunkSteps, int compression = 1, bool predict = true)
    {
        var ms = new MemoryStream();
        var options = new TraceWriterOptions { ChunkSteps = chunkSteps, ChunkAge = TimeSpan.FromHours(1), CompressionLevel = compression, PredictRegisters = predict };
        TraceScript.Expected expected;
        using (var w = new TraceWriter(ms, TestHeader, options, leaveOpen: true))
        {
            expected = script.Play(w);
            w.Close(StopReason.Exited, "done");
        }
        return (ms.ToArray(), expected);
    }

    internal static readonly TraceHeader TestHeader = new()
    {
        ToolVersion = "test", Backend = "synthetic", TargetPath = "/bin/x", TargetArgv = ["x", "-y"],
        TargetSha256 = "ab", StartTime = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), Host = "h",
        BackendParameters = new Dictionary<string, string> { ["mode"] = "full" },
    };

    internal static bool IsRegisterEvent(TraceEvent e) => e is KeyframeEvent or RegisterChangeEvent;

    [Fact]
    public void Every_event_kind_survives_a_round_trip()
    {
        long predicted = 0, exact = 0;
        // Both format versions: 2 (register prediction) mostly, 1 (plain deltas, as old files have them) too.
        TraceScript.Gen_.Select(Gen.Int[1, 40], Gen.Int[0, 1], Gen.Int[0, 3]).Sample((script, chunkSteps, level, version) =>
        {
            var (file, expected) = Record(script, chunkSteps, level, predict: version != 0);
            using var reader = new TraceReader(new MemoryStream(file));
            Assert.Equal(version != 0 ? 2 : 1, reader.Header.FormatVersion);
            var chunk = new DecodedChunk();
            for (int i = 0; i < reader.Chunks.Count; i++)
            {
                reader.ReadChunk(i, chunk);
                Interlocked.Add(ref predicted, chunk.PredictedRegisterChanges);
                Interlocked.Add(ref exact, chunk.ExactlyPredictedRegisterChanges);
            }
            Assert.True(reader.Summary.ClosedCleanly);
            Assert.Equal(StopReason.Exited, reader.Summary.StopReason);

            var events = reader.Events().ToList();
            Assert.Equal(expected.Events, events.Where(e => !IsRegisterEvent(e)).Select(EventText.Describe).ToList());
            foreach (var kind in EventKinds.All.Where(k => k is not (EventKind.Keyframe or EventKind.RegisterChange)))
                Assert.Equal(expected.Counts[(int)kind], reader.Summary.Count(kind));
            CheckRegisters(events, expected);
        }, iter: 300);
        // The scripts exercise register prediction both ways: changes it gets exactly right and changes it gets wrong.
        Assert.True(exact > 100 && predicted - exact > 100, $"{predicted} predicted register changes, {exact} exactly");
    }

    /// <summary>After every step, each live thread's registers rebuilt from keyframes and changes equal
    /// what the backend reported (rip aside: a thread's next instruction carries it).</summary>
    private static void CheckRegisters(List<TraceEvent> events, TraceScript.Expected expected)
    {
        var state = new Dictionary<(int, int), RegisterFile>();
        long step = -1;
        void Compare(long s)
        {
            if (!expected.RegistersAfterStep.TryGetValue(s, out var want)) return;
            foreach (var (thread, file) in want)
            {
                var key = TraceScript.Threads[thread];
                Assert.True(state.TryGetValue(key, out var got), $"no registers for {key} after step {s}");
                uint diff = got.DiffMask(file) & ~Registers.ChangeMaskExcludes;
                Assert.True(diff == 0, $"registers of {key} after step {s} differ in mask {diff:x}");
            }
        }
        foreach (var e in events)
        {
            if (e.Step != step && e is InstructionEvent) { Compare(step); step = e.Step; }
            step = Math.Max(step, e.Step);
            if (e is KeyframeEvent k) state[(k.Pid, k.Tid)] = k.Registers;
            if (e is RegisterChangeEvent r) state[(r.Pid, r.Tid)] = r.Registers;
        }
        Compare(step);
    }

    [Fact]
    public void Reading_from_a_step_gives_the_suffix()
    {
        TraceScript.Gen_.Select(Gen.Int[1, 20], Gen.Int[0, 130]).Sample((script, chunkSteps, from) =>
        {
            var (file, expected) = Record(script, chunkSteps);
            using var reader = new TraceReader(new MemoryStream(file));
            var all = reader.Events().Where(e => !IsRegisterEvent(e)).ToList();
            var suffix = reader.Events(from).Where(e => !IsRegisterEvent(e)).Select(EventText.Describe).ToList();
            Assert.Equal(all.Where(e => e.Step >= from).Select(EventText.Describe).ToList(), suffix);
        }, iter: 100);
    }

    [Fact]
    public void Header_round_trips()
    {
        var (file, _) = Record(new TraceScript([]), 10);
        using var reader = new TraceReader(new MemoryStream(file));
        var h = reader.Header;
        Assert.Equal(TestHeader with { FormatVersion = 2, BackendParameters = h.BackendParameters, TargetArgv = h.TargetArgv }, h);
        Assert.Equal(["x", "-y"], h.TargetArgv);
        Assert.Equal("full", h.BackendParameters["mode"]);
        Assert.Empty(reader.Chunks);
        Assert.True(reader.Summary.ClosedCleanly);
    }

    [Fact]
    public void Rip_is_kept_in_changes_when_no_instruction_of_the_thread_gives_it()
    {
        var ms = new MemoryStream();
        using (var w = new TraceWriter(ms, TestHeader, leaveOpen: true))
        {
            var regs = new RegisterFile { Rip = 0x1000 };
            w.Registers(1, 1, regs);
            w.Tick();
            regs.Rip = 0x2000;
            w.Registers(1, 1, regs); // a syscall-only backend: rip is news
            w.Instruction(1, 1, 0x2000, [0x90]);
            regs.Rip = 0x2001;
            regs[Register.Rax] = 5;
            w.Registers(1, 1, regs); // the next instruction will carry rip
        }
        using var reader = new TraceReader(new MemoryStream(ms.ToArray()));
        var changes = reader.Events().OfType<RegisterChangeEvent>().ToList();
        Assert.Equal(2, changes.Count);
        Assert.Equal(1u << (int)Register.Rip, changes[0].Mask);
        Assert.Equal(0x2000UL, changes[0].Registers.Rip);
        Assert.Equal(1u << (int)Register.Rax, changes[1].Mask);
    }

    /// <summary>
    /// A thread that runs natively (syscall stops only) but has one instruction recorded as a step of
    /// its own (an emulated rdtsc): the change after that step leaves rip out, so the next change that
    /// carries rip must be a delta from the rip the reader last saw, not from the one the writer was given.
    /// </summary>
    [Fact]
    public void Rip_after_a_step_of_its_own_is_rebuilt_exactly_by_the_next_change_that_carries_it()
    {
        var ms = new MemoryStream();
        using (var w = new TraceWriter(ms, TestHeader, leaveOpen: true))
        {
            var regs = new RegisterFile { Rip = 0x1000 };
            w.Registers(1, 1, regs);
            w.Instruction(1, 1, 0x1000, [0x0f, 0x31]); // rdtsc, emulated
            regs.Rip = 0x1002;
            regs[Register.Rax] = 7;
            w.Registers(1, 1, regs);                  // rip left out: the instruction carries it
            w.Tick();                                 // the thread's next system call
            regs.Rip = 0x5000;
            regs[Register.Rax] = 0;
            w.Registers(1, 1, regs);
        }
        using var reader = new TraceReader(new MemoryStream(ms.ToArray()));
        var last = reader.Events().OfType<RegisterChangeEvent>().Last();
        Assert.Equal(0x5000UL, last.Registers.Rip);
    }

    [Fact]
    public void Code_bytes_follow_self_modifying_code()
    {
        var ms = new MemoryStream();
        using (var w = new TraceWriter(ms, TestHeader, leaveOpen: true))
        {
            w.Instruction(1, 1, 0x1000, [0x90]);
            w.Instruction(1, 1, 0x1000, [0xcc]);      // same address, new bytes
            w.Instruction(2, 2, 0x1000, [0x48, 0x90]); // same address, other process
            w.Instruction(1, 1, 0x1000, [0xcc]);
        }
        using var reader = new TraceReader(new MemoryStream(ms.ToArray()));
        var bytes = reader.Events().OfType<InstructionEvent>().Select(i => Convert.ToHexString(i.Bytes)).ToList();
        Assert.Equal(["90", "CC", "4890", "CC"], bytes);
    }

    [Fact]
    public void Dispose_without_close_still_writes_the_footer()
    {
        var ms = new MemoryStream();
        using (var w = new TraceWriter(ms, TestHeader, leaveOpen: true)) w.Instruction(1, 1, 0x10, [0x90]);
        using var reader = new TraceReader(new MemoryStream(ms.ToArray()));
        Assert.True(reader.Summary.ClosedCleanly);
        Assert.Equal(StopReason.Closed, reader.Summary.StopReason);
        Assert.Equal(1, reader.Summary.LastStep);
    }
}
