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

    /// <summary>PF, ZF and SF of a result already cut to its size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Result(ulong result, int bytes)
    {
        ulong f = 0;
        if ((BitOperations.PopCount(result & 0xFF) & 1) == 0) f |= PF;
        if (result == 0) f |= ZF;
        if ((result & SignBit(bytes)) != 0) f |= SF;
        return f;
    }

    /// <summary>Flags of a + b + carry = result (add, adc, inc without CF).</summary>
    public static ulong Add(ulong a, ulong b, ulong carry, ulong result, int bytes)
    {
        ulong f = Result(result, bytes);
        if (carry == 0 ? result < a : result <= a) f |= CF;
        if (((a ^ result) & (b ^ result) & SignBit(bytes)) != 0) f |= OF;
        if (((a ^ b ^ result) & 0x10) != 0) f |= AF;
        return f;
    }

    /// <summary>Flags of a - b - borrow = result (sub, sbb, cmp, dec without CF, neg with a = 0).</summary>
    public static ulong Sub(ulong a, ulong b, ulong borrow, ulong result, int bytes)
    {
        ulong f = Result(result, bytes);
        if (borrow == 0 ? a < b : a <= b) f |= CF;
        if (((a ^ b) & (a ^ result) & SignBit(bytes)) != 0) f |= OF;
        if (((a ^ b ^ result) & 0x10) != 0) f |= AF;
        return f;
    }

    /// <summary>Whether condition <paramref name="cc"/> (Iced's numbering) holds under <paramref name="flags"/>.</summary>
    public static bool Holds(byte cc, ulong flags)
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
