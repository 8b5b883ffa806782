using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The <see cref="PredictedOp"/> of the most common 64-bit instructions, read straight from their bytes: what
/// <see cref="PredictedOp.From"/> gives for Iced's decoding of them, field for field (FastOpDecoderTests compare
/// the two over every REX, ModRM and SIB byte of every opcode handled here). A reader decodes every distinct
/// instruction it predicts once (cksum over 140 KB: 11.7 K decodes in 358 K instructions, most of them start-up
/// code run once), and Iced's general decoder, which builds a whole <see cref="Instruction"/>, costs most of that.
/// Only plain forms are handled: an optional REX and one of the opcodes below, no legacy prefix (operand-size,
/// address-size, segment, lock, rep). Anything else — and any byte string whose length is not exactly the
/// instruction's — returns false, and the caller asks Iced.
/// </summary>
internal static class FastOpDecoder
{
    /// <summary>Register numbers 0-15 as Iced registers: AL + n (AH-BH without REX), AX, EAX, RAX + n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Register Gpr(int n, int size, int rex) => size switch
    {
        1 => rex != 0 && n >= 4 ? Register.AL + n + 4 : Register.AL + n, // with any REX, 4-7 are spl-dil, not ah-bh
        2 => Register.AX + n,
        4 => Register.EAX + n,
        _ => Register.RAX + n,
    };

