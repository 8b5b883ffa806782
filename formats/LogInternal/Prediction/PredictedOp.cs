using Iced.Intel;
using Slot = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>What the register predictor knows how to compute (docs/trace-format.md, "Register prediction").</summary>
internal enum PredictKind : byte
{
    /// <summary>No prediction: every slot is predicted to keep its value.</summary>
    None,
    Mov, MovZx, MovSx, Xchg, Bswap, Lea, Cmov, Setcc,
    Add, Or, Adc, Sbb, And, Sub, Xor, Cmp, Test,
    Inc, Dec, Not, Neg,
    Shl, Shr, Sar, Rol, Ror,
    Imul, Mul1, Imul1,
    /// <summary>push, pop, call, ret, pushf, popf: rsp moves by <see cref="PredictedOp.Imm"/>; nothing else is predicted.</summary>
    Stack,
    /// <summary>leave: rsp = rbp + 8 (rbp comes from memory and is not predicted).</summary>
    Leave,
    /// <summary>stos, movs, lods, with or without rep: rcx, rdi, rsi move; the loaded accumulator is not predicted.</summary>
    String,
}

/// <summary>
/// One instruction reduced to what the predictor needs: the operation, its operand size and its
/// register or immediate operands as register-file slots. Built once per distinct instruction of a
/// chunk (writer and reader alike), so the per-step cost is one switch.
/// </summary>
internal struct PredictedOp
{
    public PredictKind Kind;
    /// <summary>Operand size in bytes (1, 2, 4, 8); for string instructions the element size.</summary>
    public byte Size;
    /// <summary>Destination slot (a general register); for string instructions the address size in bytes.</summary>
    public byte Dst;
    /// <summary>The destination is ah, ch, dh or bh (bits 8-15 of its slot).</summary>
    public bool DstHigh;
    /// <summary>Source slot, or <see cref="Immediate"/> when the source is <see cref="Imm"/>; the shift count is cl when it is rcx's slot.</summary>
    public byte Src;
    public bool SrcHigh;
    /// <summary>Size of the source of movzx/movsx/movsxd in bytes.</summary>
    public byte SrcSize;
    /// <summary>Immediate (sign-extended to 64 bits as the instruction defines), lea displacement or absolute rip-relative address, stack increment.</summary>
    public ulong Imm;
    /// <summary>lea: base and index slots (<see cref="NoRegister"/> when absent), scale, address size in bytes.</summary>
    public byte Base, Index, Scale, AddressSize;
    /// <summary>cmov/setcc: the condition; string instructions: 1 when repeated (rep), 2 for lods (no rdi), 4 when they move rsi (movs, lods).</summary>
    public byte Condition;

    /// <summary>The slots the prediction may write: where the predicted mask is looked for.</summary>
    public uint Touched;
    /// <summary><see cref="Touched"/> as up to three slot numbers, lowest first; unused ones name rip, which no
    /// prediction writes, so the reader's hot path can save and compare all three without a loop.</summary>
    public byte Slot0, Slot1, Slot2;
    /// <summary>Which handler predicts it: chosen once here, so the reader's per-step work has constant operand
    /// widths and forms (<see cref="RegisterPredictor.FormOf"/>). Fits the struct's padding (32 bytes: the memo's
    /// 64-byte entries hold key and op).</summary>
    public PredictForm Form;

    public const byte Immediate = 0xFF;
    public const byte NoRegister = 0xFF;

    /// <summary>The op of every instruction the predictor does not compute, and of bytes that are not exactly one valid
    /// instruction: the completed empty op. One value for all of them, so any two decoders that agree an instruction is
    /// not predicted give equal ops (only <see cref="Kind"/> is ever read of it).</summary>
    public static readonly PredictedOp NoPrediction = Complete(default);

    /// <summary>The operation of <paramref name="code"/> at <paramref name="rip"/> (one-off use: decodes with a
    /// new Iced decoder; chunks use <see cref="PredictedOps"/>). None when the bytes are not exactly one instruction.</summary>
    public static PredictedOp Decode(ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        var decoder = Iced.Intel.Decoder.Create(bitness, new ByteArrayCodeReader(code.ToArray()), rip);
        decoder.Decode(out var insn);
        return insn.Length == code.Length ? From(insn, bitness) : NoPrediction;
    }

    /// <summary>The operation of a decoded instruction (<paramref name="bitness"/>: 16, 32 or 64).</summary>
    public static PredictedOp From(in Instruction insn, int bitness)
    {
        if (insn.IsInvalid) return NoPrediction;
        return Complete(Build(insn, bitness));
    }

