using Ether.Replay.Formats.LogInternal.Prediction;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// The reader's op look-up shortcuts must answer exactly what the plain ways answer: the padded key
/// (word reads and masks) the same key as <see cref="OpMemo.MakeKey"/>, the writer's memo every op it holds,
/// and the general-register table what Iced's register queries say.
/// </summary>
public class OpMemoTests
{
    [Fact]
    public void A_padded_key_is_the_plain_key_for_every_length_whatever_follows_the_instruction()
    {
        var random = new Random(5);
        for (int round = 0; round < 200; round++)
            for (int length = 1; length <= 15; length++)
            {
                // The instruction at a random offset, followed by random bytes the padded reads see and must ignore.
                var buffer = new byte[40 + OpMemo.PaddedKeyReach];
                random.NextBytes(buffer);
                int offset = random.Next(0, 40 - length);
                OpMemo.MakeKey(buffer.AsSpan(offset, length), 64, out ulong low, out ulong high, out uint tag);
                OpMemo.MakePaddedKey(buffer, offset, length, 64, out ulong paddedLow, out ulong paddedHigh, out uint paddedTag);
                Assert.Equal((low, high, tag), (paddedLow, paddedHigh, paddedTag));
            }
    }

    [Fact]
    public void The_memo_finds_every_key_it_holds_and_no_other()
    {
        var memo = new OpMemo();
        var random = new Random(6);
        var keys = new List<(ulong Rip, byte[] Code)>();
        Assert.False(memo.TryGet(0x401000, [0x90], 64, out _)); // nothing added yet
        // 40 K distinct instructions: the memo grows from 4 K slots to 64 K on the way.
        for (int i = 0; i < 40_000; i++)
        {
            var code = new byte[1 + random.Next(15)];
            random.NextBytes(code);
            ulong rip = 0x400000 + (ulong)i * 16;
            memo.Add(rip, code, 64, new PredictedOp { Kind = PredictKind.Mov, Dst = (byte)(i % 16) });
            keys.Add((rip, code));
        }
        int i2 = 0;
        foreach (var (rip, code) in keys)
        {
            Assert.True(memo.TryGet(rip, code, 64, out var op));
            Assert.Equal((byte)(i2++ % 16), op.Dst);
            Assert.False(memo.TryGet(rip, code, 32, out _)); // the same bytes in 32-bit code are another key
            Assert.False(memo.TryGet(rip + 1, code, 64, out _));
        }
    }

    [Fact]
    public void After_the_memo_starts_over_it_still_holds_every_key_added_since()
    {
        var memo = new OpMemo();
        byte[] code = [0x48, 0x89, 0xc3]; // mov rbx, rax; the rip tells keys apart
        const int total = 110_000; // past the 96 K the memo holds before it starts over
        for (int i = 0; i < total; i++) memo.Add((ulong)i * 8, code, 64, new PredictedOp { Kind = PredictKind.Mov });
        for (int i = total - 1_000; i < total; i++) Assert.True(memo.TryGet((ulong)i * 8, code, 64, out _));
        Assert.False(memo.TryGet(0, code, 64, out _)); // added before it started over
    }

    [Fact]
    public void Ops_looked_up_through_one_op_table_at_many_rips_are_the_ops_a_fresh_decode_gives()
    {
        // Every form the predictor computes and its near misses, plus rip-relative lea (its op keeps the absolute
        // address, so the same bytes at another rip have another op), each at four rips, in 64- and 32-bit code,
        // through one writer's op table: one new definition per look-up, so each goes through the memo and the decoders.
        byte[][] forms = [.. PredictableCode.All, [0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00], [0x8d, 0x0d, 0x00, 0x01, 0x00, 0x00]];
        var ops = new PredictedOps();
        int definition = 0;
        foreach (int bitness in new[] { 64, 32 })
            foreach (ulong rip in new ulong[] { 0x401000, 0x7f0000123456, 0x1000, 0x401000 + 0x20, 0x401000 })
                foreach (var code in forms)
                    Assert.Equal(PredictedOp.Decode(code, rip, bitness), ops.Get(definition++, code, rip, bitness));
    }

    [Fact]
    public void The_general_register_table_answers_what_Iceds_register_queries_answer()
    {
        foreach (var r in Enum.GetValues<Iced.Intel.Register>())
        {
            bool expected = PredictedOp.ComputeGeneralSlot(r, out byte slot, out byte size, out bool high);
            Assert.Equal(expected, PredictedOp.GeneralSlot(r, out byte tableSlot, out byte tableSize, out bool tableHigh));
            if (expected) Assert.Equal((slot, size, high), (tableSlot, tableSize, tableHigh));
        }
    }
}
