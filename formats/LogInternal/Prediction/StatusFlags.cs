using System.Numerics;
using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The six arithmetic status flags of rflags, computed as the Intel SDM defines them for each
/// operation (docs/trace-format.md, "Register prediction"). Flags the manual leaves undefined get the
/// value stated in the format document; where a CPU differs, the prediction misses and the residual
/// carries the truth, so these choices cost bytes, never correctness.
/// </summary>
internal static class StatusFlags
{
    public const ulong CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;
    public const ulong All = CF | PF | AF | ZF | SF | OF;
    public const ulong DF = 1 << 10;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SizeMask(int bytes) => ulong.MaxValue >> (64 - bytes * 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SignBit(int bytes) => 1UL << (bytes * 8 - 1);

    /// <summary>PF, ZF and SF of a result already cut to its size. Branch-free: these bits are data, and a
    /// branch per flag mispredicts about every other time on hash and compression code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Result(ulong result, int bytes)
    {
        ulong pf = (ulong)(~BitOperations.PopCount(result & 0xFF) & 1) << 2;
        ulong zf = ((~result & (result - 1)) >> 63) << 6;
        ulong sf = ((result >> (bytes * 8 - 1)) & 1) << 7;
        return pf | zf | sf;
    }

    /// <summary>Flags of a + b + carry = result (add, adc, inc without CF); a, b and result cut to their size.
    /// CF is the carry out of the top bit, OF the signed overflow, AF the carry out of bit 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Add(ulong a, ulong b, ulong carry, ulong result, int bytes)
    {
        int top = bytes * 8 - 1;
        ulong cf = (((a & b) | ((a | b) & ~result)) >> top) & 1;
        ulong of = (((a ^ result) & (b ^ result)) >> top) & 1;
        return Result(result, bytes) | cf | of << 11 | ((a ^ b ^ result) & AF);
    }

    /// <summary>Flags of a - b - borrow = result (sub, sbb, cmp, dec without CF, neg with a = 0); a, b and result
    /// cut to their size. CF is the borrow out of the top bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Sub(ulong a, ulong b, ulong borrow, ulong result, int bytes)
    {
        int top = bytes * 8 - 1;
        ulong cf = (((~a & b) | ((~a | b) & result)) >> top) & 1;
        ulong of = (((a ^ b) & (a ^ result)) >> top) & 1;
        return Result(result, bytes) | cf | of << 11 | ((a ^ b ^ result) & AF);
    }

    /// <summary>Per combination of CF, PF, ZF, SF and OF (<see cref="ConditionKey"/>): bit cc set when condition cc holds.</summary>
    private static readonly uint[] Conditions = BuildConditions();

    /// <summary>Whether condition <paramref name="cc"/> (Iced's numbering, 1-16; 0 = none never holds) holds under
    /// <paramref name="flags"/>: one table look-up instead of a branch per condition.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Holds(byte cc, ulong flags) => ((Conditions[ConditionKey(flags)] >> cc) & 1) != 0;

    /// <summary>CF, PF, ZF, SF, OF packed into bits 0-4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ConditionKey(ulong f) =>
        (int)((f & CF) | ((f >> 1) & 2) | ((f >> 4) & 4) | ((f >> 4) & 8) | ((f >> 7) & 16));

    private static uint[] BuildConditions()
    {
        var table = new uint[32];
        for (int key = 0; key < 32; key++)
        {
            ulong flags = ((key & 1) != 0 ? CF : 0) | ((key & 2) != 0 ? PF : 0) | ((key & 4) != 0 ? ZF : 0)
                | ((key & 8) != 0 ? SF : 0) | ((key & 16) != 0 ? OF : 0);
            for (int cc = 1; cc <= 16; cc++)
                if (Evaluate((byte)cc, flags)) table[key] |= 1u << cc;
        }
        return table;
    }

    /// <summary>Whether condition <paramref name="cc"/> (Iced's numbering) holds under <paramref name="flags"/>, by its
    /// definition: what the <see cref="Conditions"/> table is built from.</summary>
    private static bool Evaluate(byte cc, ulong flags)
    {
        bool cf = (flags & CF) != 0, zf = (flags & ZF) != 0, sf = (flags & SF) != 0, of = (flags & OF) != 0, pf = (flags & PF) != 0;
        return (ConditionCode)cc switch
        {
            ConditionCode.o => of,
            ConditionCode.no => !of,
            ConditionCode.b => cf,
            ConditionCode.ae => !cf,
            ConditionCode.e => zf,
            ConditionCode.ne => !zf,
            ConditionCode.be => cf || zf,
            ConditionCode.a => !cf && !zf,
            ConditionCode.s => sf,
            ConditionCode.ns => !sf,
            ConditionCode.p => pf,
            ConditionCode.np => !pf,
            ConditionCode.l => sf != of,
            ConditionCode.ge => sf == of,
            ConditionCode.le => zf || sf != of,
            ConditionCode.g => !zf && sf == of,
            _ => false,
        };
    }
}
