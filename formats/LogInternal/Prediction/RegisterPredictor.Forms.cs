using System.Runtime.CompilerServices;
using Ether.Replay.Formats.Model;
using static Ether.Replay.Formats.LogInternal.Prediction.StatusFlags;
using unsafe FormHandler = delegate*<in Ether.Replay.Formats.LogInternal.Prediction.PredictedOp, ref Ether.Replay.Formats.Model.RegisterFile, uint, uint>;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>The operand shapes the reader meets most on compute-heavy code, each with a handler of its own.</summary>
internal enum PredictForm : byte
{
    /// <summary>Any op: <see cref="RegisterPredictor.Generic"/> (save the touched slots, apply by kind, compare).</summary>
    Generic,
    Mov32R, Mov32I, Mov64R, Mov64I,
    Add32R, Add32I, Add64R, Add64I,
    Sub32R, Sub32I, Sub64R, Sub64I,
    Cmp32R, Cmp32I, Cmp64R, Cmp64I,
    And32R, And32I, And64R, And64I,
    Or32R, Or32I, Or64R, Or64I,
    Xor32R, Xor32I, Xor64R, Xor64I,
    Test32R, Test32I, Test64R, Test64I,
    Shl32R, Shl32I, Shl64R, Shl64I,
    Shr32R, Shr32I, Shr64R, Shr64I,
    Sar32R, Sar32I, Sar64R, Sar64I,
    Rol32R, Rol32I, Rol64R, Rol64I,
    Ror32R, Ror32I, Ror64R, Ror64I,
    Inc32, Inc64, Dec32, Dec64,
    Lea32B, Lea32BI, Lea64B, Lea64BI,
    MovSx64From32, MovZx32From8, MovZx32From16,
    Cmov32, Cmov64, Setcc,
    Stack64,
    /// <summary>stos, movs, lods with 64-bit addresses, with or without rep (one iteration per step).</summary>
    String64,
    /// <summary>cmp and test of byte registers (not ah-bh): a compiler's test of a bool or a char (ls -la: 40 K of its 1 M
    /// predicted changes took the generic path here).</summary>
    Cmp8R, Cmp8I, Test8R, Test8I,
    /// <summary>lea of a fixed address into a 64-bit register: rip-relative (the address is resolved when the op is built) or a
    /// bare displacement.</summary>
    LeaAbsolute64,
}