    /// <summary><paramref name="op"/> with what follows from its operation and operands: the touched slots and the
    /// handler form (tests build ops field by field through here too).</summary>
    internal static PredictedOp Complete(PredictedOp op)
    {
        uint touched = TouchedSlots(op);
        op.Touched = touched;
        op.Slot0 = TakeLowest(ref touched);
        op.Slot1 = TakeLowest(ref touched);
        op.Slot2 = TakeLowest(ref touched);
        op.Form = RegisterPredictor.FormOf(op);
        return op;
    }

    /// <summary>The lowest slot left in <paramref name="slots"/>, taken out of it; rip when none is left. (No op
    /// touches more than three slots: mul and imul's rax, rdx and flags.)</summary>
    private static byte TakeLowest(ref uint slots)
    {
        if (slots == 0) return (byte)Slot.Rip;
        byte lowest = (byte)System.Numerics.BitOperations.TrailingZeroCount(slots);
        slots &= slots - 1;
        return lowest;
    }

    private static uint TouchedSlots(in PredictedOp op)
    {
        const uint Flags = 1u << (int)Slot.Rflags;
        static uint Bit(Slot s) => 1u << (int)s;
        return op.Kind switch
        {
            PredictKind.None => 0,
            PredictKind.Stack or PredictKind.Leave => Bit(Slot.Rsp),
            PredictKind.String => Bit(Slot.Rdi) | Bit(Slot.Rsi) | Bit(Slot.Rcx),
            PredictKind.Mul1 or PredictKind.Imul1 => Bit(Slot.Rax) | Bit(Slot.Rdx) | Flags,
            PredictKind.Xchg => (1u << op.Dst) | (1u << op.Src),
            PredictKind.Mov or PredictKind.MovZx or PredictKind.MovSx or PredictKind.Bswap or PredictKind.Lea
                or PredictKind.Cmov or PredictKind.Setcc or PredictKind.Not => 1u << op.Dst,
            _ => (1u << op.Dst) | Flags, // arithmetic, logic, shifts, rotates, imul: the destination and the flags
        };
    }

