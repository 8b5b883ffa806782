using Ether.Replay.Formats.LogInternal.Prediction;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>What register prediction buys: a hash-like loop whose registers take fresh values every
/// step costs almost nothing when the instructions compute them, and still round-trips when they don't.</summary>
public class PredictionSizeTests
{
    // A round of an md5-like mix: add, xor, rol, lea, mov, and a load (mov edi, [rsp-0x28]) that nothing predicts.
    private static readonly byte[][] Loop =
    [
        [0x01, 0xd8],                   // add eax, ebx
        [0x31, 0xca],                   // xor edx, ecx
        [0xc1, 0xc0, 0x07],             // rol eax, 7
        [0x8d, 0x8c, 0x11, 0x78, 0xa4, 0x6a, 0xd7], // lea ecx, [rcx+rdx-0x28955b88]
        [0x89, 0xc6],                   // mov esi, eax
        [0x21, 0xf2],                   // and edx, esi
        [0x8b, 0x7c, 0x24, 0xd8],       // mov edi, [rsp-0x28]
        [0x01, 0xfb],                   // add ebx, edi
    ];

    private static (long Bytes, DecodedChunk[] Chunks, List<RegisterFile> Written) Write(int steps, Func<int, RegisterFile, RegisterFile> after)
    {
        var ms = new MemoryStream();
        var written = new List<RegisterFile>();
        using (var w = new TraceWriter(ms, RoundTripTests.TestHeader, new TraceWriterOptions { ChunkAge = TimeSpan.FromHours(1) }, leaveOpen: true))
        {
            var rng = new Random(5);
            var regs = new RegisterFile { [Register.Rsp] = 0x7ffc_0000_1000, [Register.Rflags] = 0x246, [Register.Cs] = 0x33 };
            for (int i = 0; i < 8; i++) regs[i] = (uint)rng.Next();
            w.Registers(1, 1, regs);
            ulong rip = 0x401000;
            for (int s = 0; s < steps; s++)
            {
                var code = Loop[s % Loop.Length];
                w.Instruction(1, 1, rip, code);
                regs = after(s, regs);
                w.Registers(1, 1, regs);
                written.Add(regs);
                rip = s % Loop.Length == Loop.Length - 1 ? 0x401000 : rip + (ulong)code.Length;
            }
        }
        using var reader = new TraceReader(new MemoryStream(ms.ToArray()));
        var chunks = Enumerable.Range(0, reader.Chunks.Count).Select(i => reader.ReadChunk(i)).ToArray();
        return (ms.Length, chunks, written);
    }

    /// <summary>The registers as the CPU would leave them: the load gets a fresh random word.</summary>
    private static Func<int, RegisterFile, RegisterFile> Cpu(int seed)
    {
        var ops = new PredictedOps();
        var rng = new Random(seed);
        return (s, regs) =>
        {
            var code = Loop[s % Loop.Length];
            if (code[0] == 0x8b) { regs[Register.Rdi] = (uint)rng.Next(); return regs; }
            ops.Clear();
            RegisterPredictor.Apply(ops.Get(0, code, 0, 64), ref regs);
            return regs;
        };
    }

    [Fact]
    public void Computed_registers_cost_little_and_loads_cost_their_value()
    {
        const int Steps = 80_000;
        var (bytes, chunks, written) = Write(Steps, Cpu(9));
        long predicted = chunks.Sum(c => c.PredictedRegisterChanges), exact = chunks.Sum(c => c.ExactlyPredictedRegisterChanges);
        Assert.Equal(Steps / 8 * 7, exact);   // every instruction but the load
        Assert.Equal(Steps / 8 * 7, predicted); // the load is not predicted at all
        // One load in eight brings a fresh 32-bit word (a 5-byte varint): ~0.65 byte per step, the rest near
        // zero. Stored as plain deltas (format version 1) the same steps take ~8 bytes each.
        Assert.True(bytes < Steps * 1.0, $"{bytes} bytes for {Steps} steps");
        AssertRegisters(chunks, written);
    }

    [Fact]
    public void Wrong_predictions_still_round_trip()
    {
        // A CPU that disagrees now and then: a flipped flag, a register the instruction did not touch, a value off by one.
        var cpu = Cpu(3);
        var rng = new Random(4);
        var (_, chunks, written) = Write(40_000, (s, regs) =>
        {
            regs = cpu(s, regs);
            switch (rng.Next(6))
            {
                case 0: regs[Register.Rflags] ^= 1UL << rng.Next(12); break;
                case 1: regs[rng.Next(16)] += 1; break;
                case 2: regs[Register.R15] = (ulong)rng.NextInt64(); break;
            }
            return regs;
        });
        long predicted = chunks.Sum(c => c.PredictedRegisterChanges), exact = chunks.Sum(c => c.ExactlyPredictedRegisterChanges);
        Assert.InRange(exact, predicted / 3, predicted * 2 / 3);
        AssertRegisters(chunks, written);
    }

    private static void AssertRegisters(DecodedChunk[] chunks, List<RegisterFile> written)
    {
        int k = 0;
        var live = new RegisterFile();
        foreach (var c in chunks)
            foreach (var e in ChunkEvents.InLogOrder(c))
            {
                if (e is KeyframeEvent key) live = key.Registers;
                if (e is not RegisterChangeEvent r) continue;
                live = r.Registers;
                var want = written[(int)r.Step - 1];
                Assert.True((live.DiffMask(want) & ~Registers.ChangeMaskExcludes) == 0, $"step {r.Step}: {live} != {want}");
                k++;
            }
        Assert.True(k > written.Count / 2);
    }
}