/// <summary>
/// Specialised handlers: one per <see cref="PredictForm"/>, chosen once when the op is built
/// (<see cref="FormOf"/>, stored in <see cref="PredictedOp.Form"/>). Operand width and source form are type
/// parameters (structs), so the JIT compiles each handler with constant masks and shifts and no high-byte
/// branches; each handler knows the slots it writes, so it computes the changed mask from the values it has in
/// registers and keeps a slot the stored mask names at its old value without saving and re-reading the file.
/// They give exactly what <see cref="Generic"/> gives for their form (RegisterPredictorFormTests): a different
/// bit would be a format change. Handlers are compiled optimized at their first call (AggressiveOptimization):
/// called through a function pointer, ~70 of them, they otherwise ran unoptimized for the first passes of a
/// process (tier-up waits until no new method is compiled for 100 ms), which is most of a short `ether` command
/// (measured: zstd and gzip v2/v1 0.03-0.08 better over a reader's first passes, nothing lost later).
/// </summary>
internal static partial class RegisterPredictor
{
    /// <summary>The specialised form of <paramref name="op"/>, or <see cref="PredictForm.Generic"/>.</summary>
    public static PredictForm FormOf(in PredictedOp op)
    {
        if (op.DstHigh || op.SrcHigh) return PredictForm.Generic;
        if (op.Kind == PredictKind.String) return op.Dst == 8 ? PredictForm.String64 : PredictForm.Generic; // Dst: the address size
        bool wide = op.Size == 8, imm = op.Src == PredictedOp.Immediate;
        // Other widths are generic but for setcc and the two-operand forms that have them (byte cmp and test).
        var twoOperand = TwoOperandForm(op.Kind, op.Size, imm);
        if (op.Size is not (4 or 8) && op.Kind != PredictKind.Setcc && twoOperand == PredictForm.Generic) return PredictForm.Generic;
        bool shift = op.Kind is PredictKind.Shl or PredictKind.Shr or PredictKind.Sar or PredictKind.Rol or PredictKind.Ror; // by imm or cl
        if (!imm && op.SrcSize != 0 && op.SrcSize != op.Size && !shift && op.Kind is not (PredictKind.MovSx or PredictKind.MovZx))
            return PredictForm.Generic;
        if (twoOperand != PredictForm.Generic) return twoOperand;
        return op.Kind switch
        {
            PredictKind.Inc => wide ? PredictForm.Inc64 : PredictForm.Inc32,
            PredictKind.Dec => wide ? PredictForm.Dec64 : PredictForm.Dec32,
            PredictKind.Lea when op.Base != PredictedOp.NoRegister && op.AddressSize == 8 =>
                op.Index == PredictedOp.NoRegister ? (wide ? PredictForm.Lea64B : PredictForm.Lea32B) : (wide ? PredictForm.Lea64BI : PredictForm.Lea32BI),
            PredictKind.Lea when op.Base == PredictedOp.NoRegister && op.Index == PredictedOp.NoRegister && op.AddressSize == 8 && wide =>
                PredictForm.LeaAbsolute64,
            PredictKind.MovSx when wide && op.SrcSize == 4 => PredictForm.MovSx64From32,
            PredictKind.MovZx when !wide && op.SrcSize == 1 => PredictForm.MovZx32From8,
            PredictKind.MovZx when !wide && op.SrcSize == 2 => PredictForm.MovZx32From16,
            PredictKind.Cmov when !imm => wide ? PredictForm.Cmov64 : PredictForm.Cmov32,
            PredictKind.Setcc when op.Size == 1 => PredictForm.Setcc,
            PredictKind.Stack when wide => PredictForm.Stack64,
            _ => PredictForm.Generic,
        };
    }

    /// <summary>The form of a two-operand kind (mov, add, sub, cmp, and, or, xor, test) or a shift or rotate (by cl or
    /// an immediate) at <paramref name="size"/> bytes with a register or immediate source: 32R, 32I, 64R, 64I in that
    /// order; Generic for other kinds and sizes. A table: FastOpDecoder asks it for every op it builds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static PredictForm TwoOperandForm(PredictKind kind, int size, bool imm)
    {
        if (size == 1)
        {
            return kind switch
            {
                PredictKind.Cmp => imm ? PredictForm.Cmp8I : PredictForm.Cmp8R,
                PredictKind.Test => imm ? PredictForm.Test8I : PredictForm.Test8R,
                _ => PredictForm.Generic,
            };
        }
        var first = FirstTwoOperandForms[(int)kind];
        if (first == PredictForm.Generic || size is not (4 or 8)) return PredictForm.Generic;
        return (PredictForm)((int)first + (size == 8 ? 2 : 0) + (imm ? 1 : 0));
    }

    /// <summary>Per kind: its 32R form, or Generic when it has no two-operand forms.</summary>
    private static readonly PredictForm[] FirstTwoOperandForms = Enumerable.Range(0, Enum.GetValues<PredictKind>().Length)
        .Select(k => (PredictKind)k switch
        {
            PredictKind.Shl => PredictForm.Shl32R,
            PredictKind.Shr => PredictForm.Shr32R,
            PredictKind.Sar => PredictForm.Sar32R,
            PredictKind.Rol => PredictForm.Rol32R,
            PredictKind.Ror => PredictForm.Ror32R,
            PredictKind.Mov => PredictForm.Mov32R,
            PredictKind.Add => PredictForm.Add32R,
            PredictKind.Sub => PredictForm.Sub32R,
            PredictKind.Cmp => PredictForm.Cmp32R,
            PredictKind.And => PredictForm.And32R,
            PredictKind.Or => PredictForm.Or32R,
            PredictKind.Xor => PredictForm.Xor32R,
            PredictKind.Test => PredictForm.Test32R,
            _ => PredictForm.Generic,
        }).ToArray();

