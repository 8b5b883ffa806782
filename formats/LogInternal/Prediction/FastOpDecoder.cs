using static System.Buffers.Binary.BinaryPrimitives;
using Slot = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The <see cref="PredictedOp"/> of the most common 64-bit instructions, read straight from their bytes: what
/// <see cref="PredictedOp.From"/> gives for Iced's decoding of them, field for field (FastOpDecoderTests compare
/// the two over every REX, ModRM and SIB byte of every opcode handled here). A reader decodes every distinct
/// instruction it predicts once (cksum over 140 KB: 11.7 K decodes in 358 K instructions, most of them start-up
/// code run once), and Iced's general decoder, which builds a whole Iced Instruction, costs most of that.
/// Only plain forms are computed: optional segment prefixes (ignored: they change no register operand), an optional
/// REX and one of the opcodes below. Whole classes that are never predicted are answered with any prefix and any
/// length (a byte string that is not exactly one instruction is not predicted either): VEX and EVEX, the unpredicted
/// two-byte opcodes, lock, xchg with memory (measured: most of what readers still sent to Iced, where a cold decode
/// costs 1-1.5 µs: kmovd, pmovmskb, tzcnt, bsf, cmpxchg, BMI shifts). Anything else — and a predicted form whose
/// length is not exactly the instruction's — returns false, and the caller asks Iced.
/// The op is written in place, completed as it is built: slot numbers come straight from the encoding's register
/// numbers, and each shape knows which slots it touches and which predictor form it takes, so nothing is derived
/// twice (<see cref="PredictedOp.Complete"/>, which re-derives them from the fields, serves Iced's ops). This file reads the
/// opcodes; FastOpDecoder.Parts.cs holds what the shapes share (prefixes, ModRM extent, slots, filling an op).
/// </summary>
internal static partial class FastOpDecoder
{
    /// <summary>The op of <paramref name="code"/> (exactly one instruction) at <paramref name="rip"/> in 64-bit code,
    /// or false when the form is not one this decoder knows.</summary>
    public static bool TryDecode64(ReadOnlySpan<byte> code, ulong rip, out PredictedOp op)
    {
        op = default;
        int n = code.Length;
        if (n == 0) return false;
        int p = 0, rex = 0;
        int first = code[0];
        if (IsLegacyPrefix(first)) // rare, tested once
        {
            p = LegacyPrefixes(code, out var prefixes);
            if (p >= n) return false;
            if (prefixes != LegacyPrefix.Segment) return Prefixed(ref op, code, p, prefixes);
        }
        if ((code[p] & 0xF0) == 0x40)
        {
            rex = code[p++];
            if (n <= p) return false;
        }
        int b = code[p++];
        int size = (rex & 8) != 0 ? 8 : 4;
        switch (b)
        {
            case >= 0x50 and <= 0x5F: // push r64, pop r64
                return n == p && Stack(ref op, b < 0x58 ? -8 : 8);
            case 0xC3: // ret
                return n == p && Stack(ref op, 8);
            case 0xE8: // call rel32
                return n == p + 4 && Stack(ref op, -8);
            case (>= 0x70 and <= 0x7F) or 0xEB: // jcc rel8, jmp rel8: nothing predicted
                return n == p + 1 && Unpredicted(ref op);
            case 0xE9:
                return n == p + 4 && Unpredicted(ref op);
            case 0x6A: // push imm8 (sign-extended to 64 bits: rsp moves by 8 all the same)
                return n == p + 1 && Stack(ref op, -8);
            case 0x68: // push imm32
                return n == p + 4 && Stack(ref op, -8);
            case 0xC9: // leave: rsp = rbp + 8
                return n == p && RspOnly(ref op, PredictKind.Leave, 0, PredictForm.Generic);
            case 0xC4 or 0xC5 or 0x62: // VEX and EVEX (in 64-bit code always; after a REX invalid): vector, mask and BMI instructions
                return Unpredicted(ref op);
            case 0x86 or 0x87 when p < n && code[p] < 0xC0: // xchg with memory: the value it loads is not in the trace
                return Unpredicted(ref op);
            case 0x90 when (rex & 1) == 0: // nop (with REX.B it is xchg r8, rax)
            case 0x98 or 0x99 or 0xCC: // cwde/cdqe, cdq/cqo, int3: no operands, nothing predicted
                return n == p && Unpredicted(ref op);
            case >= 0xB0 and <= 0xBF: // mov r, imm (imm64 with REX.W): the immediate is as wide as the register
            {
                int width = b < 0xB8 ? 1 : size;
                if (n != p + width) return false;
                ulong imm = width switch
                {
                    1 => code[p],
                    4 => ReadUInt32LittleEndian(code[p..]),
                    _ => ReadUInt64LittleEndian(code[p..]),
                };
                return RegImm(ref op, PredictKind.Mov, (b & 7) | (rex & 1) << 3, width, rex, imm);
            }
            case 0x0F:
                return TwoByte(ref op, code, p, rex, size);
            case < 0x40 when (b & 7) < 6: // add, or, adc, sbb, and, sub, xor, cmp
            {
                var kind = AluKinds[b >> 3];
                int form = b & 7; // 0 r/m8,r8  1 r/m,r  2 r8,r/m8  3 r,r/m  4 al,imm8  5 eax,imm32
                int width = (form & 1) == 0 ? 1 : size;
                if (form >= 4)
                {
                    int immLength = width == 1 ? 1 : 4;
                    return n == p + immLength && RegImm(ref op, kind, 0, width, rex, Immediate(code, p, immLength, width));
                }
                return RegRm(ref op, kind, RegisterPredictor.TwoOperandForm(kind, width, imm: false), code, p, rex, width, width,
                    regIsDestination: form >= 2);
            }
            case 0x84 or 0x85: // test r/m, r
                return SameWidth(ref op, PredictKind.Test, code, p, rex, b == 0x84 ? 1 : size, regIsDestination: false);
            case 0x88 or 0x89: // mov r/m, r
                return SameWidth(ref op, PredictKind.Mov, code, p, rex, b == 0x88 ? 1 : size, regIsDestination: false);
            case 0x8A or 0x8B: // mov r, r/m
                return SameWidth(ref op, PredictKind.Mov, code, p, rex, b == 0x8A ? 1 : size, regIsDestination: true);
            case 0x63: // movsxd r, r/m32 (without REX.W a plain 32-bit move, which stays generic)
                return RegRm(ref op, PredictKind.MovSx, size == 8 ? PredictForm.MovSx64From32 : PredictForm.Generic, code, p, rex, size, 4,
                    regIsDestination: true);
            case 0x8D:
                return Lea(ref op, code, p, rex, size, rip);
            case 0xA8 or 0xA9: // test al/eax, imm
            {
                int width = b == 0xA8 ? 1 : size, immLength = width == 1 ? 1 : 4;
                return n == p + immLength && RegImm(ref op, PredictKind.Test, 0, width, rex, Immediate(code, p, immLength, width));
            }
            case 0x80 or 0x81 or 0x83: // group 1: op r/m, imm
                return RmImm(ref op, code, p, rex, b == 0x80 ? 1 : size, b == 0x81 ? 4 : 1, b == 0x83, AluKinds);
            case 0xC6 or 0xC7: // mov r/m, imm (reg field 0 only)
            {
                if (p >= n || (code[p] >> 3 & 7) != 0) return false;
                int width = b == 0xC6 ? 1 : size;
                return RmImm(ref op, code, p, rex, width, width == 1 ? 1 : 4, false, MovKinds);
            }
            case 0xC0 or 0xC1: // group 2 by imm8
                return RmImm(ref op, code, p, rex, b == 0xC0 ? 1 : size, 1, false, ShiftKinds);
            case 0xD0 or 0xD1: // group 2 by 1
                return RmImm(ref op, code, p, rex, b == 0xD0 ? 1 : size, 0, false, ShiftKinds);
            case 0xD2 or 0xD3: // group 2 by cl
                return ShiftByCl(ref op, code, p, rex, b == 0xD2 ? 1 : size);
            case 0xFF:
                return GroupFF(ref op, code, p, rex, size);
            case 0xF6 or 0xF7:
                return Group3(ref op, code, p, rex, b == 0xF6 ? 1 : size);
            case 0x69 or 0x6B: // imul r, r/m, imm32 or sign-extended imm8
                return MultiplyByImmediate(ref op, code, p, rex, size, b == 0x69 ? 4 : 1);
        }
        return false;
    }

