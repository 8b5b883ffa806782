using Iced.Intel;
using RegisterFile = Ether.Replay.Formats.Model.RegisterFile;
using Slot = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Recorder.Instructions;

/// <summary>
/// Which memory one single-stepped instruction writes, computed from the decoded instruction and
/// the thread's registers before it runs. The recorder reads those ranges after the step to log
/// the written values (and checks them against the code cache and the unpack tracker).
///
/// Iced's <see cref="InstructionInfoFactory"/> names the memory operands and their access; this
/// class turns them into addresses and fills the gaps where Iced's static view is not enough for a
/// single step: REP string instructions, XSAVE sizes, bit-string offsets, CLZERO, scatter elements,
/// AMX tile rows.
///
/// Some ranges are conservative (a superset of the bytes that change): masked stores (MASKMOVDQU,
/// VMASKMOV, AVX-512 {k} stores and scatters) record every element, XSAVE* the whole area, TILESTORED
/// the largest tile. Masked elements may lie in unmapped memory (the CPU suppresses their faults),
/// so the caller must tolerate a range it can only read in part.
///
/// Not thread-safe: one instance per recording thread. <see cref="Compute"/> allocates nothing.
/// </summary>
public sealed class WrittenOperands
{
    /// <summary>
    /// Returned by <see cref="Compute"/> for a scatter whose addresses depend on a vector index
    /// register the caller did not pass (see <see cref="NeedsVectorIndex"/>).
    /// </summary>
    public const int Unresolved = -1;

    /// <summary>
    /// A span this long always suffices: the most any instruction writes is ENTER with nesting
    /// level 31 (32 stack slots); a scatter writes at most 16 elements, TILESTORED 16 rows.
    /// </summary>
    public const int MaxRanges = 64;

    private readonly InstructionInfoFactory _infoFactory = new();
    private readonly GuestRegisterValues _registers = new();
    private readonly int _xsaveSize;
    private readonly int _cacheLineSize;

    /// <param name="xsaveSize">Bytes an XSAVE-family instruction may write; defaults to this CPU's
    /// <see cref="HostCpu.XsaveAreaSize"/>. Tests pass a fixed number.</param>
    /// <param name="cacheLineSize">The line CLZERO clears; defaults to <see cref="HostCpu.CacheLineSize"/>.</param>
    public WrittenOperands(int? xsaveSize = null, int? cacheLineSize = null)
    {
        _xsaveSize = xsaveSize ?? HostCpu.XsaveAreaSize;
        _cacheLineSize = cacheLineSize ?? HostCpu.CacheLineSize;
    }

    /// <summary>
    /// True for instructions whose written addresses come from a vector register (AVX-512
    /// scatters). The trace's <see cref="RegisterFile"/> has no vector registers, so the caller
    /// must fetch the index register's bytes (<see cref="Instruction.MemoryIndex"/>) and use the
    /// <see cref="Compute(in Instruction, in RegisterFile, ReadOnlySpan{byte}, Span{MemoryRange})"/> overload.
    /// </summary>
    public static bool NeedsVectorIndex(in Instruction insn) =>
        insn.OpCount > 0 && insn.Op0Kind == OpKind.Memory && insn.MemoryIndex.IsVectorRegister()
        && insn.Mnemonic is Mnemonic.Vpscatterdd or Mnemonic.Vpscatterdq or Mnemonic.Vpscatterqd
            or Mnemonic.Vpscatterqq or Mnemonic.Vscatterdps or Mnemonic.Vscatterdpd
            or Mnemonic.Vscatterqps or Mnemonic.Vscatterqpd;

