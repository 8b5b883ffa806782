using Ether.Replay.Formats.LogInternal;
using Ether.Replay.Formats.LogInternal.Prediction;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// A reader keeps every predicted op for its whole life in <see cref="CodeSlots"/>: each chunk's code definitions
/// find their slot by the successor guess or by hashing (rip, bytes). These traces give the table every way to hand
/// a definition the wrong op: two processes running other bytes at the same rips (and the same bytes at some), code
/// rewritten in place, chunks read in random order and twice, 32-bit threads beside 64-bit ones, and a table so small
/// it starts over every few chunks. The registers the prediction produces are most of what a v2 reader returns, so a
/// wrong op shows as a wrong register value: every change must give back exactly the registers written.
/// </summary>
public class CodeSlotsTests
{
    [Theory]
    [InlineData(1, 1 << 20, 1 << 18, 10)]
    [InlineData(2, 500, 1 << 18, 10)]
    [InlineData(3, 97, 1 << 18, 10)]
    [InlineData(4, 500, 24, 10)]
    [InlineData(5, 97, 1, 10)]
    [InlineData(6, 3000, 1 << 18, 1500)] // > 16 K distinct instructions: the table grows from 1 K slots to 32 K
    // Sized by a reader for its trace (SizeFor, uninitialised storage): at 32 K slots from the start, for a trace claiming
    // no or absurd counts (a hostile summary), and clamped to 1 K when the table must start over every 24 slots.
    [InlineData(7, 3000, 1 << 18, 1500, 250_000)]
    [InlineData(8, 500, 1 << 18, 10, long.MaxValue)]
    [InlineData(9, 97, 1 << 18, 10, -5)]
    [InlineData(10, 500, 24, 10, long.MaxValue)]
    public void Registers_rebuilt_through_the_slots_are_the_registers_written(int seed, int chunkSteps, int maxSlots, int blocks, long sizeFor = 0)
    {
        var (file, truth, expectedChanges) = Record(seed, blocks > 100 ? 120_000 : 20_000, chunkSteps, blocks);
        using var reader = new TraceReader(new MemoryStream(file));
        Assert.Equal(FrameFormat.PredictionVersion, reader.Header.FormatVersion);
        using var decoder = new ChunkDecoder { FormatVersion = reader.Header.FormatVersion, MaxCodeSlots = maxSlots };
        if (sizeFor != 0) decoder.SizeFor(sizeFor);
        var c = new DecodedChunk();
        var rng = new Random(seed);
        var order = Enumerable.Range(0, reader.Chunks.Count).ToArray();
        long predicted = 0, exact = 0, changes = 0;
        for (int round = 0; round < 2; round++)
        {
            if (round == 1) rng.Shuffle(order); // the first round in file order, the second at random over a warm table
            foreach (int k in order)
            {
                var info = reader.Chunks[k];
                var payload = file.AsMemory((int)info.Offset + FrameFormat.PreambleLength, info.Length - FrameFormat.PreambleLength);
                decoder.Decode(payload, info.Offset, info.Length, c);
                predicted += c.PredictedRegisterChanges;
                exact += c.ExactlyPredictedRegisterChanges;
                foreach (var e in ChunkEvents.InLogOrder(c))
                {
                    if (e is not RegisterChangeEvent r) continue;
                    changes++;
                    Assert.True(truth.TryGetValue((r.Step, r.Tid), out var want), $"a change at step {r.Step} of thread {r.Tid} that was never written");
                    uint diff = r.Registers.DiffMask(want) & ~Registers.ChangeMaskExcludes;
                    Assert.True(diff == 0, $"chunk {k} (round {round}): registers of thread {r.Tid} after step {r.Step} differ in mask 0x{diff:x}");
                }
            }
        }
        Assert.Equal(2L * expectedChanges, changes);
        Assert.True(blocks < 100 || decoder.CodeSlotCount > 16_384, $"{decoder.CodeSlotCount} slots: the table never grew past 16 K");
        // The trace exercises the prediction both ways: changes it gets exactly right and changes it gets wrong.
        Assert.True(exact > changes / 4 && predicted - exact > changes / 20, $"{changes} changes, {predicted} predicted, {exact} exactly");
    }