    private static readonly PredictKind[] AluKinds =
        [PredictKind.Add, PredictKind.Or, PredictKind.Adc, PredictKind.Sbb, PredictKind.And, PredictKind.Sub, PredictKind.Xor, PredictKind.Cmp];

    /// <summary>mov r/m, imm (C6/C7): only /0 is a mov (the caller leaves the others to Iced).</summary>
    private static readonly PredictKind[] MovKinds = [PredictKind.Mov, .. Enumerable.Repeat(PredictKind.None, 7)];

    /// <summary>Group 2 by ModRM reg: rcl and rcr are not predicted; /6 is sal, which Iced names so (= shl).</summary>
    private static readonly PredictKind[] ShiftKinds =
        [PredictKind.Rol, PredictKind.Ror, PredictKind.None, PredictKind.None, PredictKind.Shl, PredictKind.Shr, PredictKind.Shl, PredictKind.Sar];

    private static bool TwoByte(ref PredictedOp op, ReadOnlySpan<byte> code, int p, int rex, int size)
    {
        if (p >= code.Length) return false;
        int b = code[p++];
        switch (b)
        {
            case 0xAF: // imul r, r/m
                return RegRm(ref op, PredictKind.Imul, PredictForm.Generic, code, p, rex, size, size, regIsDestination: true);
            case >= 0x40 and <= 0x4F: // cmovcc r, r/m
                if (!RegRm(ref op, PredictKind.Cmov, size == 8 ? PredictForm.Cmov64 : PredictForm.Cmov32, code, p, rex, size, size, regIsDestination: true))
                    return false;
                // Iced's ConditionCode: None, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g (a memory source predicts nothing).
                if (op.Kind == PredictKind.Cmov) op.Condition = (byte)(b - 0x40 + 1);
                return true;
            case >= 0x90 and <= 0x9F: // setcc r/m8
            {
                if (OperandEnd(code, p) != code.Length) return false;
                int modrm = code[p];
                if (modrm < 0xC0) return Unpredicted(ref op);
                byte dst = Gpr((modrm & 7) | (rex & 1) << 3, 1, rex, out bool high);
                Destination(ref op, PredictKind.Setcc, dst, 1, high, high ? PredictForm.Generic : PredictForm.Setcc);
                op.Condition = (byte)(b - 0x90 + 1);
                return true;
            }
            case 0xB6 or 0xBE: // movzx/movsx r, r/m8
                return RegRm(ref op, b == 0xB6 ? PredictKind.MovZx : PredictKind.MovSx,
                    b == 0xB6 && size == 4 ? PredictForm.MovZx32From8 : PredictForm.Generic, code, p, rex, size, 1, regIsDestination: true);
            case 0xB7 or 0xBF: // movzx/movsx r, r/m16
                return RegRm(ref op, b == 0xB7 ? PredictKind.MovZx : PredictKind.MovSx,
                    b == 0xB7 && size == 4 ? PredictForm.MovZx32From16 : PredictForm.Generic, code, p, rex, size, 2, regIsDestination: true);
        }
        return UnpredictedTwoByte[b] && Unpredicted(ref op);
    }