    /// <summary>
    /// Stores in <paramref name="into"/> every memory range <paramref name="insn"/> writes when
    /// it executes once from the state <paramref name="before"/>, and returns how many.
    /// </summary>
    /// <param name="insn">Decoded with <c>IP</c> = the instruction's rip (RIP-relative operands are
    /// resolved by the decoder against the next rip) and the bitness of the code segment it runs in.</param>
    /// <param name="before">The thread's registers before the step (rsp, rdi, rcx, fs_base, ...).</param>
    /// <param name="into">At least <see cref="MaxRanges"/> long to be safe.</param>
    /// <returns>The number of ranges, or <see cref="Unresolved"/> for a scatter without its index.</returns>
    public int Compute(in Instruction insn, in RegisterFile before, Span<MemoryRange> into) =>
        Compute(insn, before, default, into);

    /// <summary>As the other overload, with the bytes of the VSIB index register for scatters.</summary>
    public int Compute(in Instruction insn, in RegisterFile before, ReadOnlySpan<byte> vectorIndex, Span<MemoryRange> into)
    {
        ref readonly var info = ref _infoFactory.GetInfo(insn, InstructionInfoOptions.NoRegisterUsage);
        int count = 0;
        bool loaded = false;
        foreach (var used in info.GetUsedMemory())
        {
            if (!Writes(used.Access)) continue;
            if (!loaded)
            {
                // Copying the register file (28 slots) only for instructions that write memory.
                _registers.Registers = before;
                if (vectorIndex.IsEmpty) _registers.ClearVectorIndex();
                else _registers.SetVectorIndex(vectorIndex);
                loaded = true;
            }
            int written = used.VsibSize != 0
                ? AddScatterElements(insn, used, into[count..])
                : AddOperand(insn, used, into[count..]);
            if (written == Unresolved) return Unresolved;
            count += written;
        }
        if (insn.Mnemonic == Mnemonic.Clzero)
            count += AddClzero(insn, before, into[count..]);
        return count;
    }

    /// <summary>
    /// Whether <paramref name="insn"/> writes memory for some register values. Fixed per
    /// instruction, so the code cache computes it once per address and the step loop skips
    /// <see cref="Compute"/> for the ~80% of instructions that never write.
    /// </summary>
    public bool MayWrite(in Instruction insn)
    {
        if (insn.Mnemonic == Mnemonic.Clzero) return true;
        ref readonly var info = ref _infoFactory.GetInfo(insn, InstructionInfoOptions.NoRegisterUsage);
        foreach (var used in info.GetUsedMemory())
            if (Writes(used.Access)) return true;
        return false;
    }

    private static bool Writes(OpAccess access) =>
        access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite;

    private int AddOperand(in Instruction insn, in UsedMemory used, Span<MemoryRange> into)
    {
        int size = used.MemorySize.GetSize();
        if (used.MemorySize == MemorySize.Unknown && insn.IsStringInstruction)
        {
            // REP MOVS/STOS: the trap flag raises the single-step trap after *each iteration* of a
            // repeated string instruction (rip stays on it until rcx reaches 0), so one step writes
            // one element at rdi. rcx = 0 means the instruction ends without writing. The direction
            // flag only decides whether rdi then moves up or down: this step's element is at rdi
            // either way. Measured on this machine: rep stosb with rcx=100 stops 100 times at the rep.
            if (RepCounter(insn) == 0) return 0;
            size = insn.MemorySize.GetSize();
        }
        else if (size == 0 && IsXsave(used.MemorySize))
            size = _xsaveSize;

        if (!used.TryGetVirtualAddress(0, _registers, out ulong address))
            return 0; // every register Iced asks for here is a GPR or segment: cannot happen.
        if (used.MemorySize == MemorySize.Tile)
            return AddTileRows(insn, address, into);
        if (IsBitStringWrite(insn))
            address = BitStringAddress(insn, used, address, size);
        into[0] = new MemoryRange(address, size);
        return 1;
    }

    /// <summary>rcx, ecx or cx (by the string instruction's address size) before the step.</summary>
    private ulong RepCounter(in Instruction insn)
    {
        ulong rcx = _registers.Registers[Slot.Rcx];
        return insn.Op0Kind switch
        {
            OpKind.MemoryESDI => (ushort)rcx,
            OpKind.MemoryESEDI => (uint)rcx,
            _ => rcx,
        };
    }