    /// <summary>Per form: its handler (as nint: a function pointer type cannot be a generic argument).</summary>
    private static readonly nint[] FormHandlers = BuildFormHandlers();

    private static unsafe nint[] BuildFormHandlers()
    {
        var h = new FormHandler[Enum.GetValues<PredictForm>().Length];
        h[(int)PredictForm.Generic] = &Generic;
        InOrder(h, PredictForm.Mov32R, &MovForm<W32, RegisterSource>, &MovForm<W32, ImmediateSource>, &MovForm<W64, RegisterSource>, &MovForm<W64, ImmediateSource>);
        // Arithmetic (inc and dec are add and sub by 1 that keep CF), logic, shifts and rotates.
        TwoOperand<AddOp>(h, PredictForm.Add32R);
        TwoOperand<SubOp>(h, PredictForm.Sub32R);
        TwoOperand<CmpOp>(h, PredictForm.Cmp32R);
        InOrder(h, PredictForm.Inc32, &StepForm<W32, AddOp>, &StepForm<W64, AddOp>, &StepForm<W32, SubOp>, &StepForm<W64, SubOp>);
        TwoOperand<AndOp>(h, PredictForm.And32R);
        TwoOperand<OrOp>(h, PredictForm.Or32R);
        TwoOperand<XorOp>(h, PredictForm.Xor32R);
        TwoOperand<TestOp>(h, PredictForm.Test32R);
        h[(int)PredictForm.Setcc] = &SetccForm;
        Shift<ShlKind>(h, PredictForm.Shl32R);
        Shift<ShrKind>(h, PredictForm.Shr32R);
        Shift<SarKind>(h, PredictForm.Sar32R);
        Shift<RolKind>(h, PredictForm.Rol32R);
        Shift<RorKind>(h, PredictForm.Ror32R);
        InOrder(h, PredictForm.Lea32B, &LeaForm<W32, NoIndex>, &LeaForm<W32, WithIndex>, &LeaForm<W64, NoIndex>, &LeaForm<W64, WithIndex>);
        h[(int)PredictForm.MovSx64From32] = &MovSx64From32;
        h[(int)PredictForm.MovZx32From8] = &MovZx32<W8>;
        h[(int)PredictForm.MovZx32From16] = &MovZx32<W16>;
        h[(int)PredictForm.Cmov32] = &CmovForm<W32>;
        h[(int)PredictForm.Cmov64] = &CmovForm<W64>;
        h[(int)PredictForm.Stack64] = &Stack64;
        h[(int)PredictForm.String64] = &String64;
        InOrder(h, PredictForm.Cmp8R, &TwoOperandForm<W8, RegisterSource, CmpOp>, &TwoOperandForm<W8, ImmediateSource, CmpOp>,
            &TwoOperandForm<W8, RegisterSource, TestOp>, &TwoOperandForm<W8, ImmediateSource, TestOp>);
        h[(int)PredictForm.LeaAbsolute64] = &LeaAbsolute64;
        var handlers = new nint[h.Length];
        for (int k = 0; k < h.Length; k++)
        {
            if (h[k] == null) throw new InvalidOperationException($"form {(PredictForm)k} has no handler");
            handlers[k] = (nint)h[k];
        }
        return handlers;
    }

    private static unsafe void TwoOperand<TOp>(FormHandler[] h, PredictForm first) where TOp : struct, ITwoOperand =>
        InOrder(h, first, &TwoOperandForm<W32, RegisterSource, TOp>, &TwoOperandForm<W32, ImmediateSource, TOp>,
            &TwoOperandForm<W64, RegisterSource, TOp>, &TwoOperandForm<W64, ImmediateSource, TOp>);

    private static unsafe void Shift<TKind>(FormHandler[] h, PredictForm first) where TKind : struct, IShiftKind =>
        InOrder(h, first, &ShiftForm<W32, RegisterSource, TKind>, &ShiftForm<W32, ImmediateSource, TKind>,
            &ShiftForm<W64, RegisterSource, TKind>, &ShiftForm<W64, ImmediateSource, TKind>);