    private static PredictedOp Build(in Instruction insn, int bitness)
    {
        var op = new PredictedOp { Src = NoRegister, Base = NoRegister, Index = NoRegister };
        var m = insn.Mnemonic;
        switch (m)
        {
            case Mnemonic.Push or Mnemonic.Pop or Mnemonic.Call or Mnemonic.Ret or Mnemonic.Pushf or Mnemonic.Pushfd or Mnemonic.Pushfq
              or Mnemonic.Popf or Mnemonic.Popfd or Mnemonic.Popfq:
                // Near forms only: -8 for a push or call, +8 for a pop, 8 + imm16 for ret imm16 (64-bit code).
                if (insn.StackPointerIncrement == 0 || insn.IsCallFar || insn.IsCallFarIndirect) return default;
                op.Kind = PredictKind.Stack;
                op.Imm = (ulong)(long)insn.StackPointerIncrement;
                op.Size = (byte)(bitness / 8);
                return op;
            case Mnemonic.Leave:
                op.Kind = PredictKind.Leave;
                op.Size = (byte)(bitness / 8);
                return op;
            case Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Stosq
              or Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Movsq
              or Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq:
                return StringOp(insn, m);
        }

        if (insn.OpCount == 0 || insn.Op0Kind != OpKind.Register || !GeneralSlot(insn.Op0Register, out op.Dst, out op.Size, out op.DstHigh))
            return default;
        switch (m)
        {
            case Mnemonic.Mov: op.Kind = PredictKind.Mov; break;
            case Mnemonic.Movzx: op.Kind = PredictKind.MovZx; break;
            case Mnemonic.Movsx or Mnemonic.Movsxd: op.Kind = PredictKind.MovSx; break;
            case Mnemonic.Xchg: op.Kind = PredictKind.Xchg; break;
            case Mnemonic.Bswap: op.Kind = PredictKind.Bswap; return op.Size >= 4 ? op : default;
            case Mnemonic.Lea: return Lea(insn, op, bitness);
            case Mnemonic.Add: op.Kind = PredictKind.Add; break;
            case Mnemonic.Or: op.Kind = PredictKind.Or; break;
            case Mnemonic.Adc: op.Kind = PredictKind.Adc; break;
            case Mnemonic.Sbb: op.Kind = PredictKind.Sbb; break;
            case Mnemonic.And: op.Kind = PredictKind.And; break;
            case Mnemonic.Sub: op.Kind = PredictKind.Sub; break;
            case Mnemonic.Xor: op.Kind = PredictKind.Xor; break;
            case Mnemonic.Cmp: op.Kind = PredictKind.Cmp; break;
            case Mnemonic.Test: op.Kind = PredictKind.Test; break;
            case Mnemonic.Inc: op.Kind = PredictKind.Inc; return insn.OpCount == 1 ? op : default;
            case Mnemonic.Dec: op.Kind = PredictKind.Dec; return insn.OpCount == 1 ? op : default;
            case Mnemonic.Not: op.Kind = PredictKind.Not; return insn.OpCount == 1 ? op : default;
            case Mnemonic.Neg: op.Kind = PredictKind.Neg; return insn.OpCount == 1 ? op : default;
            case Mnemonic.Shl or Mnemonic.Sal: op.Kind = PredictKind.Shl; break;
            case Mnemonic.Shr: op.Kind = PredictKind.Shr; break;
            case Mnemonic.Sar: op.Kind = PredictKind.Sar; break;
            case Mnemonic.Rol: op.Kind = PredictKind.Rol; break;
            case Mnemonic.Ror: op.Kind = PredictKind.Ror; break;
            case Mnemonic.Imul when insn.OpCount == 1: op.Kind = PredictKind.Imul1; return op.Size >= 4 ? op : default;
            case Mnemonic.Mul when insn.OpCount == 1: op.Kind = PredictKind.Mul1; return op.Size >= 4 ? op : default;
            case Mnemonic.Imul: op.Kind = PredictKind.Imul; break;
            default:
                if (insn.ConditionCode != ConditionCode.None && ConditionalMoves.Kind(m) is { } conditional)
                {
                    op.Kind = conditional;
                    op.Condition = (byte)insn.ConditionCode;
                    if (op.Kind == PredictKind.Setcc) return op.Size == 1 ? op : default;
                    break;
                }
                return default;
        }
        // The source: the last operand (imul r, r/m, imm: the middle one is the multiplicand).
        if (op.Kind == PredictKind.Imul)
        {
            if (insn.OpCount == 3)
            {
                if (insn.Op1Kind != OpKind.Register || !GeneralSlot(insn.Op1Register, out op.Src, out _, out op.SrcHigh)) return default;
                op.Imm = insn.GetImmediate(2);
                op.Condition = 1; // three operands: dst = src * imm
                return op;
            }
        }
        if (insn.OpCount != 2) return default;
        switch (insn.Op1Kind)
        {
            case OpKind.Register:
                if (!GeneralSlot(insn.Op1Register, out op.Src, out op.SrcSize, out op.SrcHigh)) return default;
                if (op.Kind is PredictKind.Shl or PredictKind.Shr or PredictKind.Sar or PredictKind.Rol or PredictKind.Ror
                    && insn.Op1Register != Register.CL) return default;
                return op;
            case OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate64
              or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64:
                if (op.Kind is PredictKind.MovZx or PredictKind.MovSx or PredictKind.Xchg or PredictKind.Cmov) return default;
                op.Src = Immediate;
                op.Imm = insn.GetImmediate(1);
                return op;
            default:
                return default; // a memory operand: its value is not in the trace's columns
        }
    }

    private static PredictedOp Lea(in Instruction insn, PredictedOp op, int bitness)
    {
        if (insn.Op1Kind != OpKind.Memory) return default;
        op.Kind = PredictKind.Lea;
        if (insn.IsIPRelativeMemoryOperand)
        {
            // The address is fixed by the instruction's own rip: keep it whole.
            op.Imm = insn.IPRelativeMemoryAddress;
            op.AddressSize = 8;
            return op;
        }
        op.AddressSize = (byte)(bitness / 8);
        if (insn.MemoryBase != Register.None && !GeneralSlot(insn.MemoryBase, out op.Base, out op.AddressSize, out _)) return default;
        if (insn.MemoryIndex != Register.None && !GeneralSlot(insn.MemoryIndex, out op.Index, out op.AddressSize, out _)) return default;
        if (op.AddressSize is not (4 or 8)) return default;
        op.Scale = (byte)insn.MemoryIndexScale;
        op.Imm = insn.MemoryDisplacement64;
        return op;
    }