    /// <summary>After prefixes other than segments (operand size, address size, rep, repne, lock): only the classes no
    /// prefix makes predicted are answered, the rest is left to Iced. Lock is valid only on a read-modify-write of memory,
    /// whose value the trace does not hold; VEX, EVEX and the unpredicted two-byte opcodes stay unpredicted with any prefix
    /// (or are invalid, which predicts nothing either).</summary>
    private static bool Prefixed(ref PredictedOp op, ReadOnlySpan<byte> code, int p, LegacyPrefix prefixes)
    {
        if ((prefixes & LegacyPrefix.Lock) != 0) return Unpredicted(ref op);
        if ((code[p] & 0xF0) == 0x40 && ++p >= code.Length) return false; // a REX
        int b = code[p];
        if (b is 0xC4 or 0xC5 or 0x62) return Unpredicted(ref op);
        return b == 0x0F && p + 1 < code.Length && UnpredictedTwoByte[code[p + 1]] && Unpredicted(ref op);
    }

    /// <summary>Two-byte opcodes (0F xx) that decode to no predicted instruction whatever the prefixes, REX and operands:
    /// everything but mov to and from control and debug registers (left to Iced), cmovcc, setcc, push and pop fs and gs,
    /// imul, movzx, movsx and bswap. That is jcc, syscall, cpuid, rdtsc, the nops and hints, the SSE and MMX opcodes, the
    /// three-byte maps 0F 38 and 0F 3A, bit tests and scans (tzcnt, lzcnt, popcnt), cmpxchg, xadd, shld, shrd and the system
    /// opcodes: none is a mnemonic the predictor computes (FastOpDecoderTests check every one against Iced).</summary>
    private static readonly bool[] UnpredictedTwoByte = BuildUnpredictedTwoByte();

