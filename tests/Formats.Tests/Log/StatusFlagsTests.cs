using Ether.Replay.Formats.LogInternal.Prediction;
using Iced.Intel;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// The predictor's branch-free status flags against the flags' definitions written the plain way
/// (wide sums, signed ranges, nibble carries): exhaustively for bytes, on random and boundary values
/// for 16, 32 and 64 bits. Every condition code against its definition for every flag combination.
/// </summary>
public class StatusFlagsTests
{
    private const ulong CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

    [Fact]
    public void Add_and_sub_flags_follow_their_definitions_for_every_byte_pair()
    {
        for (ulong a = 0; a < 256; a++)
            for (ulong b = 0; b < 256; b++)
                for (ulong carry = 0; carry < 2; carry++)
                    Check(a, b, carry, 1);
    }

    [Fact]
    public void Add_and_sub_flags_follow_their_definitions_for_wider_operands()
    {
        var random = new Random(3);
        ulong[] edges = [0, 1, 2, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
            0x7fffffffffffffff, 0x8000000000000000, ulong.MaxValue];
        foreach (int bytes in new[] { 2, 4, 8 })
        {
            ulong mask = ulong.MaxValue >> (64 - bytes * 8);
            for (int i = 0; i < 20_000; i++)
            {
                ulong a = (i % 3 == 0 ? edges[random.Next(edges.Length)] : (ulong)random.NextInt64() << 1 ^ (ulong)random.Next()) & mask;
                ulong b = (i % 5 == 0 ? edges[random.Next(edges.Length)] : (ulong)random.NextInt64() << 1 ^ (ulong)random.Next()) & mask;
                Check(a, b, (ulong)(i & 1), bytes);
            }
        }
    }

    [Fact]
    public void Every_condition_holds_exactly_when_its_definition_says()
    {
        for (int bits = 0; bits < 32; bits++)
        {
            bool cf = (bits & 1) != 0, pf = (bits & 2) != 0, zf = (bits & 4) != 0, sf = (bits & 8) != 0, of = (bits & 16) != 0;
            ulong flags = 0x202 | (cf ? CF : 0) | (pf ? PF : 0) | (zf ? ZF : 0) | (sf ? SF : 0) | (of ? OF : 0) | AF;
            var expected = new Dictionary<ConditionCode, bool>
            {
                [ConditionCode.o] = of, [ConditionCode.no] = !of, [ConditionCode.b] = cf, [ConditionCode.ae] = !cf,
                [ConditionCode.e] = zf, [ConditionCode.ne] = !zf, [ConditionCode.be] = cf | zf, [ConditionCode.a] = !cf & !zf,
                [ConditionCode.s] = sf, [ConditionCode.ns] = !sf, [ConditionCode.p] = pf, [ConditionCode.np] = !pf,
                [ConditionCode.l] = sf != of, [ConditionCode.ge] = sf == of, [ConditionCode.le] = zf | sf != of, [ConditionCode.g] = !zf & sf == of,
            };
            foreach (var (cc, holds) in expected) Assert.True(StatusFlags.Holds((byte)cc, flags) == holds, $"{cc} with cf={cf} pf={pf} zf={zf} sf={sf} of={of}");
            Assert.False(StatusFlags.Holds((byte)ConditionCode.None, flags));
        }
    }

    private static void Check(ulong a, ulong b, ulong carry, int bytes)
    {
        int bits = bytes * 8;
        ulong mask = ulong.MaxValue >> (64 - bits);
        long sa = Signed(a, bits), sb = Signed(b, bits);

        ulong sum = (a + b + carry) & mask;
        UInt128 wide = (UInt128)a + b + carry;
        Int128 signedSum = (Int128)sa + sb + (long)carry;
        ulong expected = Common(sum, bits)
            | (wide > mask ? CF : 0)
            | (signedSum > MaxSigned(bits) || signedSum < MinSigned(bits) ? OF : 0)
            | ((a & 0xf) + (b & 0xf) + carry > 0xf ? AF : 0);
        Assert.True(expected == StatusFlags.Add(a, b, carry, sum, bytes), $"add {a:x} + {b:x} + {carry} ({bytes} bytes)");

        ulong difference = (a - b - carry) & mask;
        Int128 signedDifference = (Int128)sa - sb - (long)carry;
        expected = Common(difference, bits)
            | ((UInt128)a < (UInt128)b + carry ? CF : 0)
            | (signedDifference > MaxSigned(bits) || signedDifference < MinSigned(bits) ? OF : 0)
            | ((a & 0xf) < (b & 0xf) + carry ? AF : 0);
        Assert.True(expected == StatusFlags.Sub(a, b, carry, difference, bytes), $"sub {a:x} - {b:x} - {carry} ({bytes} bytes)");
    }

    /// <summary>ZF, SF and PF (even number of set bits in the low byte).</summary>
    private static ulong Common(ulong result, int bits) =>
        (result == 0 ? ZF : 0) | ((result >> (bits - 1) & 1) != 0 ? SF : 0) | (System.Numerics.BitOperations.PopCount(result & 0xff) % 2 == 0 ? PF : 0);

    private static long Signed(ulong v, int bits) => bits == 64 ? (long)v : (long)(v << (64 - bits)) >> (64 - bits);
    private static Int128 MaxSigned(int bits) => ((Int128)1 << (bits - 1)) - 1;
    private static Int128 MinSigned(int bits) => -((Int128)1 << (bits - 1));
}
