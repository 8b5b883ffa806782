using Iced.Intel;
using RegisterFile = Ether.Replay.Formats.Model.RegisterFile;
using Slot = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Formats.Instructions;

/// <summary>Which of an instruction's memory accesses to compute.</summary>
public enum AccessKind
{
    /// <summary>Bytes the instruction reads (loads, the read half of read-modify-write, pops, returns).</summary>
    Read,
    /// <summary>Bytes the instruction writes (stores, the write half of read-modify-write, pushes, calls).</summary>
    Write,
}

/// <summary>
/// Which memory one single-stepped instruction reads or writes, computed from the decoded
/// instruction and the thread's registers before it runs. The recorder reads the written ranges
/// after the step to log the written values, and checks the read ranges before the step against
/// what the trace already holds (snapshotting a page it has no bytes for); the replay uses the
/// same computation to say what value each step read.
///
/// Iced's <see cref="InstructionInfoFactory"/> names the memory operands and their access; this
/// class turns them into addresses and fills the gaps where Iced's static view is not enough for a
/// single step: REP string instructions, XSAVE sizes, bit-string offsets, CLZERO, scatter and
/// gather elements, AMX tile rows.
///
/// Some ranges are conservative (a superset of the bytes accessed): masked stores and loads
/// (MASKMOVDQU, VMASKMOV, AVX-512 {k} forms, scatters, gathers) count every element, XSAVE* and
/// XRSTOR* the whole area, TILESTORED/TILELOADD the largest tile. Masked elements may lie in
/// unmapped memory (the CPU suppresses their faults), so the caller must tolerate a range it can
/// only read in part.
///
/// Not thread-safe: one instance per thread of work. Computing allocates nothing.
/// </summary>
public sealed class MemoryOperands
{
    /// <summary>
    /// Returned for a scatter or gather whose addresses depend on a vector index register the
    /// caller did not pass (see <see cref="NeedsVectorIndex"/>).
    /// </summary>
    public const int Unresolved = -1;

    /// <summary>
    /// A span this long always suffices: the most any instruction accesses is ENTER with nesting
    /// level 31 (32 stack slots); a scatter or gather at most 16 elements, a tile 16 rows.
    /// </summary>
    public const int MaxRanges = 64;

    /// <summary>The legacy FXSAVE region (512) plus the XSAVE header (64): the floor of any XSAVE area.</summary>
    public const int MinimumXsaveArea = 576;

    private readonly InstructionInfoFactory _infoFactory = new();
    private readonly GuestRegisterValues _registers = new();
    private readonly int _xsaveSize;
    private readonly int _cacheLineSize;

    /// <param name="xsaveSize">Bytes an XSAVE-family instruction may write or an XRSTOR read: the
    /// recording CPU's standard-format area (the recorder asks CPUID; a trace names it in its header).</param>
    /// <param name="cacheLineSize">The line CLZERO clears.</param>
    public MemoryOperands(int xsaveSize, int cacheLineSize = 64)
    {
        _xsaveSize = Math.Max(xsaveSize, MinimumXsaveArea);
        _cacheLineSize = cacheLineSize is 32 or 64 or 128 ? cacheLineSize : 64;
    }

    /// <summary>
    /// True for instructions whose addresses come from a vector register (AVX2/AVX-512 gathers,
    /// AVX-512 scatters). The trace's <see cref="RegisterFile"/> has no vector registers, so the
    /// caller must fetch the index register's bytes (<see cref="Instruction.MemoryIndex"/>) and pass
    /// them to the overloads that take a vector index.
    /// </summary>
    public static bool NeedsVectorIndex(in Instruction insn) => IsScatter(insn) || IsGather(insn);

    private static bool IsScatter(in Instruction insn) =>
        insn.OpCount > 0 && insn.Op0Kind == OpKind.Memory && insn.MemoryIndex.IsVectorRegister()
        && insn.Mnemonic is Mnemonic.Vpscatterdd or Mnemonic.Vpscatterdq or Mnemonic.Vpscatterqd
            or Mnemonic.Vpscatterqq or Mnemonic.Vscatterdps or Mnemonic.Vscatterdpd
            or Mnemonic.Vscatterqps or Mnemonic.Vscatterqpd;