    /// <summary>Three 64-bit threads (two in pid 10, one in pid 20) and one 32-bit thread (pid 30) walk blocks of
    /// instructions the predictor computes; pid 20 runs other bytes at most of pid 10's rips, pid 30 the same bytes as
    /// pid 10 (another op in 32-bit code), and now and then an instruction is rewritten. Each step's registers are what
    /// the instruction computes from the thread's registers before it, often with a slot changed to a random value.</summary>
    private static (byte[] File, Dictionary<(long Step, int Tid), RegisterFile> Truth, long Changes) Record(int seed, int count, int chunkSteps, int blockCount)
    {
        var rng = new Random(seed);
        var forms = PredictableCode.All;
        (int Pid, int Tid)[] threads = [(10, 1), (10, 2), (20, 3), (30, 4)];
        var code = new Dictionary<(int Pid, ulong Rip), byte[]>();
        var blocks = new List<ulong[]>();
        for (int b = 0; b < blockCount; b++)
        {
            var rips = new ulong[3 + rng.Next(10)];
            ulong rip = 0x40_0000UL + (ulong)b * 0x200;
            for (int k = 0; k < rips.Length; k++)
            {
                rips[k] = rip;
                code[(10, rip)] = code[(30, rip)] = forms[rng.Next(forms.Length)];
                code[(20, rip)] = rng.Next(4) == 0 ? code[(10, rip)] : forms[rng.Next(forms.Length)];
                rip += 16; // room for the longest form: a block's rips stay apart whatever runs there
            }
            blocks.Add(rips);
        }

        var files = new RegisterFile[threads.Length];
        for (int t = 0; t < threads.Length; t++)
        {
            for (int s = 0; s < Registers.Count; s++) files[t][(Register)s] = (ulong)rng.NextInt64();
            files[t][Register.Rflags] = 0x202;
            files[t][Register.Cs] = threads[t].Pid == 30 ? 0x23UL : 0x33UL;
        }
        var truth = new Dictionary<(long, int), RegisterFile>();
        long changes = 0; // steps that change a register other than rip (a thread's first registers are a keyframe)
        var started = new bool[threads.Length];
        var ms = new MemoryStream();
        var options = new TraceWriterOptions { ChunkSteps = chunkSteps, ChunkAge = TimeSpan.FromHours(1) };
        using (var w = new TraceWriter(ms, RoundTripTests.TestHeader, options, leaveOpen: true))
        {
            var at = threads.Select(_ => (Block: rng.Next(blocks.Count), Index: 0)).ToArray();
            int t = 0;
            for (int n = 0; n < count; n++)
            {
                if (rng.Next(40) == 0) t = rng.Next(threads.Length);
                var (pid, tid) = threads[t];
                if (rng.Next(150) == 0)
                {
                    var block = blocks[rng.Next(blocks.Count)];
                    code[(pid, block[rng.Next(block.Length)])] = forms[rng.Next(forms.Length)]; // self-modifying code
                }
                ref var p = ref at[t];
                ulong rip = blocks[p.Block][p.Index];
                var bytes = code[(pid, rip)];
                w.Instruction(pid, tid, rip, bytes);
                ref var file = ref files[t];
                var before = file;
                RegisterPredictor.Apply(PredictedOp.Decode(bytes, rip, PredictedOps.Bitness(file)), ref file);
                if (rng.Next(4) == 0) file[(Register)rng.Next((int)Register.Rflags + 1)] = (ulong)rng.NextInt64();
                file[Register.Rip] = rip + (ulong)bytes.Length;
                w.Registers(pid, tid, file);
                truth[(w.Step, tid)] = file;
                if (started[t] && (file.DiffMask(before) & ~Registers.ChangeMaskExcludes) != 0) changes++;
                started[t] = true;
                if (++p.Index == blocks[p.Block].Length)
                    p = (rng.Next(3) == 0 ? rng.Next(blocks.Count) : (p.Block + 1) % blocks.Count, 0);
            }
            w.Close(StopReason.Exited, "done");
        }
        return (ms.ToArray(), truth, changes);
    }
}
