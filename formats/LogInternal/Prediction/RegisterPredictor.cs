using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ether.Replay.Formats.Model;
using static Ether.Replay.Formats.LogInternal.Prediction.StatusFlags;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// Predicts a thread's registers after an instruction from its registers before it: the part of
/// x86 semantics that needs no memory (docs/trace-format.md, "Register prediction"). The writer and
/// the reader run the same prediction and the trace stores only where the truth differs, so the
/// prediction must be a pure function of the instruction and the registers before it. It never
/// reads rip (the reader's file does not track it); a wrong guess costs bytes, never correctness.
/// </summary>
internal static partial class RegisterPredictor
{
    private const int Flags = (int)Register.Rflags;
    private const int Rax = (int)Register.Rax, Rcx = (int)Register.Rcx, Rdx = (int)Register.Rdx;
    private const int Rsi = (int)Register.Rsi, Rdi = (int)Register.Rdi, Rbp = (int)Register.Rbp, Rsp = (int)Register.Rsp;

    /// <summary>Applies <paramref name="op"/> to <paramref name="r"/> in place (no copy of the whole file: the
    /// reader's hot path) and returns the predicted mask: the slots whose value the prediction changed.
    /// <paramref name="stored"/> is the mask the trace stored against it (the writer passes 0): a slot the
    /// prediction changed but the stored mask names too did not change at all, so it keeps its old value.
    /// One indirect call to the op's form handler (<see cref="PredictedOp.Form"/>): specialised for the common
    /// operand shapes, <see cref="Generic"/> for the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe uint Predict(in PredictedOp op, ref RegisterFile r, uint stored)
    {
        var handler = (delegate*<in PredictedOp, ref RegisterFile, uint, uint>)Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(FormHandlers), (int)op.Form);
        return handler(op, ref r, stored);
    }

    /// <summary>Bit <paramref name="slot"/> when the values differ, without a branch: whether a slot changed is data
    /// (flags often keep their value), and a branch on it mispredicts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Differs(ulong a, ulong b, int slot)
    {
        ulong d = a ^ b;
        return (uint)((d | (0 - d)) >> 63) << slot;
    }

    /// <summary>Applies <paramref name="op"/> to <paramref name="r"/> (the registers before the instruction)
    /// through one small function per kind: an indirect call into a function that does only that kind's work,
    /// where one big switch paid the largest case's frame and register saves on every predicted step
    /// (measured: v2 decode 2-3 % faster on openssl and md5sum traces, the same on ls and gzip).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Apply(in PredictedOp op, ref RegisterFile r)
    {
        var handler = (delegate*<in PredictedOp, ref RegisterFile, void>)Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Handlers), (int)op.Kind);
        handler(op, ref r);
    }

    /// <summary>Per kind: its function (as nint: a function pointer type cannot be a generic argument).</summary>
    private static readonly nint[] Handlers = BuildHandlers();

    private static unsafe nint[] BuildHandlers()
    {
        var h = new delegate*<in PredictedOp, ref RegisterFile, void>[Enum.GetValues<PredictKind>().Length];
        for (int k = 0; k < h.Length; k++) h[k] = &ApplyOther;
        h[(int)PredictKind.None] = &Nothing;
        h[(int)PredictKind.Mov] = &Mov;
        h[(int)PredictKind.MovZx] = &MovZx;
        h[(int)PredictKind.MovSx] = &MovSx;
        h[(int)PredictKind.Lea] = &Lea;
        h[(int)PredictKind.Cmov] = &Cmov;
        h[(int)PredictKind.Setcc] = &Setcc;
        h[(int)PredictKind.Add] = &Add;
        h[(int)PredictKind.Adc] = &Adc;
        h[(int)PredictKind.Sub] = &Sub;
        h[(int)PredictKind.Sbb] = &Sbb;
        h[(int)PredictKind.Cmp] = &Cmp;
        h[(int)PredictKind.And] = &And;
        h[(int)PredictKind.Or] = &Or;
        h[(int)PredictKind.Xor] = &Xor;
        h[(int)PredictKind.Test] = &Test;
        h[(int)PredictKind.Inc] = &Inc;
        h[(int)PredictKind.Dec] = &Dec;
        h[(int)PredictKind.Not] = &Not;
        h[(int)PredictKind.Neg] = &Neg;
        h[(int)PredictKind.Stack] = &Stack;
        var handlers = new nint[h.Length];
        for (int k = 0; k < h.Length; k++) handlers[k] = (nint)h[k];
        return handlers;
    }

    private static void Nothing(in PredictedOp op, ref RegisterFile r) { }

    private static void Mov(in PredictedOp op, ref RegisterFile r) =>
        Write(ref r, op.Dst, op.DstHigh, op.Size, Source(op, ref r));

    private static void MovZx(in PredictedOp op, ref RegisterFile r) =>
        Write(ref r, op.Dst, op.DstHigh, op.Size, Read(ref r, op.Src, op.SrcHigh, op.SrcSize));

    private static void MovSx(in PredictedOp op, ref RegisterFile r) =>
        Write(ref r, op.Dst, op.DstHigh, op.Size, SignExtend(Read(ref r, op.Src, op.SrcHigh, op.SrcSize), op.SrcSize));

    private static void Lea(in PredictedOp op, ref RegisterFile r)
    {
        ulong address = op.Imm;
        if (op.Base != PredictedOp.NoRegister) address += r[op.Base];
        if (op.Index != PredictedOp.NoRegister) address += r[op.Index] * op.Scale;
        if (op.AddressSize == 4) address = (uint)address;
        Write(ref r, op.Dst, op.DstHigh, op.Size, address);
    }

    private static void Cmov(in PredictedOp op, ref RegisterFile r)
    {
        int size = op.Size;
        ulong v = StatusFlags.Holds(op.Condition, r[Flags]) ? Read(ref r, op.Src, op.SrcHigh, size) : Read(ref r, op.Dst, op.DstHigh, size);
        Write(ref r, op.Dst, op.DstHigh, size, v); // a 32-bit cmov zero-extends even when the condition fails
    }

    private static void Setcc(in PredictedOp op, ref RegisterFile r) =>
        Write(ref r, op.Dst, op.DstHigh, 1, StatusFlags.Holds(op.Condition, r[Flags]) ? 1UL : 0UL);

    private static void Add(in PredictedOp op, ref RegisterFile r) => Arithmetic(op, ref r, add: true, withCarry: false, write: true);
    private static void Adc(in PredictedOp op, ref RegisterFile r) => Arithmetic(op, ref r, add: true, withCarry: true, write: true);
    private static void Sub(in PredictedOp op, ref RegisterFile r) => Arithmetic(op, ref r, add: false, withCarry: false, write: true);
    private static void Sbb(in PredictedOp op, ref RegisterFile r) => Arithmetic(op, ref r, add: false, withCarry: true, write: true);
    private static void Cmp(in PredictedOp op, ref RegisterFile r) => Arithmetic(op, ref r, add: false, withCarry: false, write: false);

    /// <summary>add, adc, sub, sbb, cmp (each caller passes constants, so each gets its own branch-free copy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Arithmetic(in PredictedOp op, ref RegisterFile r, bool add, bool withCarry, bool write)
    {
        int size = op.Size;
        ulong a = Read(ref r, op.Dst, op.DstHigh, size), b = Source(op, ref r) & SizeMask(size);
        ulong carry = withCarry ? r[Flags] & CF : 0;
        ulong result = (add ? a + b + carry : a - b - carry) & SizeMask(size);
        SetFlags(ref r, add ? StatusFlags.Add(a, b, carry, result, size) : StatusFlags.Sub(a, b, carry, result, size), All);
        if (write) Write(ref r, op.Dst, op.DstHigh, size, result);
    }

    private static void And(in PredictedOp op, ref RegisterFile r) => Logic(op, ref r, PredictKind.And);
    private static void Or(in PredictedOp op, ref RegisterFile r) => Logic(op, ref r, PredictKind.Or);
    private static void Xor(in PredictedOp op, ref RegisterFile r) => Logic(op, ref r, PredictKind.Xor);
    private static void Test(in PredictedOp op, ref RegisterFile r) => Logic(op, ref r, PredictKind.Test);

    /// <summary>and, or, xor, test (<paramref name="kind"/> is a constant in each caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Logic(in PredictedOp op, ref RegisterFile r, PredictKind kind)
    {
        int size = op.Size;
        ulong a = Read(ref r, op.Dst, op.DstHigh, size), b = Source(op, ref r) & SizeMask(size);
        ulong result = kind switch { PredictKind.Or => a | b, PredictKind.Xor => a ^ b, _ => a & b };
        SetFlags(ref r, Result(result, size), All); // CF = OF = 0; AF (undefined) = 0
        if (kind != PredictKind.Test) Write(ref r, op.Dst, op.DstHigh, size, result);
    }

    private static void Inc(in PredictedOp op, ref RegisterFile r)
    {
        int size = op.Size;
        ulong a = Read(ref r, op.Dst, op.DstHigh, size);
        ulong result = (a + 1) & SizeMask(size);
        SetFlags(ref r, StatusFlags.Add(a, 1, 0, result, size), All & ~CF);
        Write(ref r, op.Dst, op.DstHigh, size, result);
    }

    private static void Dec(in PredictedOp op, ref RegisterFile r)
    {
        int size = op.Size;
        ulong a = Read(ref r, op.Dst, op.DstHigh, size);
        ulong result = (a - 1) & SizeMask(size);
        SetFlags(ref r, StatusFlags.Sub(a, 1, 0, result, size), All & ~CF);
        Write(ref r, op.Dst, op.DstHigh, size, result);
    }

    private static void Not(in PredictedOp op, ref RegisterFile r) =>
        Write(ref r, op.Dst, op.DstHigh, op.Size, ~Read(ref r, op.Dst, op.DstHigh, op.Size) & SizeMask(op.Size));

    private static void Neg(in PredictedOp op, ref RegisterFile r)
    {
        int size = op.Size;
        ulong a = Read(ref r, op.Dst, op.DstHigh, size);
        ulong result = (0 - a) & SizeMask(size);
        SetFlags(ref r, StatusFlags.Sub(0, a, 0, result, size), All);
        Write(ref r, op.Dst, op.DstHigh, size, result);
    }

    private static void Stack(in PredictedOp op, ref RegisterFile r) =>
        r[Rsp] = op.Size == 8 ? r[Rsp] + op.Imm : (uint)(r[Rsp] + op.Imm);

    /// <summary>The rarer kinds (xchg, bswap, shifts and rotates, multiplies, leave, string steps).</summary>
    private static void ApplyOther(in PredictedOp op, ref RegisterFile r)
    {
        int size = op.Size;
        ulong mask = SizeMask(size);
        switch (op.Kind)
        {
            case PredictKind.Xchg:
            {
                ulong a = Read(ref r, op.Dst, op.DstHigh, size), b = Read(ref r, op.Src, op.SrcHigh, size);
                Write(ref r, op.Dst, op.DstHigh, size, b);
                Write(ref r, op.Src, op.SrcHigh, size, a);
                return;
            }
            case PredictKind.Bswap:
            {
                ulong v = Read(ref r, op.Dst, false, size);
                Write(ref r, op.Dst, false, size, size == 8 ? BinaryReverse(v) : BinaryReverse((uint)v));
                return;
            }
            case PredictKind.Shl or PredictKind.Shr or PredictKind.Sar or PredictKind.Rol or PredictKind.Ror:
                Shift(op, ref r, size);
                return;
            case PredictKind.Imul:
            {
                ulong a = op.Condition == 1 ? Read(ref r, op.Src, op.SrcHigh, size) : Read(ref r, op.Dst, op.DstHigh, size);
                ulong b = op.Condition == 1 || op.Src == PredictedOp.Immediate ? op.Imm : Read(ref r, op.Src, op.SrcHigh, size);
                long sa = (long)SignExtend(a, size), sb = (long)SignExtend(b & mask, size);
                long high = Math.BigMul(sa, sb, out long low);
                ulong result = (ulong)low & mask;
                bool overflow = size == 8 ? high != (low >> 63) : (long)SignExtend(result, size) != low;
                SetFlags(ref r, overflow ? CF | OF : 0, CF | OF);
                Write(ref r, op.Dst, op.DstHigh, size, result);
                return;
            }
            case PredictKind.Mul1 or PredictKind.Imul1:
            {
                ulong a = Read(ref r, Rax, false, size), b = Read(ref r, op.Dst, op.DstHigh, size);
                ulong low, high;
                bool overflow;
                if (op.Kind == PredictKind.Mul1)
                {
                    high = Math.BigMul(a, b, out low);
                    if (size == 4) { high = low >> 32; low &= mask; }
                    overflow = high != 0;
                }
                else
                {
                    long h = Math.BigMul((long)SignExtend(a, size), (long)SignExtend(b, size), out long l);
                    if (size == 4) { h = l >> 32; l = (int)l; }
                    overflow = h != (l >> 63);
                    low = (ulong)l & mask;
                    high = (ulong)h & mask;
                }
                SetFlags(ref r, overflow ? CF | OF : 0, CF | OF);
                Write(ref r, Rax, false, size, low);
                Write(ref r, Rdx, false, size, high);
                return;
            }
            case PredictKind.Leave:
                r[Rsp] = size == 8 ? r[Rbp] + 8 : (uint)(r[Rbp] + 4);
                return;
            case PredictKind.String:
                StringStep(op, ref r);
                return;
        }
    }

    private static void Shift(in PredictedOp op, ref RegisterFile r, int size)
    {
        int count = (int)((op.Src == PredictedOp.Immediate ? op.Imm : r[Rcx]) & (size == 8 ? 0x3FUL : 0x1FUL));
        ulong a = Read(ref r, op.Dst, op.DstHigh, size);
        if (count == 0)
        {
            // A zero count leaves the flags alone, but the destination is still written (a 32-bit one zero-extends).
            Write(ref r, op.Dst, op.DstHigh, size, a);
            return;
        }
        ulong result = Shifted(op.Kind, a, count, size, out ulong flags, out ulong affected);
        SetFlags(ref r, flags, affected);
        Write(ref r, op.Dst, op.DstHigh, size, result);
    }

    /// <summary>Shift or rotate (<paramref name="kind"/>) of <paramref name="a"/> (cut to <paramref name="size"/>) by a
    /// non-zero <paramref name="count"/> (already masked as the CPU masks it): the result, and the flags with the ones it sets.
    /// Shared by the generic path and the specialised shift forms (constant kind and size there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Shifted(PredictKind kind, ulong a, int count, int size, out ulong flags, out ulong affected)
    {
        int bits = size * 8;
        ulong sign = SignBit(size);
        ulong result;
        affected = All;
        ulong mask = SizeMask(size);
        switch (kind)
        {
            case PredictKind.Shl:
            {
                result = count >= bits ? 0 : (a << count) & mask;
                bool cf = count <= bits && ((a >> (bits - count)) & 1) != 0;
                flags = Result(result, size) | AF | (cf ? CF : 0);
                if (((result & sign) != 0) != cf) flags |= OF;
                break;
            }
            case PredictKind.Shr:
            {
                result = count >= bits ? 0 : a >> count;
                bool cf = count <= bits && ((a >> (count - 1)) & 1) != 0;
                flags = Result(result, size) | AF | (cf ? CF : 0);
                if (count == 1 && (a & sign) != 0) flags |= OF;
                break;
            }
            case PredictKind.Sar:
            {
                long s = (long)SignExtend(a, size);
                result = (ulong)(s >> Math.Min(count, 63)) & mask;
                bool cf = ((s >> Math.Min(count - 1, 63)) & 1) != 0;
                flags = Result(result, size) | AF | (cf ? CF : 0);
                break;
            }
            case PredictKind.Rol:
            {
                int n = count % bits;
                result = n == 0 ? a : ((a << n) | (a >> (bits - n))) & mask;
                bool cf = (result & 1) != 0;
                flags = (cf ? CF : 0) | (((result & sign) != 0) != cf ? OF : 0);
                affected = CF | OF;
                break;
            }
            default: // Ror
            {
                int n = count % bits;
                result = n == 0 ? a : ((a >> n) | (a << (bits - n))) & mask;
                bool msb = (result & sign) != 0, next = (result & (sign >> 1)) != 0;
                flags = (msb ? CF : 0) | (msb != next ? OF : 0);
                affected = CF | OF;
                break;
            }
        }
        return result;
    }

    private static void StringStep(in PredictedOp op, ref RegisterFile r)
    {
        int addressSize = op.Dst;
        ulong addressMask = SizeMask(addressSize);
        bool repeated = (op.Condition & 1) != 0;
        if (repeated && (r[Rcx] & addressMask) == 0) return; // rep with a zero count does nothing
        ulong delta = (r[Flags] & DF) != 0 ? (ulong)-(long)op.Size : op.Size;
        if ((op.Condition & 2) == 0) Write(ref r, Rdi, false, addressSize, (r[Rdi] + delta) & addressMask);
        if ((op.Condition & 4) != 0) Write(ref r, Rsi, false, addressSize, (r[Rsi] + delta) & addressMask);
        if (repeated) Write(ref r, Rcx, false, addressSize, (r[Rcx] - 1) & addressMask);
        // lods (Condition bit 2) reads through rsi only; the accumulator it loads is not predicted.
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Source(in PredictedOp op, ref RegisterFile r) =>
        op.Src == PredictedOp.Immediate ? op.Imm : Read(ref r, op.Src, op.SrcHigh, op.SrcSize == 0 ? op.Size : op.SrcSize);

    /// <summary>The operand's bits: the low <paramref name="size"/> bytes, or bits 8-15 for ah, ch, dh, bh (branch-free: the hot path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read(ref RegisterFile r, int slot, bool high, int size) => (r[slot] >> (high ? 8 : 0)) & SizeMask(size);

    /// <summary>x86-64 register writes: 8 and 16-bit writes keep the other bits, 32-bit writes zero the upper half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(ref RegisterFile r, int slot, bool high, int size, ulong value)
    {
        ulong mask = SizeMask(size);
        int shift = high ? 8 : 0;
        ulong keep = size >= 4 ? 0 : ~(mask << shift);
        r[slot] = (r[slot] & keep) | ((value & mask) << shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetFlags(ref RegisterFile r, ulong flags, ulong affected) =>
        r[Flags] = (r[Flags] & ~affected) | (flags & affected);

    private static ulong SignExtend(ulong v, int size) => size switch
    {
        1 => (ulong)(long)(sbyte)v,
        2 => (ulong)(long)(short)v,
        4 => (ulong)(long)(int)v,
        _ => v,
    };

    private static ulong BinaryReverse(ulong v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
    private static ulong BinaryReverse(uint v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
}