    /// <summary>The op of <paramref name="code"/> (exactly one instruction) at <paramref name="rip"/> in 64-bit code,
    /// or false when the form is not one this decoder knows.</summary>
    public static bool TryDecode64(ReadOnlySpan<byte> code, ulong rip, out PredictedOp op)
    {
        op = default;
        int n = code.Length;
        int p = 0, rex = 0;
        if (n == 0) return false;
        if ((code[0] & 0xF0) == 0x40)
        {
            rex = code[0];
            p = 1;
            if (n < 2) return false;
        }
        int b = code[p++];
        int size = (rex & 8) != 0 ? 8 : 4;
        switch (b)
        {
            case >= 0x50 and <= 0x5F: // push r64, pop r64
                return n == p && Stack(b < 0x58 ? -8 : 8, out op);
            case 0xC3: // ret
                return n == p && Stack(8, out op);
            case 0xE8: // call rel32
                return n == p + 4 && Stack(-8, out op);
            case (>= 0x70 and <= 0x7F) or 0xEB: // jcc rel8, jmp rel8: nothing predicted
                return n == p + 1 && Unpredicted(out op);
            case 0xE9:
                return n == p + 4 && Unpredicted(out op);
            case >= 0xB0 and <= 0xBF: // mov r, imm (imm64 with REX.W)
            {
                int width = b < 0xB8 ? 1 : size;
                int immLength = width == 8 ? 8 : width;
                if (n != p + immLength) return false;
                ulong imm = immLength switch
                {
                    1 => code[p],
                    4 => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(code[p..]),
                    _ => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(code[p..]),
                };
                return RegImm(PredictKind.Mov, Gpr((b & 7) | (rex & 1) << 3, width, rex), imm, out op);
            }
            case 0x0F:
                return TwoByte(code, p, rex, size, out op);
        }
        if (b < 0x40 && (b & 7) < 6)
        {
            var kind = AluKinds[b >> 3];
            int form = b & 7; // 0 r/m8,r8  1 r/m,r  2 r8,r/m8  3 r,r/m  4 al,imm8  5 eax,imm32
            int width = (form & 1) == 0 ? 1 : size;
            if (form >= 4)
            {
                int immLength = width == 1 ? 1 : 4;
                if (n != p + immLength) return false;
                return RegImm(kind, Gpr(0, width, rex), Immediate(code, p, immLength, width), out op);
            }
            return RegRm(kind, code, p, rex, width, width, regIsDestination: form >= 2, out op);
        }
        switch (b)
        {
            case 0x84 or 0x85: // test r/m, r
                return RegRm(PredictKind.Test, code, p, rex, b == 0x84 ? 1 : size, b == 0x84 ? 1 : size, regIsDestination: false, out op);
            case 0x88 or 0x89: // mov r/m, r
                return RegRm(PredictKind.Mov, code, p, rex, b == 0x88 ? 1 : size, b == 0x88 ? 1 : size, regIsDestination: false, out op);
            case 0x8A or 0x8B: // mov r, r/m
                return RegRm(PredictKind.Mov, code, p, rex, b == 0x8A ? 1 : size, b == 0x8A ? 1 : size, regIsDestination: true, out op);
            case 0x63: // movsxd r, r/m32
                return RegRm(PredictKind.MovSx, code, p, rex, size, 4, regIsDestination: true, out op);
            case 0x8D:
                return Lea(code, p, rex, size, rip, out op);
            case 0xA8 or 0xA9: // test al/eax, imm
            {
                int width = b == 0xA8 ? 1 : size, immLength = width == 1 ? 1 : 4;
                return n == p + immLength && RegImm(PredictKind.Test, Gpr(0, width, rex), Immediate(code, p, immLength, width), out op);
            }
            case 0x80 or 0x81 or 0x83: // group 1: op r/m, imm
            {
                int width = b == 0x80 ? 1 : size, immLength = b == 0x81 ? 4 : 1;
                return RmImm(code, p, rex, width, immLength, b == 0x83, AluKinds, out op);
            }
            case 0xC6 or 0xC7: // mov r/m, imm (reg field 0 only)
            {
                if (p >= n || (code[p] >> 3 & 7) != 0) return false;
                int width = b == 0xC6 ? 1 : size;
                return RmImm(code, p, rex, width, width == 1 ? 1 : 4, false, MovKinds, out op);
            }
            case 0xC0 or 0xC1: // group 2 by imm8
                return RmImm(code, p, rex, b == 0xC0 ? 1 : size, 1, false, ShiftKinds, out op);
            case 0xD0 or 0xD1: // group 2 by 1
                return RmImm(code, p, rex, b == 0xD0 ? 1 : size, 0, false, ShiftKinds, out op);
            case 0xD2 or 0xD3: // group 2 by cl
                return ShiftByCl(code, p, rex, b == 0xD2 ? 1 : size, out op);
            case 0xFF:
                return GroupFF(code, p, rex, size, out op);
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

    private static bool TwoByte(ReadOnlySpan<byte> code, int p, int rex, int size, out PredictedOp op)
    {
        op = default;
        if (p >= code.Length) return false;
        int b = code[p++];
        switch (b)
        {
            case >= 0x80 and <= 0x8F: // jcc rel32
                return code.Length == p + 4 && Unpredicted(out op);
            case >= 0x40 and <= 0x4F: // cmovcc r, r/m
                if (!RegRm(PredictKind.Cmov, code, p, rex, size, size, regIsDestination: true, out op)) return false;
                if (op.Kind == PredictKind.Cmov) op = PredictedOp.Complete(op with { Condition = (byte)(b - 0x40 + 1) });
                return true;
            case >= 0x90 and <= 0x9F: // setcc r/m8
            {
                if (!Rm(code, p, rex, out int mod, out _, out int rm, out int end) || end != code.Length) return false;
                if (mod != 3) return Unpredicted(out op);
                op = Blank();
                PredictedOp.GeneralSlot(Gpr(rm, 1, rex), out op.Dst, out op.Size, out op.DstHigh);
                op.Kind = PredictKind.Setcc;
                op.Condition = (byte)(b - 0x90 + 1); // Iced's ConditionCode: None, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
                op = PredictedOp.Complete(op);
                return true;
            }
            case 0xB6 or 0xBE: // movzx/movsx r, r/m8
                return RegRm(b == 0xB6 ? PredictKind.MovZx : PredictKind.MovSx, code, p, rex, size, 1, regIsDestination: true, out op);
            case 0xB7 or 0xBF: // movzx/movsx r, r/m16
                return RegRm(b == 0xB7 ? PredictKind.MovZx : PredictKind.MovSx, code, p, rex, size, 2, regIsDestination: true, out op);
        }
        return false;
    }

    /// <summary>ModRM (and SIB and displacement) at <paramref name="p"/>: mod, reg and rm (REX-extended; rm is a
    /// register only when mod is 3), and where the bytes after the operand start.</summary>
    private static bool Rm(ReadOnlySpan<byte> code, int p, int rex, out int mod, out int reg, out int rm, out int end)
    {
        mod = reg = rm = 0;
        end = 0;
        if (p >= code.Length) return false;
        int modrm = code[p++];
        mod = modrm >> 6;
        reg = (modrm >> 3 & 7) | (rex & 4) << 1;
        int low = modrm & 7;
        rm = low | (rex & 1) << 3;
        if (mod != 3)
        {
            if (low == 4)
            {
                if (p >= code.Length) return false;
                int sib = code[p++];
                if ((sib & 7) == 5 && mod == 0) p += 4; // no base: disp32
            }
            else if (low == 5 && mod == 0)
            {
                p += 4; // rip + disp32
            }
            p += mod == 1 ? 1 : mod == 2 ? 4 : 0;
        }
        end = p;
        return true;
    }

    /// <summary>op reg, r/m or op r/m, reg: predicted only between two registers (a memory operand's value is not in the trace).</summary>
    private static bool RegRm(PredictKind kind, ReadOnlySpan<byte> code, int p, int rex, int regSize, int rmSize, bool regIsDestination, out PredictedOp op)
    {
        op = default;
        if (!Rm(code, p, rex, out int mod, out int reg, out int rm, out int end) || end != code.Length) return false;
        if (mod != 3) return Unpredicted(out op);
        op = Blank();
        var regRegister = Gpr(reg, regSize, rex);
        var rmRegister = Gpr(rm, rmSize, rex);
        var (destination, source) = regIsDestination ? (regRegister, rmRegister) : (rmRegister, regRegister);
        PredictedOp.GeneralSlot(destination, out op.Dst, out op.Size, out op.DstHigh);
        PredictedOp.GeneralSlot(source, out op.Src, out op.SrcSize, out op.SrcHigh);
        op.Kind = kind;
        op = PredictedOp.Complete(op);
        return true;
    }

    /// <summary>op r/m, imm (group 1, mov, group 2): the kind by ModRM reg; <paramref name="immLength"/> 0 is group 2's "by 1".</summary>
    private static bool RmImm(ReadOnlySpan<byte> code, int p, int rex, int width, int immLength, bool signExtendByte,
        PredictKind[] kinds, out PredictedOp op)
    {
        op = default;
        if (!Rm(code, p, rex, out int mod, out int reg, out int rm, out int end) || end + immLength != code.Length) return false;
        var kind = kinds[reg & 7];
        if (mod != 3 || kind == PredictKind.None) return Unpredicted(out op);
        ulong imm = immLength == 0 ? 1
            : signExtendByte ? (ulong)(long)(sbyte)code[end]
            : Immediate(code, end, immLength, width);
        return RegImm(kind, Gpr(rm, width, rex), imm, out op);
    }

    private static bool ShiftByCl(ReadOnlySpan<byte> code, int p, int rex, int width, out PredictedOp op)
    {
        op = default;
        if (!Rm(code, p, rex, out int mod, out int reg, out int rm, out int end) || end != code.Length) return false;
        var kind = ShiftKinds[reg & 7];
        if (mod != 3 || kind == PredictKind.None) return Unpredicted(out op);
        op = Blank();
        PredictedOp.GeneralSlot(Gpr(rm, width, rex), out op.Dst, out op.Size, out op.DstHigh);
        PredictedOp.GeneralSlot(Register.CL, out op.Src, out op.SrcSize, out op.SrcHigh);
        op.Kind = kind;
        op = PredictedOp.Complete(op);
        return true;
    }

    /// <summary>inc, dec (predicted on a register), call and push (rsp moves, whatever the operand), jmp (nothing).</summary>
    private static bool GroupFF(ReadOnlySpan<byte> code, int p, int rex, int size, out PredictedOp op)
    {
        op = default;
        if (!Rm(code, p, rex, out int mod, out int reg, out int rm, out int end) || end != code.Length) return false;
        switch (reg & 7)
        {
            case 0 or 1:
                if (mod != 3) return Unpredicted(out op);
                op = Blank();
                PredictedOp.GeneralSlot(Gpr(rm, size, rex), out op.Dst, out op.Size, out op.DstHigh);
                op.Kind = (reg & 7) == 0 ? PredictKind.Inc : PredictKind.Dec;
                op = PredictedOp.Complete(op);
                return true;
            case 2 or 6:
                return Stack(-8, out op);
            case 4:
                return Unpredicted(out op);
        }
        return false; // far call/jmp (/3, /5), and /7 (invalid)
    }

    private static bool Lea(ReadOnlySpan<byte> code, int p, int rex, int size, ulong rip, out PredictedOp op)
    {
        op = default;
        if (!Rm(code, p, rex, out int mod, out int reg, out int rm, out int end) || end != code.Length || mod == 3) return false;
        op = Blank();
        PredictedOp.GeneralSlot(Gpr(reg, size, rex), out op.Dst, out op.Size, out op.DstHigh);
        op.Kind = PredictKind.Lea;
        int low = rm & 7, at = p + 1;
        if (low == 5 && mod == 0)
        {
            // rip-relative: the address is fixed by the instruction's own rip.
            op.Imm = rip + (ulong)code.Length + (ulong)(long)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(code[at..]);
            op.AddressSize = 8;
            op = PredictedOp.Complete(op);
            return true;
        }
        op.AddressSize = 8;
        int baseReg = rm, index = -1;
        op.Scale = 1;
        if (low == 4)
        {
            int sib = code[at++];
            op.Scale = (byte)(1 << (sib >> 6));
            int i = (sib >> 3 & 7) | (rex & 2) << 2;
            if (i != 4) index = i;
            baseReg = (sib & 7) == 5 && mod == 0 ? -1 : (sib & 7) | (rex & 1) << 3;
        }
        if (baseReg >= 0) PredictedOp.GeneralSlot(Register.RAX + baseReg, out op.Base, out op.AddressSize, out _);
        if (index >= 0) PredictedOp.GeneralSlot(Register.RAX + index, out op.Index, out op.AddressSize, out _);
        bool disp32 = mod == 2 || (mod == 0 && baseReg < 0);
        op.Imm = mod == 1 ? (ulong)(long)(sbyte)code[at]
            : disp32 ? (ulong)(long)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(code[at..])
            : 0;
        op = PredictedOp.Complete(op);
        return true;
    }

    /// <summary>An immediate of 1 or 4 bytes as Iced's GetImmediate gives it: a 4-byte immediate of a 64-bit
    /// operation is sign-extended, of a 32-bit one zero-extended; a byte as is.</summary>
    private static ulong Immediate(ReadOnlySpan<byte> code, int at, int length, int width) => length == 1
        ? code[at]
        : width == 8
            ? (ulong)(long)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(code[at..])
            : System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(code[at..]);

    private static bool RegImm(PredictKind kind, Register destination, ulong imm, out PredictedOp op)
    {
        op = Blank();
        PredictedOp.GeneralSlot(destination, out op.Dst, out op.Size, out op.DstHigh);
        op.Kind = kind;
        op.Src = PredictedOp.Immediate;
        op.Imm = imm;
        op = PredictedOp.Complete(op);
        return true;
    }

    private static bool Stack(int increment, out PredictedOp op)
    {
        op = Blank();
        op.Kind = PredictKind.Stack;
        op.Imm = (ulong)(long)increment;
        op.Size = 8;
        op = PredictedOp.Complete(op);
        return true;
    }

    /// <summary>A valid instruction the predictor does not compute: what From gives (the completed empty op).</summary>
    private static bool Unpredicted(out PredictedOp op)
    {
        op = PredictedOp.Complete(default);
        return true;
    }

    /// <summary>What Build starts from.</summary>
    private static PredictedOp Blank() => new() { Src = PredictedOp.NoRegister, Base = PredictedOp.NoRegister, Index = PredictedOp.NoRegister };
}