    private static bool IsXsave(MemorySize size) => size is MemorySize.Xsave or MemorySize.Xsave64;

    private static bool IsBitStringWrite(in Instruction insn) =>
        insn.Mnemonic is Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc
        && insn.Op0Kind == OpKind.Memory && insn.Op1Kind == OpKind.Register;

    /// <summary>
    /// BTS/BTR/BTC m, reg treat memory as a bit string: the register is a *signed* bit offset that
    /// may reach far outside the operand, and the CPU touches the operand-sized word at
    /// EA + size * floor(offset / (8 * size)). Iced reports only EA. (With an immediate offset the
    /// CPU takes it modulo the operand width, so EA is right.)
    /// </summary>
    private ulong BitStringAddress(in Instruction insn, in UsedMemory used, ulong address, int size)
    {
        _registers.TryGetRegisterValue(insn.Op1Register, 0, 0, out ulong raw);
        long offset = size switch
        {
            2 => (short)raw,
            4 => (int)raw,
            _ => (long)raw,
        };
        int shift = size switch { 2 => 4, 4 => 5, _ => 6 };
        long words = offset >> shift; // arithmetic shift = floor division for negative offsets
        ulong adjusted = address + (ulong)(words * size);
        return used.AddressSize switch
        {
            CodeSize.Code16 => (ushort)adjusted, // segment bases are 0 where 16/32-bit addressing is used
            CodeSize.Code32 => (uint)adjusted,
            _ => adjusted,
        };
    }

    /// <summary>
    /// AMX TILESTORED writes one row per tile row at base + row * stride, the stride being the
    /// index register (Iced leaves it out of the address). Rows and bytes per row come from the
    /// tile configuration, which we do not see: record the architectural maximum, 16 rows of 64 bytes.
    /// </summary>
    private int AddTileRows(in Instruction insn, ulong address, Span<MemoryRange> into)
    {
        const int MaxRows = 16, MaxRowBytes = 64;
        ulong stride = 0;
        if (insn.MemoryIndex != Register.None)
            _registers.TryGetRegisterValue(insn.MemoryIndex, 0, 0, out stride);
        for (int row = 0; row < MaxRows; row++)
            into[row] = new MemoryRange(address + (ulong)row * stride, MaxRowBytes);
        return MaxRows;
    }

    /// <summary>
    /// A scatter writes one element per index lane (lanes whose mask bit is clear are skipped by
    /// the CPU; we do not know the mask, so every lane is recorded — conservative: a skipped lane's
    /// bytes simply read back unchanged, but may sit in unmapped memory).
    /// </summary>
    private int AddScatterElements(in Instruction insn, in UsedMemory used, Span<MemoryRange> into)
    {
        int elementSize = used.MemorySize.GetSize();
        int indexLanes = insn.MemoryIndex.GetSize() / used.VsibSize;
        int dataLanes = insn.Op1Register.GetSize() / elementSize;
        int lanes = Math.Min(indexLanes, dataLanes);
        for (int lane = 0; lane < lanes; lane++)
        {
            if (!used.TryGetVirtualAddress(lane, _registers, out ulong address))
                return Unresolved;
            into[lane] = new MemoryRange(address, elementSize);
        }
        return lanes;
    }

    /// <summary>
    /// CLZERO (AMD) zeroes the whole cache line holding [rAX]; Iced lists no memory operand for it.
    /// </summary>
    private int AddClzero(in Instruction insn, in RegisterFile before, Span<MemoryRange> into)
    {
        ulong rax = before[Slot.Rax];
        // The code variant carries the address size (an 0x67 prefix selects eax or ax).
        ulong address = insn.Code switch
        {
            Code.Clzerow => (ushort)rax,
            Code.Clzerod => (uint)rax,
            _ => rax,
        };
        into[0] = new MemoryRange(address & ~(ulong)(_cacheLineSize - 1), _cacheLineSize);
        return 1;
    }
}