    private static bool IsGather(in Instruction insn) =>
        insn.OpCount > 1 && insn.Op1Kind == OpKind.Memory && insn.MemoryIndex.IsVectorRegister()
        && insn.Mnemonic is Mnemonic.Vpgatherdd or Mnemonic.Vpgatherdq or Mnemonic.Vpgatherqd
            or Mnemonic.Vpgatherqq or Mnemonic.Vgatherdps or Mnemonic.Vgatherdpd
            or Mnemonic.Vgatherqps or Mnemonic.Vgatherqpd;

    /// <summary>
    /// Stores in <paramref name="into"/> every memory range <paramref name="insn"/> writes when
    /// it executes once from the state <paramref name="before"/>, and returns how many.
    /// </summary>
    /// <param name="insn">Decoded with <c>IP</c> = the instruction's rip (RIP-relative operands are
    /// resolved by the decoder against the next rip) and the bitness of the code segment it runs in.</param>
    /// <param name="before">The thread's registers before the step (rsp, rdi, rcx, fs_base, ...).</param>
    /// <param name="into">At least <see cref="MaxRanges"/> long to be safe.</param>
    /// <returns>The number of ranges, or <see cref="Unresolved"/> for a scatter without its index.</returns>
    public int ComputeWrites(in Instruction insn, in RegisterFile before, Span<MemoryRange> into) =>
        Compute(insn, before, default, into, AccessKind.Write);

    /// <summary>As the other overload, with the bytes of the VSIB index register for scatters.</summary>
    public int ComputeWrites(in Instruction insn, in RegisterFile before, ReadOnlySpan<byte> vectorIndex, Span<MemoryRange> into) =>
        Compute(insn, before, vectorIndex, into, AccessKind.Write);

    /// <summary>
    /// Every memory range <paramref name="insn"/> reads when it executes once from <paramref name="before"/>
    /// (instruction fetch aside), as <see cref="ComputeWrites(in Instruction, in RegisterFile, Span{MemoryRange})"/>
    /// does for writes. A read-modify-write operand is in both.
    /// </summary>
    public int ComputeReads(in Instruction insn, in RegisterFile before, Span<MemoryRange> into) =>
        Compute(insn, before, default, into, AccessKind.Read);

    /// <summary>As the other overload, with the bytes of the VSIB index register for gathers.</summary>
    public int ComputeReads(in Instruction insn, in RegisterFile before, ReadOnlySpan<byte> vectorIndex, Span<MemoryRange> into) =>
        Compute(insn, before, vectorIndex, into, AccessKind.Read);

    /// <summary>The ranges of one kind of access (see <see cref="ComputeWrites(in Instruction, in RegisterFile, Span{MemoryRange})"/>).</summary>
    public int Compute(in Instruction insn, in RegisterFile before, ReadOnlySpan<byte> vectorIndex, Span<MemoryRange> into, AccessKind kind)
    {
        ref readonly var info = ref _infoFactory.GetInfo(insn, InstructionInfoOptions.NoRegisterUsage);
        int count = 0;
        bool loaded = false;
        foreach (var used in info.GetUsedMemory())
        {
            if (!Accesses(used.Access, kind)) continue;
            if (!loaded)
            {
                // Copying the register file (28 slots) only for instructions that access memory.
                _registers.Registers = before;
                if (vectorIndex.IsEmpty) _registers.ClearVectorIndex();
                else _registers.SetVectorIndex(vectorIndex);
                loaded = true;
            }
            int added = used.VsibSize != 0
                ? AddVectorElements(insn, used, into[count..])
                : AddOperand(insn, used, into[count..]);
            if (added == Unresolved) return Unresolved;
            count += added;
        }
        if (kind == AccessKind.Write && insn.Mnemonic == Mnemonic.Clzero)
            count += AddClzero(insn, before, into[count..]);
        return count;
    }