    private static bool[] BuildUnpredictedTwoByte()
    {
        var unpredicted = new bool[256];
        Array.Fill(unpredicted, true);
        int[] mayBePredicted = [.. Enumerable.Range(0x20, 8), .. Enumerable.Range(0x40, 16), .. Enumerable.Range(0x90, 16),
            0xA0, 0xA1, 0xA8, 0xA9, 0xAF, 0xB6, 0xB7, 0xBE, 0xBF, .. Enumerable.Range(0xC8, 8)];
        foreach (int b in mayBePredicted) unpredicted[b] = false;
        return unpredicted;
    }

    /// <summary>op reg, r/m or op r/m, reg of one width (test, mov): the form of the kind at that width.</summary>
    private static bool SameWidth(ref PredictedOp op, PredictKind kind, ReadOnlySpan<byte> code, int p, int rex, int width, bool regIsDestination) =>
        RegRm(ref op, kind, RegisterPredictor.TwoOperandForm(kind, width, imm: false), code, p, rex, width, width, regIsDestination);

    /// <summary>op reg, r/m or op r/m, reg: predicted only between two registers (a memory operand's value is not in the
    /// trace). <paramref name="form"/> is the op's form unless a register is ah-bh.</summary>
    private static bool RegRm(ref PredictedOp op, PredictKind kind, PredictForm form, ReadOnlySpan<byte> code, int p, int rex,
        int regSize, int rmSize, bool regIsDestination)
    {
        if (OperandEnd(code, p) != code.Length) return false;
        int modrm = code[p];
        if (modrm < 0xC0) return Unpredicted(ref op);
        byte reg = Gpr((modrm >> 3 & 7) | (rex & 4) << 1, regSize, rex, out bool regHigh);
        byte rm = Gpr((modrm & 7) | (rex & 1) << 3, rmSize, rex, out bool rmHigh);
        if (regHigh || rmHigh) form = PredictForm.Generic;
        if (regIsDestination)
        {
            Destination(ref op, kind, reg, regSize, regHigh, form);
            (op.Src, op.SrcSize, op.SrcHigh) = (rm, (byte)rmSize, rmHigh);
        }
        else
        {
            Destination(ref op, kind, rm, rmSize, rmHigh, form);
            (op.Src, op.SrcSize, op.SrcHigh) = (reg, (byte)regSize, regHigh);
        }
        return true;
    }

