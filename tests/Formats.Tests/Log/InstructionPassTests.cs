using Ether.Replay.Formats.LogInternal;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// The decoder's instruction pass guesses each instruction's code definition from the one that followed the
/// previous instruction's definition last time, before it hashes (pid, rip). These traces make that guess wrong
/// in every way a trace can: jumps back and forth, two processes running other bytes at the same rips, two
/// threads of one process interleaved, and code rewritten at a rip the guess still points to. Every decoded
/// instruction's rip, bytes, thread and definition must match what was written.
/// </summary>
public class InstructionPassTests
{
    private sealed record Written(int Pid, int Tid, ulong Rip, byte[] Code);

    [Fact]
    public void A_guess_with_the_right_rip_but_another_process_is_not_taken()
    {
        // pid 20's r1 (def 2) follows pid 10's r1 (def 1) in definition order; when pid 20 runs r0 → r1 again, the
        // guess after r0 (def 0) is def 1: pid 10's bytes at the same rip.
        Check(
        [
            new(20, 3, 0x1000, [0x90]), new(10, 1, 0x1001, [0x48, 0x90]), new(20, 3, 0x1001, [0xcc, 0xcc, 0xcc]),
            new(20, 3, 0x1000, [0x90]), new(20, 3, 0x1001, [0xcc, 0xcc, 0xcc]),
        ]);
    }

    [Fact]
    public void A_guess_of_the_same_process_at_another_rip_is_not_taken()
    {
        // r0 r1 r2, then r0 → r2: the guess after r0 is r1.
        Check(
        [
            new(10, 1, 0x1000, [0x90]), new(10, 1, 0x1001, [0x41, 0x90]), new(10, 1, 0x1003, [0xc3]),
            new(10, 1, 0x1000, [0x90]), new(10, 1, 0x1003, [0xc3]),
        ]);
    }

    [Fact]
    public void A_guess_of_bytes_rewritten_since_is_not_taken()
    {
        // r0 r1, r0 r1 (the guess after r0 is r1's first definition), r1 rewritten (a new definition replaces it),
        // then r0 → r1: the guess after r0 still names the first definition of r1, whose bytes are gone.
        Check(
        [
            new(10, 1, 0x1000, [0x90]), new(10, 1, 0x1001, [0xc3]),
            new(10, 1, 0x1000, [0x90]), new(10, 1, 0x1001, [0xc3]),
            new(10, 1, 0x1001, [0xcc, 0x90]),
            new(10, 1, 0x1000, [0x90]), new(10, 1, 0x1001, [0xcc, 0x90]),
        ]);
    }

    [Fact]
    public void A_chunk_of_only_definitions_of_one_byte_instructions_fits_the_definition_tables()
    {
        // Every instruction is new and one byte long: three bytes of the code column each (the count before it, its
        // length, its byte), the fewest a definition can take, which is what the decoder sizes its tables by.
        Check(Enumerable.Range(0, 5000).Select(k => new Written(10, 1, 0x1000 + (ulong)k, [0x90])).ToList());
    }

    [Theory]
    [InlineData(1, 1 << 20)]
    [InlineData(2, 4096)]
    [InlineData(3, 1000)]
    [InlineData(4, 333)]
    public void Random_walks_through_shared_rewritten_code_decode_exactly(int seed, int chunkSteps) =>
        Check(Walk(seed, 30_000), chunkSteps);