    private static PredictedOp StringOp(in Instruction insn, Mnemonic m)
    {
        var op = new PredictedOp { Kind = PredictKind.String, Src = NoRegister, Base = NoRegister, Index = NoRegister };
        var memory = m is Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq ? insn.Op1Kind : insn.Op0Kind;
        op.Dst = memory switch
        {
            OpKind.MemoryESRDI or OpKind.MemorySegRSI => 8,
            OpKind.MemoryESEDI or OpKind.MemorySegESI => 4,
            _ => 0,
        };
        if (op.Dst == 0 || !insn.IsStringInstruction || insn.HasRepnePrefix) return default;
        op.Size = (byte)(insn.MemorySize switch
        {
            MemorySize.UInt8 => 1,
            MemorySize.UInt16 => 2,
            MemorySize.UInt32 => 4,
            MemorySize.UInt64 => 8,
            _ => 0,
        });
        if (op.Size == 0) return default;
        if (insn.HasRepPrefix) op.Condition |= 1;
        if (m is Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq) op.Condition |= 2 | 4;
        if (m is Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Movsq) op.Condition |= 4;
        return op;
    }

    /// <summary>The register-file slot of a general register, its size in bytes, and whether it is ah/ch/dh/bh.
    /// One table load: a reader builds an op for every distinct instruction it predicts (cksum: one per 30
    /// instructions), and Iced's register queries behind <see cref="ComputeGeneralSlot"/> cost more than the rest of the build.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool GeneralSlot(Register r, out byte slot, out byte size, out bool high)
    {
        var slots = GeneralSlots;
        uint e = (uint)r < (uint)slots.Length ? slots[(int)r] : NotGeneral;
        slot = (byte)e;
        size = (byte)(e >> 8);
        high = (e & HighBit) != 0;
        return (e & GeneralBit) != 0;
    }

    /// <summary>Per Iced register: <see cref="ComputeGeneralSlot"/>'s answer as slot | size &lt;&lt; 8 | flags.</summary>
    private static readonly uint[] GeneralSlots = BuildGeneralSlots();
    private const uint HighBit = 1 << 16, GeneralBit = 1 << 17, NotGeneral = 0;

    private static uint[] BuildGeneralSlots()
    {
        var table = new uint[(int)Enum.GetValues<Register>().Max() + 1];
        for (int r = 0; r < table.Length; r++)
        {
            bool general = ComputeGeneralSlot((Register)r, out byte slot, out byte size, out bool high);
            table[r] = slot | (uint)size << 8 | (high ? HighBit : 0) | (general ? GeneralBit : 0);
        }
        return table;
    }

    /// <summary>What <see cref="GeneralSlot"/> answers, from Iced's register queries (run once per register).</summary>
    internal static bool ComputeGeneralSlot(Register r, out byte slot, out byte size, out bool high)
    {
        high = r is Register.AH or Register.CH or Register.DH or Register.BH;
        size = 0;
        slot = 0;
        if (!r.IsGPR()) return false;
        size = (byte)r.GetSize();
        var full = high ? r switch { Register.AH => Register.RAX, Register.CH => Register.RCX, Register.DH => Register.RDX, _ => Register.RBX } : r.GetFullRegister();
        slot = full switch
        {
            Register.RAX => (byte)Slot.Rax,
            Register.RBX => (byte)Slot.Rbx,
            Register.RCX => (byte)Slot.Rcx,
            Register.RDX => (byte)Slot.Rdx,
            Register.RSI => (byte)Slot.Rsi,
            Register.RDI => (byte)Slot.Rdi,
            Register.RBP => (byte)Slot.Rbp,
            Register.RSP => (byte)Slot.Rsp,
            >= Register.R8 and <= Register.R15 => (byte)((int)Slot.R8 + (full - Register.R8)),
            _ => 0xFF,
        };
        return slot != 0xFF;
    }
}

/// <summary>cmovcc and setcc mnemonics (found once by name: Iced has one mnemonic per condition).</summary>
internal static class ConditionalMoves
{
    private static readonly PredictKind[] Kinds = Build();

    public static PredictKind? Kind(Mnemonic m) => (int)m < Kinds.Length && Kinds[(int)m] != PredictKind.None ? Kinds[(int)m] : null;

    private static PredictKind[] Build()
    {
        var kinds = new PredictKind[(int)Enum.GetValues<Mnemonic>().Max() + 1];
        foreach (var m in Enum.GetValues<Mnemonic>())
        {
            string name = m.ToString();
            if (name.StartsWith("Cmov", StringComparison.Ordinal)) kinds[(int)m] = PredictKind.Cmov;
            else if (name.StartsWith("Set", StringComparison.Ordinal) && name.Length <= 6) kinds[(int)m] = PredictKind.Setcc;
        }
        return kinds;
    }
}