    /// <summary>op r/m, imm (group 1, mov, group 2): the kind by ModRM reg; <paramref name="immLength"/> 0 is group 2's "by 1".</summary>
    private static bool RmImm(ref PredictedOp op, ReadOnlySpan<byte> code, int p, int rex, int width, int immLength, bool signExtendByte,
        PredictKind[] kinds)
    {
        int end = OperandEnd(code, p);
        if (end < 0 || end + immLength != code.Length) return false;
        int modrm = code[p];
        var kind = kinds[modrm >> 3 & 7];
        if (modrm < 0xC0 || kind == PredictKind.None) return Unpredicted(ref op);
        ulong imm = immLength == 0 ? 1
            : signExtendByte ? (ulong)(long)(sbyte)code[end]
            : Immediate(code, end, immLength, width);
        return RegImm(ref op, kind, (modrm & 7) | (rex & 1) << 3, width, rex, imm);
    }

    private static bool ShiftByCl(ref PredictedOp op, ReadOnlySpan<byte> code, int p, int rex, int width)
    {
        if (OperandEnd(code, p) != code.Length) return false;
        int modrm = code[p];
        var kind = ShiftKinds[modrm >> 3 & 7];
        if (modrm < 0xC0 || kind == PredictKind.None) return Unpredicted(ref op);
        byte dst = Gpr((modrm & 7) | (rex & 1) << 3, width, rex, out bool high);
        Destination(ref op, kind, dst, width, high, high ? PredictForm.Generic : RegisterPredictor.TwoOperandForm(kind, width, imm: false));
        (op.Src, op.SrcSize) = ((byte)Slot.Rcx, 1); // cl
        return true;
    }

    /// <summary>inc, dec (predicted on a register), call and push (rsp moves, whatever the operand), jmp (nothing).</summary>
    private static bool GroupFF(ref PredictedOp op, ReadOnlySpan<byte> code, int p, int rex, int size)
    {
        if (OperandEnd(code, p) != code.Length) return false;
        int modrm = code[p];
        switch (modrm >> 3 & 7)
        {
            case 0 or 1:
                if (modrm < 0xC0) return Unpredicted(ref op);
                bool inc = (modrm & 0x38) == 0, wide = size == 8;
                Destination(ref op, inc ? PredictKind.Inc : PredictKind.Dec, GprSlots[(modrm & 7) | (rex & 1) << 3], size, false,
                    inc ? (wide ? PredictForm.Inc64 : PredictForm.Inc32) : (wide ? PredictForm.Dec64 : PredictForm.Dec32));
                return true;
            case 2 or 6:
                return Stack(ref op, -8);
            case 4:
                return Unpredicted(ref op);
        }
        return false; // far call/jmp (/3, /5), and /7 (invalid)
    }

    /// <summary>Group 3: test r/m, imm (/0 and its alias /1), not, neg, and one-operand mul and imul (rdx:rax = rax *
    /// r/m, predicted from 32 bits up); div and idiv are not predicted.</summary>
    private static bool Group3(ref PredictedOp op, ReadOnlySpan<byte> code, int p, int rex, int width)
    {
        int end = OperandEnd(code, p);
        if (end < 0) return false;
        int modrm = code[p], reg = modrm >> 3 & 7, rm = (modrm & 7) | (rex & 1) << 3;
        if (reg <= 1)
        {
            int immLength = width == 1 ? 1 : 4;
            if (end + immLength != code.Length) return false;
            return modrm < 0xC0 ? Unpredicted(ref op) : RegImm(ref op, PredictKind.Test, rm, width, rex, Immediate(code, end, immLength, width));
        }
        if (end != code.Length) return false;
        if (modrm < 0xC0 || reg >= 6 || (reg >= 4 && width == 1)) return Unpredicted(ref op);
        if (reg <= 3)
        {
            byte dst = Gpr(rm, width, rex, out bool high);
            Destination(ref op, reg == 2 ? PredictKind.Not : PredictKind.Neg, dst, width, high, PredictForm.Generic);
            return true;
        }
        // mul, imul: rax, rdx and the flags change; the register operand is only read.
        Destination(ref op, reg == 4 ? PredictKind.Mul1 : PredictKind.Imul1, GprSlots[rm], width, false, PredictForm.Generic);
        op.Touched = 1u << (int)Slot.Rax | 1u << (int)Slot.Rdx | 1u << (int)Slot.Rflags;
        (op.Slot0, op.Slot1, op.Slot2) = ((byte)Slot.Rax, (byte)Slot.Rdx, (byte)Slot.Rflags);
        return true;
    }

