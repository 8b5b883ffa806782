using System.Runtime.CompilerServices;
using static System.Buffers.Binary.BinaryPrimitives;
using Slot = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The parts <see cref="FastOpDecoder"/>'s shapes share: reading the encoding (prefixes, where a ModRM operand ends,
/// register numbers as slots, immediates) and filling an op in place, complete (touched slots, slot numbers, form).
/// </summary>
internal static partial class FastOpDecoder
{
    /// <summary>The legacy prefixes a prefix run can hold: segments (which change no register operand, and a memory operand
    /// is not predicted anyway), and the ones after which <see cref="Prefixed"/> answers only unpredicted classes.</summary>
    [Flags]
    private enum LegacyPrefix
    {
        Segment = 0,
        OperandSize = 1,
        Lock = 2,
        /// <summary>Address size, rep, repne.</summary>
        Other = 4,
    }

    /// <summary>es, cs, ss, ds, fs, gs, operand size, address size, lock, repne, rep.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsLegacyPrefix(int b) => (b & 0xE7) == 0x26 || (uint)(b - 0x64) <= 3 || b is 0xF0 or 0xF2 or 0xF3;

    /// <summary>How many legacy prefixes <paramref name="code"/> starts with, and which kinds.</summary>
    private static int LegacyPrefixes(ReadOnlySpan<byte> code, out LegacyPrefix prefixes)
    {
        prefixes = LegacyPrefix.Segment;
        int p = 0;
        for (; p < code.Length && IsLegacyPrefix(code[p]); p++)
        {
            prefixes |= code[p] switch
            {
                0x66 => LegacyPrefix.OperandSize,
                0xF0 => LegacyPrefix.Lock,
                0x67 or 0xF2 or 0xF3 => LegacyPrefix.Other,
                _ => LegacyPrefix.Segment,
            };
        }
        return p;
    }

    /// <summary>Where the bytes after the ModRM operand at <paramref name="p"/> (with its SIB and displacement) start,
    /// or -1 when the code ends inside the ModRM or SIB byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OperandEnd(ReadOnlySpan<byte> code, int p)
    {
        if ((uint)p >= (uint)code.Length) return -1;
        int modrm = code[p++], mod = modrm >> 6, low = modrm & 7;
        if (mod == 3) return p;
        if (low == 4)
        {
            if (p >= code.Length) return -1;
            if ((code[p++] & 7) == 5 && mod == 0) p += 4; // no base: disp32
        }
        else if (low == 5 && mod == 0)
        {
            p += 4; // rip + disp32
        }
        return p + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
    }

    /// <summary>Register slots in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15).</summary>
    private static ReadOnlySpan<byte> GprSlots =>
    [
        (byte)Slot.Rax, (byte)Slot.Rcx, (byte)Slot.Rdx, (byte)Slot.Rbx, (byte)Slot.Rsp, (byte)Slot.Rbp, (byte)Slot.Rsi, (byte)Slot.Rdi,
        (byte)Slot.R8, (byte)Slot.R9, (byte)Slot.R10, (byte)Slot.R11, (byte)Slot.R12, (byte)Slot.R13, (byte)Slot.R14, (byte)Slot.R15,
    ];

    /// <summary>The slot of register number <paramref name="number"/> (0-15, REX-extended) at <paramref name="width"/>
    /// bytes; <paramref name="high"/>: it is ah, ch, dh or bh, which byte registers 4-7 are when no REX prefix is present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Gpr(int number, int width, int rex, out bool high)
    {
        high = width == 1 && rex == 0 && number >= 4;
        return GprSlots[high ? number - 4 : number];
    }

    /// <summary>Kind, destination, its touched slots and the form; sources and lea's registers start absent. Every kind
    /// this decoder builds from Add on but not (arithmetic, logic, inc/dec, neg, shifts, imul) writes the flags too;
    /// the moves, lea and setcc before it write only the destination.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Destination(ref PredictedOp op, PredictKind kind, byte dst, int size, bool high, PredictForm form)
    {
        bool flags = kind >= PredictKind.Add && kind != PredictKind.Not;
        op.Kind = kind;
        op.Dst = dst;
        op.Size = (byte)size;
        op.DstHigh = high;
        op.Src = op.Base = op.Index = PredictedOp.NoRegister;
        op.Touched = 1u << dst | (flags ? 1u << (int)Slot.Rflags : 0);
        // Lowest first: a general register (0-15), then rflags (17); the unused ones name rip (16).
        op.Slot0 = dst;
        op.Slot1 = flags ? (byte)Slot.Rflags : (byte)Slot.Rip;
        op.Slot2 = (byte)Slot.Rip;
        op.Form = form;
    }

    /// <summary>An immediate of 1 or 4 bytes as Iced's GetImmediate gives it: a 4-byte immediate of a 64-bit
    /// operation is sign-extended, of a 32-bit one zero-extended; a byte as is.</summary>
    private static ulong Immediate(ReadOnlySpan<byte> code, int at, int length, int width) => length == 1
        ? code[at]
        : width == 8
            ? (ulong)(long)ReadInt32LittleEndian(code[at..])
            : ReadUInt32LittleEndian(code[at..]);

    /// <summary>An op that writes only rsp (stack moves, leave).</summary>
    private static bool RspOnly(ref PredictedOp op, PredictKind kind, int increment, PredictForm form)
    {
        op.Kind = kind;
        op.Imm = (ulong)(long)increment;
        op.Size = 8;
        op.Src = op.Base = op.Index = PredictedOp.NoRegister;
        op.Touched = 1u << (int)Slot.Rsp;
        op.Slot0 = (byte)Slot.Rsp;
        op.Slot1 = op.Slot2 = (byte)Slot.Rip;
        op.Form = form;
        return true;
    }

    /// <summary>An instruction the predictor does not compute: <see cref="PredictedOp.NoPrediction"/>.</summary>
    private static bool Unpredicted(ref PredictedOp op)
    {
        op = PredictedOp.NoPrediction;
        return true;
    }
}