    /// <summary>
    /// Whether <paramref name="insn"/> writes memory for some register values. Fixed per
    /// instruction, so a code cache computes it once per address and the step loop skips
    /// <see cref="ComputeWrites(in Instruction, in RegisterFile, Span{MemoryRange})"/> for the ~80% of instructions that never write.
    /// </summary>
    public bool MayWrite(in Instruction insn) => May(insn, AccessKind.Write);

    /// <summary>Whether <paramref name="insn"/> reads memory (besides its own bytes) for some register values.</summary>
    public bool MayRead(in Instruction insn) => May(insn, AccessKind.Read);

    private bool May(in Instruction insn, AccessKind kind)
    {
        if (kind == AccessKind.Write && insn.Mnemonic == Mnemonic.Clzero) return true;
        ref readonly var info = ref _infoFactory.GetInfo(insn, InstructionInfoOptions.NoRegisterUsage);
        foreach (var used in info.GetUsedMemory())
            if (Accesses(used.Access, kind)) return true;
        return false;
    }

    private static bool Accesses(OpAccess access, AccessKind kind) => kind == AccessKind.Write
        ? access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite
        : access is OpAccess.Read or OpAccess.CondRead or OpAccess.ReadWrite or OpAccess.ReadCondWrite;

    private int AddOperand(in Instruction insn, in UsedMemory used, Span<MemoryRange> into)
    {
        int size = used.MemorySize.GetSize();
        if (used.MemorySize == MemorySize.Unknown && insn.IsStringInstruction)
        {
            // REP MOVS/STOS/LODS/CMPS/SCAS: the trap flag raises the single-step trap after *each
            // iteration* of a repeated string instruction (rip stays on it until rcx reaches 0), so one
            // step accesses one element at rsi / rdi. rcx = 0 means the instruction ends without
            // touching memory. The direction flag only decides whether rsi/rdi then move up or down:
            // this step's element is at rsi / rdi either way. Measured on this machine: rep stosb with
            // rcx=100 stops 100 times at the rep.
            if (RepCounter(used.AddressSize) == 0) return 0;
            size = insn.MemorySize.GetSize();
        }
        else if (size == 0 && IsXsave(used.MemorySize))
            size = _xsaveSize;

        if (!used.TryGetVirtualAddress(0, _registers, out ulong address))
            return 0; // every register Iced asks for here is a GPR or segment: cannot happen.
        if (used.MemorySize == MemorySize.Tile)
            return AddTileRows(insn, address, into);
        if (IsBitString(insn))
            address = BitStringAddress(insn, used, address, size);
        into[0] = new MemoryRange(address, size);
        return 1;
    }

    /// <summary>rcx, ecx or cx (by the string instruction's address size) before the step.</summary>
    private ulong RepCounter(CodeSize addressSize)
    {
        ulong rcx = _registers.Registers[Slot.Rcx];
        return addressSize switch
        {
            CodeSize.Code16 => (ushort)rcx,
            CodeSize.Code32 => (uint)rcx,
            _ => rcx,
        };
    }

    private static bool IsXsave(MemorySize size) => size is MemorySize.Xsave or MemorySize.Xsave64;

    private static bool IsBitString(in Instruction insn) =>
        insn.Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc
        && insn.Op0Kind == OpKind.Memory && insn.Op1Kind == OpKind.Register;

    /// <summary>
    /// BT/BTS/BTR/BTC m, reg treat memory as a bit string: the register is a *signed* bit offset that
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
    /// A scatter writes, a gather reads, one element per index lane (lanes whose mask bit is clear
    /// are skipped by the CPU; we do not know the mask, so every lane is counted — conservative: a
    /// skipped lane's bytes are simply unchanged, but may sit in unmapped memory).
    /// </summary>
    private int AddVectorElements(in Instruction insn, in UsedMemory used, Span<MemoryRange> into)
    {
        int elementSize = used.MemorySize.GetSize();
        int indexLanes = insn.MemoryIndex.GetSize() / used.VsibSize;
        // The data register: a scatter's source (after the memory operand), a gather's destination.
        var data = insn.Op0Kind == OpKind.Memory ? insn.Op1Register : insn.Op0Register;
        int dataLanes = data.GetSize() / elementSize;
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