    /// <summary>Four consecutive forms (32R, 32I, 64R, 64I; or as the enum lists them).</summary>
    private static unsafe void InOrder(FormHandler[] h, PredictForm first, FormHandler a, FormHandler b, FormHandler c, FormHandler d)
    {
        h[(int)first] = a;
        h[(int)first + 1] = b;
        h[(int)first + 2] = c;
        h[(int)first + 3] = d;
    }

    /// <summary>Any op, any form: the touched slots saved, the kind applied, the slots compared (and the wrongly
    /// predicted ones restored). What every specialised handler must equal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Generic(in PredictedOp op, ref RegisterFile r, uint stored)
    {
        int s0 = op.Slot0, s1 = op.Slot1, s2 = op.Slot2;
        ulong o0 = r[s0], o1 = r[s1], o2 = r[s2];
        Apply(op, ref r);
        uint changed = Differs(r[s0], o0, s0) | Differs(r[s1], o1, s1) | Differs(r[s2], o2, s2);
        uint wrong = changed & stored;
        if (wrong != 0)
        {
            // Rare: the truth kept a slot the prediction changed.
            if ((wrong & (1u << s2)) != 0) r[s2] = o2;
            if ((wrong & (1u << s1)) != 0) r[s1] = o1;
            if ((wrong & (1u << s0)) != 0) r[s0] = o0;
        }
        return changed;
    }