    /// <summary>imul r, r/m, imm: dst = src * imm (Condition 1 marks the three-operand form; Iced's op gives the source
    /// no size).</summary>
    private static bool MultiplyByImmediate(ref PredictedOp op, ReadOnlySpan<byte> code, int p, int rex, int size, int immLength)
    {
        int end = OperandEnd(code, p);
        if (end < 0 || end + immLength != code.Length) return false;
        int modrm = code[p];
        if (modrm < 0xC0) return Unpredicted(ref op);
        Destination(ref op, PredictKind.Imul, GprSlots[(modrm >> 3 & 7) | (rex & 4) << 1], size, false, PredictForm.Generic);
        op.Src = GprSlots[(modrm & 7) | (rex & 1) << 3];
        op.Imm = immLength == 1 ? (ulong)(long)(sbyte)code[end] : Immediate(code, end, 4, size);
        op.Condition = 1;
        return true;
    }

    private static bool Lea(ref PredictedOp op, ReadOnlySpan<byte> code, int p, int rex, int size, ulong rip)
    {
        if (OperandEnd(code, p) != code.Length) return false;
        int modrm = code[p], mod = modrm >> 6, low = modrm & 7, at = p + 1;
        if (mod == 3) return false;
        byte dst = GprSlots[(modrm >> 3 & 7) | (rex & 4) << 1];
        op.AddressSize = 8;
        if (low == 5 && mod == 0)
        {
            // rip-relative: the address is fixed by the instruction's own rip.
            Destination(ref op, PredictKind.Lea, dst, size, false, size == 8 ? PredictForm.LeaAbsolute64 : PredictForm.Generic);
            op.Imm = rip + (ulong)code.Length + (ulong)(long)ReadInt32LittleEndian(code[at..]);
            return true;
        }
        int baseReg = low | (rex & 1) << 3, index = -1;
        byte scale = 1;
        if (low == 4)
        {
            int sib = code[at++];
            scale = (byte)(1 << (sib >> 6));
            int i = (sib >> 3 & 7) | (rex & 2) << 2;
            if (i != 4) index = i;
            baseReg = (sib & 7) == 5 && mod == 0 ? -1 : (sib & 7) | (rex & 1) << 3;
        }
        bool wide = size == 8;
        var form = baseReg < 0 ? (index < 0 && wide ? PredictForm.LeaAbsolute64 : PredictForm.Generic)
            : index < 0 ? (wide ? PredictForm.Lea64B : PredictForm.Lea32B)
            : (wide ? PredictForm.Lea64BI : PredictForm.Lea32BI);
        Destination(ref op, PredictKind.Lea, dst, size, false, form);
        op.Scale = scale;
        if (baseReg >= 0) op.Base = GprSlots[baseReg];
        if (index >= 0) op.Index = GprSlots[index];
        bool disp32 = mod == 2 || (mod == 0 && baseReg < 0);
        op.Imm = mod == 1 ? (ulong)(long)(sbyte)code[at]
            : disp32 ? (ulong)(long)ReadInt32LittleEndian(code[at..])
            : 0;
        return true;
    }

    /// <summary>op reg, imm on register number <paramref name="number"/>.</summary>
    private static bool RegImm(ref PredictedOp op, PredictKind kind, int number, int width, int rex, ulong imm)
    {
        byte dst = Gpr(number, width, rex, out bool high);
        Destination(ref op, kind, dst, width, high, high ? PredictForm.Generic : RegisterPredictor.TwoOperandForm(kind, width, imm: true));
        op.Src = PredictedOp.Immediate;
        op.Imm = imm;
        return true;
    }

    /// <summary>push, pop, call, ret: rsp moves by <paramref name="increment"/>.</summary>
    private static bool Stack(ref PredictedOp op, int increment) => RspOnly(ref op, PredictKind.Stack, increment, PredictForm.Stack64);
}