    /// <summary>Three threads (two in pid 10, one in pid 20) walk the same blocks of rips, each process with its own
    /// bytes there: mostly block after block (the guess's case), often to any block, switching threads and
    /// rewriting an instruction now and then.</summary>
    private static List<Written> Walk(int seed, int count)
    {
        var rng = new Random(seed);
        (int Pid, int Tid)[] threads = [(10, 1), (10, 2), (20, 3)];
        byte[] Bytes() { var b = new byte[1 + rng.Next(15)]; rng.NextBytes(b); return b; }
        var code = new Dictionary<(int, ulong), byte[]>();
        var blocks = new List<ulong[]>();
        for (int b = 0; b < 12; b++)
        {
            var rips = new ulong[2 + rng.Next(12)];
            ulong rip = 0x40_0000UL + (ulong)b * 0x100;
            for (int k = 0; k < rips.Length; k++)
            {
                rips[k] = rip;
                foreach (int pid in new[] { 10, 20 }) code[(pid, rip)] = Bytes();
                rip += (ulong)code[(10, rip)].Length; // pid 20's bytes often have another length: its run is jumps
            }
            blocks.Add(rips);
        }
        var at = threads.Select(_ => (Block: rng.Next(blocks.Count), Index: 0)).ToArray();
        var written = new List<Written>();
        int t = 0;
        while (written.Count < count)
        {
            if (rng.Next(50) == 0) t = rng.Next(threads.Length);
            var (pid, tid) = threads[t];
            if (rng.Next(100) == 0)
            {
                var block = blocks[rng.Next(blocks.Count)];
                code[(pid, block[rng.Next(block.Length)])] = Bytes(); // self-modifying code
            }
            ref var p = ref at[t];
            ulong rip = blocks[p.Block][p.Index];
            written.Add(new(pid, tid, rip, code[(pid, rip)]));
            if (++p.Index == blocks[p.Block].Length)
                p = (rng.Next(3) == 0 ? rng.Next(blocks.Count) : (p.Block + 1) % blocks.Count, 0);
        }
        return written;
    }

    /// <summary>Writes <paramref name="written"/>, decodes every chunk (alternately with and without register changes,
    /// which keep their code maps apart) and compares each instruction with it; definitions are recomputed by the
    /// format's rule: numbered in order within a chunk, a new one when (pid, rip) is new to the chunk or its bytes changed.</summary>
    private static void Check(List<Written> written, int chunkSteps = 1 << 20)
    {
        var ms = new MemoryStream();
        var options = new TraceWriterOptions { ChunkSteps = chunkSteps, ChunkAge = TimeSpan.FromHours(1) };
        using (var w = new TraceWriter(ms, RoundTripTests.TestHeader, options, leaveOpen: true))
        {
            foreach (var x in written) w.Instruction(x.Pid, x.Tid, x.Rip, x.Code);
            w.Close(StopReason.Exited, "done");
        }
        var file = ms.ToArray();
        using var reader = new TraceReader(new MemoryStream(file));
        using var decoder = new ChunkDecoder { FormatVersion = reader.Header.FormatVersion };
        var c = new DecodedChunk();
        for (int pass = 0; pass < 2; pass++)
        {
            int next = 0;
            for (int k = 0; k < reader.Chunks.Count; k++)
            {
                var info = reader.Chunks[k];
                var payload = file.AsMemory((int)info.Offset + FrameFormat.PreambleLength, info.Length - FrameFormat.PreambleLength);
                decoder.Decode(payload, info.Offset, info.Length, c, registerChanges: pass == 0 || k % 2 == 0);
                var definitions = decoder.InstructionDefinitions(c.InstructionCount);
                var defined = new Dictionary<(int, ulong), (byte[] Code, int Definition)>();
                int count = 0;
                for (int i = 0; i < c.InstructionCount; i++, next++)
                {
                    var x = written[next];
                    if (!defined.TryGetValue((x.Pid, x.Rip), out var d) || !d.Code.AsSpan().SequenceEqual(x.Code))
                        defined[(x.Pid, x.Rip)] = d = (x.Code, count++);
                    string where = $"instruction {next} (chunk {k}, pass {pass})";
                    Assert.True(x.Rip == c.InstructionRip[i], $"{where}: rip 0x{c.InstructionRip[i]:x}, wrote 0x{x.Rip:x}");
                    Assert.True(x.Code.AsSpan().SequenceEqual(c.InstructionBytes(i)),
                        $"{where} at 0x{x.Rip:x}: bytes {Convert.ToHexString(c.InstructionBytes(i))}, wrote {Convert.ToHexString(x.Code)}");
                    int thread = c.InstructionThread[i];
                    Assert.True((x.Pid, x.Tid) == (c.ThreadPid[thread], c.ThreadTid[thread]), $"{where}: thread {c.ThreadPid[thread]}/{c.ThreadTid[thread]}, wrote {x.Pid}/{x.Tid}");
                    Assert.True(d.Definition == definitions[i], $"{where}: definition {definitions[i]}, expected {d.Definition}");
                }
            }
            Assert.Equal(written.Count, next);
        }
    }
}
