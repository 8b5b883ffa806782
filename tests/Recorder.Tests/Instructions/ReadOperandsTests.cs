using Ether.Replay.Formats.Instructions;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Ether.Replay.Recorder.Tests.Instructions.OperandRegisters;
using Register = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Recorder.Tests.Instructions;

/// <summary>The read half of <see cref="MemoryOperands"/>: which bytes a step reads, before it runs.
/// (The live-process check of every read operand is the recorder's read oracle test.)</summary>
public class ReadOperandsTests
{
    private static MemoryRange[] Read(Action<Assembler> emit, RegisterFile? regs = null)
    {
        var insn = Asm.One(emit);
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        int n = new MemoryOperands(xsaveSize: 1000).ComputeReads(insn, regs ?? Registers(), into);
        Assert.True(n >= 0, $"{insn}: unresolved");
        return into[..n];
    }

    [Fact]
    public void Loads_compares_and_segment_bases()
    {
        Assert.Equal([R(Rax + Rbx * 8 + 0x10, 8)], Read(a => a.mov(rcx, __qword_ptr[rax + rbx * 8 + 0x10])));
        Assert.Equal([R(Rax, 4)], Read(a => a.cmp(__dword_ptr[rax], ecx)));
        Assert.Equal([R(FsBase + 0x28, 8)], Read(a => a.mov(rcx, __qword_ptr.fs[0x28])));
        Assert.Equal([R(Rax, 2)], Read(a => a.movzx(ecx, __word_ptr[rax])));
    }

    [Fact]
    public void Stores_lea_register_ops_and_prefetches_read_nothing()
    {
        Assert.Empty(Read(a => a.mov(__qword_ptr[rax], rcx)));
        Assert.Empty(Read(a => a.lea(rcx, __[rax + 8])));
        Assert.Empty(Read(a => a.add(rax, rbx)));
        Assert.Empty(Read(a => a.prefetcht0(__[rax])));
        Assert.Empty(Read(a => a.push(rcx)));
    }

    [Fact]
    public void Read_modify_write_operands_are_read_too()
    {
        Assert.Equal([R(Rax, 8)], Read(a => a.add(__qword_ptr[rax], rcx)));
        Assert.Equal([R(Rax, 4)], Read(a => a.xchg(__dword_ptr[rax], ecx)));
        Assert.Equal([R(Rax, 8)], Read(a => a.@lock.cmpxchg(__qword_ptr[rax], rcx)));
    }

    [Fact]
    public void Stack_reads_of_pop_ret_and_leave()
    {
        Assert.Equal([R(Rsp, 8)], Read(a => a.pop(rcx)));
        Assert.Equal([R(Rsp, 8)], Read(a => a.ret()));
        Assert.Equal([R(Rbp, 8)], Read(a => a.leave()));
        // push [mem] reads the operand (and writes the stack).
        Assert.Equal([R(Rax, 8)], Read(a => a.push(__qword_ptr[rax])));
    }

    [Fact]
    public void Rep_string_reads_one_element_per_step_and_nothing_when_rcx_is_zero()
    {
        Assert.Equal([R(Rsi, 1)], Read(a => a.rep.movsb()));
        Assert.Equal([R(Rsi, 8)], Read(a => a.rep.movsq()));
        Assert.Empty(Read(a => a.rep.movsb(), Registers((ref RegisterFile r) => r[Register.Rcx] = 0)));
        Assert.Equal([R(Rdi, 1), R(Rsi, 1)], Read(a => a.repe.cmpsb()).OrderBy(r => r.Address));
        Assert.Equal([R(Rdi, 4)], Read(a => a.repne.scasd()));
        Assert.Equal([R(Rsi, 1)], Read(a => a.lodsb()));
        // Without REP the element is read whatever rcx holds.
        Assert.Equal([R(Rsi, 1)], Read(a => a.movsb(), Registers((ref RegisterFile r) => r[Register.Rcx] = 0)));
    }

    [Fact]
    public void Bit_test_with_a_register_offset_reads_the_word_the_offset_selects()
    {
        // bt [rax], rcx with rcx = 200: bit 200 of the string lives in the qword at rax + 24.
        Assert.Equal([R(Rax + 24, 8)], Read(a => a.bt(__qword_ptr[rax], rcx), Registers((ref RegisterFile r) => r[Register.Rcx] = 200)));
        Assert.Equal([R(Rax - 8, 8)], Read(a => a.bts(__qword_ptr[rax], rcx), Registers((ref RegisterFile r) => r[Register.Rcx] = unchecked((ulong)-1L))));
        // An immediate offset is taken modulo the width.
        Assert.Equal([R(Rax, 4)], Read(a => a.bt(__dword_ptr[rax], 100)));
    }

    [Fact]
    public void State_restores_read_the_whole_area()
    {
        Assert.Equal([R(Rax, 512)], Read(a => a.fxrstor64(__[rax])));
        Assert.Equal([R(Rax, 1000)], Read(a => a.xrstor64(__[rax])));
    }

    [Fact]
    public void Gather_needs_its_index_register_and_then_reads_one_element_per_lane()
    {
        var insn = Asm.One(a => a.vpgatherdd(zmm1.k1, __[rax + zmm2 * 4 + 8]));
        var operands = new MemoryOperands(xsaveSize: 1000);
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        Assert.Equal(MemoryOperands.Unresolved, operands.ComputeReads(insn, Registers(), into));
        var index = new byte[64];
        for (int lane = 0; lane < 16; lane++) BitConverter.TryWriteBytes(index.AsSpan(lane * 4), lane * 3);
        int n = operands.ComputeReads(insn, Registers(), index, into);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => R(Rax + 8 + (ulong)i * 12, 4)), into[..n]);
    }

    [Fact]
    public void May_read_is_fixed_per_instruction()
    {
        var operands = new MemoryOperands(xsaveSize: 1000);
        Assert.True(operands.MayRead(Asm.One(a => a.mov(rcx, __qword_ptr[rax]))));
        Assert.True(operands.MayRead(Asm.One(a => a.rep.movsb())));
        Assert.False(operands.MayRead(Asm.One(a => a.mov(__qword_ptr[rax], rcx))));
        Assert.False(operands.MayRead(Asm.One(a => a.lea(rcx, __[rax]))));
        Assert.False(operands.MayRead(Asm.One(a => a.nop())));
    }
}