    /// <summary>Writes <paramref name="value"/> to <paramref name="slot"/>, or keeps <paramref name="old"/> when the stored
    /// mask names the slot (the truth kept what the prediction changed: rare, so without a branch), and returns the
    /// slot's bit when the prediction changed it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Put(ref RegisterFile r, int slot, ulong old, ulong value, uint stored)
    {
        ulong keep = 0 - (ulong)((stored >> slot) & 1);
        r[slot] = (old & keep) | (value & ~keep);
        return Differs(value, old, slot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint MovForm<TW, TS>(in PredictedOp op, ref RegisterFile r, uint stored)
        where TW : struct, IWidth where TS : struct, ISource
    {
        int dst = op.Dst;
        ulong value = TS.Value(op, ref r) & TW.Mask; // a 32-bit write zero-extends
        return Put(ref r, dst, r[dst], value, stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint TwoOperandForm<TW, TS, TOp>(in PredictedOp op, ref RegisterFile r, uint stored)
        where TW : struct, IWidth where TS : struct, ISource where TOp : struct, ITwoOperand
    {
        int dst = op.Dst;
        ulong old = r[dst], oldFlags = r[Flags];
        ulong a = old & TW.Mask, b = TS.Value(op, ref r) & TW.Mask;
        ulong result = TOp.Result(a, b) & TW.Mask;
        ulong flags = (oldFlags & ~All) | FlagsOf<TOp>(a, b, result, TW.Bytes);
        uint changed = Put(ref r, Flags, oldFlags, flags, stored);
        return TOp.Writes ? changed | Put(ref r, dst, old, result, stored) : changed;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint StepForm<TW, TOp>(in PredictedOp op, ref RegisterFile r, uint stored)
        where TW : struct, IWidth where TOp : struct, ITwoOperand
    {
        int dst = op.Dst;
        ulong old = r[dst], oldFlags = r[Flags];
        ulong a = old & TW.Mask;
        ulong result = TOp.Result(a, 1) & TW.Mask;
        ulong flags = (oldFlags & ~(All & ~CF)) | (FlagsOf<TOp>(a, 1, result, TW.Bytes) & ~CF); // inc and dec keep CF
        return Put(ref r, Flags, oldFlags, flags, stored) | Put(ref r, dst, old, result, stored);
    }

    /// <summary>A shift or rotate by an immediate or cl (the count masked to 5 or 6 bits as the CPU does). A zero count
    /// keeps the flags but still writes the destination (a 32-bit one zero-extends).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint ShiftForm<TW, TS, TKind>(in PredictedOp op, ref RegisterFile r, uint stored)
        where TW : struct, IWidth where TS : struct, ISource where TKind : struct, IShiftKind
    {
        int dst = op.Dst;
        ulong old = r[dst], oldFlags = r[Flags];
        ulong a = old & TW.Mask;
        int count = (int)(TS.Value(op, ref r) & (TW.Bytes == 8 ? 0x3FUL : 0x1FUL));
        if (count == 0) return Put(ref r, dst, old, a, stored);
        ulong result = Shifted(TKind.Kind, a, count, TW.Bytes, out ulong flags, out ulong affected);
        return Put(ref r, Flags, oldFlags, (oldFlags & ~affected) | (flags & affected), stored) | Put(ref r, dst, old, result, stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint LeaForm<TW, TI>(in PredictedOp op, ref RegisterFile r, uint stored)
        where TW : struct, IWidth where TI : struct, IIndex
    {
        int dst = op.Dst;
        ulong address = op.Imm + r[op.Base];
        if (TI.Present) address += r[op.Index] * op.Scale;
        return Put(ref r, dst, r[dst], address & TW.Mask, stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint LeaAbsolute64(in PredictedOp op, ref RegisterFile r, uint stored)
    {
        int dst = op.Dst;
        return Put(ref r, dst, r[dst], op.Imm, stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint MovSx64From32(in PredictedOp op, ref RegisterFile r, uint stored)
    {
        int dst = op.Dst;
        return Put(ref r, dst, r[dst], (ulong)(long)(int)r[op.Src], stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint MovZx32<TS>(in PredictedOp op, ref RegisterFile r, uint stored) where TS : struct, IWidth
    {
        int dst = op.Dst;
        return Put(ref r, dst, r[dst], r[op.Src] & TS.Mask, stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint CmovForm<TW>(in PredictedOp op, ref RegisterFile r, uint stored) where TW : struct, IWidth
    {
        int dst = op.Dst;
        ulong old = r[dst];
        ulong value = (StatusFlags.Holds(op.Condition, r[Flags]) ? r[op.Src] : old) & TW.Mask; // a 32-bit cmov zero-extends even when the condition fails
        return Put(ref r, dst, old, value, stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint SetccForm(in PredictedOp op, ref RegisterFile r, uint stored)
    {
        int dst = op.Dst;
        ulong old = r[dst];
        ulong value = (old & ~0xFFUL) | (StatusFlags.Holds(op.Condition, r[Flags]) ? 1UL : 0UL);
        return Put(ref r, dst, old, value, stored);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint Stack64(in PredictedOp op, ref RegisterFile r, uint stored)
    {
        ulong old = r[Rsp];
        return Put(ref r, Rsp, old, old + op.Imm, stored);
    }

    /// <summary>One iteration: rdi (unless lods) and rsi (movs, lods) move by the element size, up or down as DF says, and
    /// rep counts rcx down; a rep with rcx 0 changes nothing. Without branches on the condition bits: they vary from
    /// step to step in string-heavy code (zstd: 17 % of its instructions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint String64(in PredictedOp op, ref RegisterFile r, uint stored)
    {
        ulong rdi = r[Rdi], rsi = r[Rsi], rcx = r[Rcx];
        ulong repeated = (ulong)(op.Condition & 1);
        ulong runs = repeated != 0 && rcx == 0 ? 0 : ulong.MaxValue;
        ulong delta = ((r[Flags] & DF) != 0 ? (ulong)-(long)op.Size : op.Size) & runs;
        ulong diDelta = (op.Condition & 2) == 0 ? delta : 0, siDelta = (op.Condition & 4) != 0 ? delta : 0;
        return Put(ref r, Rdi, rdi, rdi + diDelta, stored) | Put(ref r, Rsi, rsi, rsi + siDelta, stored)
            | Put(ref r, Rcx, rcx, rcx - (repeated & runs), stored);
    }

    /// <summary>An operand width as a type: its mask and size are constants in each instantiation.</summary>
    private interface IWidth
    {
        static abstract int Bytes { get; }
        static abstract ulong Mask { get; }
    }

    private struct W8 : IWidth { public static int Bytes => 1; public static ulong Mask => 0xFF; }
    private struct W16 : IWidth { public static int Bytes => 2; public static ulong Mask => 0xFFFF; }
    private struct W32 : IWidth { public static int Bytes => 4; public static ulong Mask => 0xFFFF_FFFF; }
    private struct W64 : IWidth { public static int Bytes => 8; public static ulong Mask => ulong.MaxValue; }

    /// <summary>Where the second operand comes from (its full slot or the immediate; the handler cuts it to width).</summary>
    private interface ISource
    {
        static abstract ulong Value(in PredictedOp op, ref RegisterFile r);
    }

    private struct RegisterSource : ISource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Value(in PredictedOp op, ref RegisterFile r) => r[op.Src];
    }

    private struct ImmediateSource : ISource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Value(in PredictedOp op, ref RegisterFile r) => op.Imm;
    }

    private interface IShiftKind { static abstract PredictKind Kind { get; } }
    private struct ShlKind : IShiftKind { public static PredictKind Kind => PredictKind.Shl; }
    private struct ShrKind : IShiftKind { public static PredictKind Kind => PredictKind.Shr; }
    private struct SarKind : IShiftKind { public static PredictKind Kind => PredictKind.Sar; }
    private struct RolKind : IShiftKind { public static PredictKind Kind => PredictKind.Rol; }
    private struct RorKind : IShiftKind { public static PredictKind Kind => PredictKind.Ror; }

    private interface IIndex { static abstract bool Present { get; } }
    private struct NoIndex : IIndex { public static bool Present => false; }
    private struct WithIndex : IIndex { public static bool Present => true; }

    /// <summary>A two-operand operation: its result (of operands cut to width), which rule sets its six status flags,
    /// whether it writes the destination (cmp and test do not).</summary>
    private interface ITwoOperand
    {
        static abstract ulong Result(ulong a, ulong b);
        static abstract FlagRule Rule { get; }
        static abstract bool Writes { get; }
    }

    private enum FlagRule { Add, Sub, Logic }

    /// <summary>The flags of <typeparamref name="TOp"/>: the carry/borrow rules of add and sub; and, or, xor, test: CF = OF = 0,
    /// AF (undefined) = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong FlagsOf<TOp>(ulong a, ulong b, ulong result, int bytes) where TOp : struct, ITwoOperand => TOp.Rule switch
    {
        FlagRule.Add => StatusFlags.Add(a, b, 0, result, bytes),
        FlagRule.Sub => StatusFlags.Sub(a, b, 0, result, bytes),
        _ => StatusFlags.Result(result, bytes),
    };

    private struct AddOp : ITwoOperand { public static ulong Result(ulong a, ulong b) => a + b; public static FlagRule Rule => FlagRule.Add; public static bool Writes => true; }
    private struct SubOp : ITwoOperand { public static ulong Result(ulong a, ulong b) => a - b; public static FlagRule Rule => FlagRule.Sub; public static bool Writes => true; }
    private struct CmpOp : ITwoOperand { public static ulong Result(ulong a, ulong b) => a - b; public static FlagRule Rule => FlagRule.Sub; public static bool Writes => false; }
    private struct AndOp : ITwoOperand { public static ulong Result(ulong a, ulong b) => a & b; public static FlagRule Rule => FlagRule.Logic; public static bool Writes => true; }
    private struct OrOp : ITwoOperand { public static ulong Result(ulong a, ulong b) => a | b; public static FlagRule Rule => FlagRule.Logic; public static bool Writes => true; }
    private struct XorOp : ITwoOperand { public static ulong Result(ulong a, ulong b) => a ^ b; public static FlagRule Rule => FlagRule.Logic; public static bool Writes => true; }
    private struct TestOp : ITwoOperand { public static ulong Result(ulong a, ulong b) => a & b; public static FlagRule Rule => FlagRule.Logic; public static bool Writes => false; }
}
