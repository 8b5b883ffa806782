using Ether.Replay.Formats.Instructions;
using Ether.Replay.Recorder.Instructions;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Ether.Replay.Recorder.Tests.Instructions.OperandRegisters;
using Register = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Recorder.Tests.Instructions;

public class WrittenOperandsTests
{
    private const int FixedXsave = 1000;

    private static MemoryRange[] Written(in Instruction insn, in RegisterFile regs)
    {
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        int n = new MemoryOperands(xsaveSize: FixedXsave, cacheLineSize: 64).ComputeWrites(insn, regs, into);
        Assert.True(n >= 0, $"{insn}: unresolved");
        return into[..n];
    }

    private static MemoryRange[] Written(Action<Assembler> emit, RegisterFile? regs = null, int bitness = 64) =>
        Written(Asm.One(emit, bitness: bitness), regs ?? Registers());

    // --- plain stores and addressing ---

    [Fact]
    public void Store_with_base_index_scale_displacement()
    {
        Assert.Equal([R(Rax + Rbx * 4 + 0x10, 4)], Written(a => a.mov(__dword_ptr[rax + rbx * 4 + 0x10], ecx)));
    }

    [Fact]
    public void Negative_displacement_wraps_like_the_cpu()
    {
        Assert.Equal([R(Rax - 0x80, 1)], Written(a => a.mov(__byte_ptr[rax - 0x80], cl)));
    }

    [Fact]
    public void Loads_compares_lea_and_register_ops_write_nothing()
    {
        Assert.Empty(Written(a => a.mov(rcx, __qword_ptr[rax])));
        Assert.Empty(Written(a => a.cmp(__qword_ptr[rax], rcx)));
        Assert.Empty(Written(a => a.lea(rcx, __[rax + 8])));
        Assert.Empty(Written(a => a.add(rax, rbx)));
        Assert.Empty(Written(a => a.ret()));
        Assert.Empty(Written(a => a.bt(__qword_ptr[rax], rcx)));
        Assert.Empty(Written(a => a.prefetchw(__[rax])));
    }

    [Fact]
    public void Rip_relative_store_is_relative_to_the_next_rip()
    {
        // mov [rip+0x100], rcx = 48 89 0d 00 01 00 00 (7 bytes) at 0x401000
        var insn = Asm.Decode([0x48, 0x89, 0x0d, 0x00, 0x01, 0x00, 0x00], ip: 0x401000);
        Assert.Equal([R(0x401007 + 0x100, 8)], Written(insn, Registers()));
    }

    [Fact]
    public void Fs_and_gs_overrides_add_the_segment_base()
    {
        Assert.Equal([R(FsBase + Rax + 8, 8)], Written(a => a.mov(__qword_ptr.fs[rax + 8], rcx)));
        Assert.Equal([R(GsBase + 0x28, 8)], Written(a => a.mov(__qword_ptr.gs[0x28], rcx)));
        // A ds/es/ss override is base 0 in 64-bit mode.
        Assert.Equal([R(Rax, 8)], Written(a => a.mov(__qword_ptr.es[rax], rcx)));
    }

    [Fact]
    public void Address_size_prefix_uses_32_bit_registers()
    {
        var regs = Registers();
        regs[Register.Rax] = 0xdead_0000_1000;
        // mov [eax+4], ecx (67 89 48 04): the high half of rax is ignored.
        var insn = Asm.Decode([0x67, 0x89, 0x48, 0x04]);
        Assert.Equal([R(0x1004, 4)], Written(insn, regs));
    }

    [Fact]
    public void Setcc_writes_one_byte()
    {
        Assert.Equal([R(Rax, 1)], Written(a => a.sete(__byte_ptr[rax])));
    }

    // --- stack ---

    [Fact]
    public void Push_call_pushf_write_below_rsp()
    {
        Assert.Equal([R(Rsp - 8, 8)], Written(a => a.push(rax)));
        Assert.Equal([R(Rsp - 8, 8)], Written(a => a.push(0x1234)));
        Assert.Equal([R(Rsp - 2, 2)], Written(a => a.push(__word_ptr[rax])));
        Assert.Equal([R(Rsp - 8, 8)], Written(a => a.call(0x402000)));
        Assert.Equal([R(Rsp - 8, 8)], Written(a => a.call(rax)));
        Assert.Equal([R(Rsp - 8, 8)], Written(a => a.pushfq()));
    }

    [Fact]
    public void Push_from_memory_writes_only_the_stack()
    {
        Assert.Equal([R(Rsp - 8, 8)], Written(a => a.push(__qword_ptr[rax])));
    }

    [Fact]
    public void Enter_pushes_rbp_the_display_and_the_frame_pointer()
    {
        // enter 16, 3: push rbp; push [rbp-8]; push [rbp-16]; push frame temp.
        Assert.Equal([R(Rsp - 8, 8), R(Rsp - 16, 8), R(Rsp - 24, 8), R(Rsp - 32, 8)],
            Written(a => a.enter(16, 3)));
        Assert.Equal([R(Rsp - 8, 8)], Written(a => a.enter(32, 0)));
    }

    [Fact]
    public void Pop_to_memory_writes_the_destination()
    {
        Assert.Equal([R(Rax, 8)], Written(a => a.pop(__qword_ptr[rax])));
        // With rsp as base the CPU computes the address after incrementing rsp.
        Assert.Equal([R(Rsp + 8 + 8, 8)], Written(a => a.pop(__qword_ptr[rsp + 8])));
        Assert.Empty(Written(a => a.pop(rax)));
    }

    // --- string instructions ---

    [Fact]
    public void Rep_stos_writes_one_element_per_step_at_rdi()
    {
        Assert.Equal([R(Rdi, 1)], Written(a => a.rep.stosb()));
        Assert.Equal([R(Rdi, 8)], Written(a => a.rep.stosq()));
        Assert.Equal([R(Rdi, 4)], Written(a => a.repne.stosd())); // F2 repeats STOS too
    }

    [Fact]
    public void Rep_with_rcx_zero_writes_nothing()
    {
        var regs = Registers();
        regs[Register.Rcx] = 0;
        Assert.Empty(Written(a => a.rep.stosb(), regs));
        Assert.Empty(Written(a => a.rep.movsq(), regs));
    }

    [Fact]
    public void Rep_with_direction_flag_set_still_writes_at_rdi()
    {
        var regs = Registers();
        regs[Register.Rflags] = 0x202 | 0x400; // DF
        Assert.Equal([R(Rdi, 2)], Written(a => a.rep.stosw(), regs));
        Assert.Equal([R(Rdi, 8)], Written(a => a.rep.movsq(), regs));
    }

    [Fact]
    public void Rep_counter_follows_the_address_size()
    {
        var regs = Registers();
        regs[Register.Rcx] = 0x1_0000_0000; // ecx = 0
        regs[Register.Rdi] = 0xdead_0000_2000;
        // 67 f3 ab = rep stos dword ptr [edi]: counts with ecx, stores at edi.
        Assert.Empty(Written(Asm.Decode([0x67, 0xf3, 0xab]), regs));
        regs[Register.Rcx] = 0x1_0000_0001;
        Assert.Equal([R(0x2000, 4)], Written(Asm.Decode([0x67, 0xf3, 0xab]), regs));
    }

    [Fact]
    public void Unrepeated_string_ops_ignore_rcx()
    {
        var regs = Registers();
        regs[Register.Rcx] = 0;
        Assert.Equal([R(Rdi, 1)], Written(a => a.movsb(), regs));
        Assert.Equal([R(Rdi, 4)], Written(a => a.stosd(), regs));
        Assert.Empty(Written(a => a.lodsb(), regs));
        Assert.Empty(Written(a => a.rep.cmpsb(), regs));
    }

    // --- read-modify-write ---

    [Fact]
    public void Exchange_and_atomic_ops_write_their_memory_operand()
    {
        Assert.Equal([R(Rax, 8)], Written(a => a.xchg(__qword_ptr[rax], rcx)));
        Assert.Equal([R(Rax, 4)], Written(a => a.@lock.cmpxchg(__dword_ptr[rax], ecx)));
        Assert.Equal([R(Rax, 16)], Written(a => a.cmpxchg16b(__[rax])));
        Assert.Equal([R(Rax, 8)], Written(a => a.cmpxchg8b(__[rax])));
        Assert.Equal([R(Rax, 2)], Written(a => a.xadd(__word_ptr[rax], cx)));
        Assert.Equal([R(Rax, 8)], Written(a => a.add(__qword_ptr[rax], rcx)));
        Assert.Equal([R(Rax, 4)], Written(a => a.inc(__dword_ptr[rax])));
    }

    [Fact]
    public void Bit_string_ops_with_a_register_offset_reach_beyond_the_operand()
    {
        var regs = Registers();
        regs[Register.Rcx] = 1000; // bit 1000 = qword 15
        Assert.Equal([R(Rax + 15 * 8, 8)], Written(a => a.bts(__qword_ptr[rax], rcx), regs));
        Assert.Equal([R(Rax + 31 * 4, 4)], Written(a => a.btr(__dword_ptr[rax], ecx), regs));
        regs[Register.Rcx] = unchecked((ulong)-1L); // bit -1 = the word before
        Assert.Equal([R(Rax - 8, 8)], Written(a => a.btc(__qword_ptr[rax], rcx), regs));
        regs[Register.Rcx] = 0xFFFF_FFFF_0000_FFFF; // cx = -1 as a 16-bit offset
        Assert.Equal([R(Rax - 2, 2)], Written(a => a.bts(__word_ptr[rax], cx), regs));
        regs[Register.Rcx] = 0x0000_0000_8000_0000; // ecx = int.MinValue
        Assert.Equal([R(Rax - 0x1000_0000, 4)], Written(a => a.bts(__dword_ptr[rax], ecx), regs));
    }

    [Fact]
    public void Bit_string_ops_with_an_immediate_stay_in_the_operand()
    {
        Assert.Equal([R(Rax, 4)], Written(a => a.bts(__dword_ptr[rax], 37)));
        Assert.Equal([R(Rax, 8)], Written(a => a.btr(__qword_ptr[rax], 63)));
    }

    // --- SSE / AVX / AVX-512 ---

    [Fact]
    public void Vector_stores_write_the_whole_vector()
    {
        Assert.Equal([R(Rax, 16)], Written(a => a.movaps(__[rax], xmm1)));
        Assert.Equal([R(Rax, 16)], Written(a => a.movdqu(__[rax], xmm1)));
        Assert.Equal([R(Rax, 32)], Written(a => a.vmovdqu(__[rax], ymm1)));
        Assert.Equal([R(Rax, 64)], Written(a => a.vmovdqu64(__[rax], zmm1)));
        Assert.Equal([R(Rax, 8)], Written(a => a.movnti(__[rax], rcx)));
        Assert.Equal([R(Rax, 8)], Written(a => a.movq(__qword_ptr[rax], xmm1)));
        Assert.Equal([R(Rax, 4)], Written(a => a.extractps(__dword_ptr[rax], xmm1, 2)));
    }

    [Fact]
    public void Masked_stores_record_the_full_vector()
    {
        Assert.Equal([R(Rdi, 16)], Written(a => a.maskmovdqu(xmm1, xmm2)));
        Assert.Equal([R(Rax, 32)], Written(a => a.vmaskmovps(__[rax], ymm1, ymm2)));
        Assert.Equal([R(Rax, 64)], Written(a => a.vmovdqu32(__[rax].k1, zmm1)));
        Assert.Equal([R(Rax, 64)], Written(a => a.vpcompressd(__[rax].k1, zmm1)));
    }

    [Fact]
    public void Scatter_needs_the_index_register_and_then_writes_one_element_per_lane()
    {
        var insn = Asm.One(a => a.vpscatterdd(__[rax + zmm1 * 4 + 8].k1, zmm2));
        Assert.True(MemoryOperands.NeedsVectorIndex(insn));
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        var written = HostCpu.NewOperands();
        Assert.Equal(MemoryOperands.Unresolved, written.ComputeWrites(insn, Registers(), into));

        var index = new byte[64];
        for (int lane = 0; lane < 16; lane++)
            BitConverter.TryWriteBytes(index.AsSpan(lane * 4), lane == 3 ? -5 : lane * 100);
        int n = written.ComputeWrites(insn, Registers(), index, into);
        Assert.Equal(16, n);
        for (int lane = 0; lane < 16; lane++)
        {
            long idx = lane == 3 ? -5 : lane * 100;
            Assert.Equal(R((ulong)((long)Rax + idx * 4 + 8), 4), into[lane]);
        }
    }

    [Fact]
    public void Scatter_with_qword_indices_and_dword_data_has_as_many_lanes_as_indices()
    {
        // vpscatterqd [rax+zmm1*8]{k1}, ymm2: 8 qword indices, 8 dword elements.
        var insn = Asm.One(a => a.vpscatterqd(__[rax + zmm1 * 8].k1, ymm2));
        var index = new byte[64];
        for (int lane = 0; lane < 8; lane++) BitConverter.TryWriteBytes(index.AsSpan(lane * 8), (long)lane);
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        int n = HostCpu.NewOperands().ComputeWrites(insn, Registers(), index, into);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => R(Rax + (ulong)i * 8, 4)), into[..n]);
    }

    [Fact]
    public void Gathers_need_a_vector_index_but_write_no_memory_and_ordinary_stores_need_none()
    {
        Assert.True(MemoryOperands.NeedsVectorIndex(Asm.One(a => a.vpgatherdd(zmm1.k1, __[rax + zmm2 * 4]))));
        Assert.False(MemoryOperands.NeedsVectorIndex(Asm.One(a => a.mov(__[rax], rcx))));
        // A gather reads memory and writes registers only.
        Assert.Empty(Written(a => a.vpgatherdd(zmm1.k1, __[rax + zmm2 * 4])));
    }

    // --- state saves and x87 ---

    [Fact]
    public void Fxsave_writes_512_bytes()
    {
        Assert.Equal([R(Rax, 512)], Written(a => a.fxsave(__[rax])));
        Assert.Equal([R(Rax, 512)], Written(a => a.fxsave64(__[rax])));
    }

    [Fact]
    public void Xsave_family_writes_the_xsave_area_size()
    {
        Assert.Equal([R(Rax, FixedXsave)], Written(a => a.xsave(__[rax])));
        Assert.Equal([R(Rax, FixedXsave)], Written(a => a.xsave64(__[rax])));
        Assert.Equal([R(Rax, FixedXsave)], Written(a => a.xsavec(__[rax])));
        Assert.Equal([R(Rax, FixedXsave)], Written(a => a.xsaveopt(__[rax])));
        Assert.Equal([R(Rax, FixedXsave)], Written(a => a.xsaves(__[rax])));
        Assert.Empty(Written(a => a.xrstor(__[rax])));
    }

    [Fact]
    public void Host_xsave_area_is_at_least_legacy_plus_header()
    {
        Assert.True(HostCpu.XsaveAreaSize >= MemoryOperands.MinimumXsaveArea);
        Assert.True(HostCpu.CacheLineSize is 32 or 64 or 128);
    }

    [Fact]
    public void X87_environment_state_and_extended_stores()
    {
        Assert.Equal([R(Rax, 28)], Written(a => a.fnstenv(__[rax])));
        Assert.Equal([R(Rax, 108)], Written(a => a.fnsave(__[rax])));
        Assert.Equal([R(Rax, 10)], Written(a => a.fstp(__tword_ptr[rax])));
        Assert.Equal([R(Rax, 10)], Written(a => a.fbstp(__tword_ptr[rax])));
        Assert.Equal([R(Rax, 2)], Written(a => a.fnstcw(__word_ptr[rax])));
        Assert.Equal([R(Rax, 4)], Written(a => a.stmxcsr(__dword_ptr[rax])));
        // 66 d9 30 = fnstenv with 16-bit operand size: the 14-byte layout.
        Assert.Equal([R(Rax, 14)], Written(Asm.Decode([0x66, 0xd9, 0x30]), Registers()));
    }

    [Fact]
    public void Clzero_clears_the_cache_line_holding_rax()
    {
        var regs = Registers();
        regs[Register.Rax] = 0x7000_0000_10a7;
        Assert.Equal([R(0x7000_0000_1080, 64)], Written(a => a.clzero(), regs));
    }

    [Fact]
    public void Tilestored_writes_sixteen_rows_at_the_index_stride()
    {
        var regs = Registers();
        regs[Register.Rcx] = 0x100; // stride
        var expected = Enumerable.Range(0, 16).Select(row => R(Rax + 8 + (ulong)row * 0x100, 64));
        Assert.Equal(expected, Written(a => a.tilestored(__[rax + rcx * 1 + 8], tmm1), regs));
    }

    [Fact]
    public void Movdir64b_writes_64_bytes_at_the_register_address()
    {
        Assert.Equal([R(Rax, 64)], Written(a => a.movdir64b(rax, __[rcx])));
    }

    // --- 32-bit code (int 0x80 programs) ---

    private static RegisterFile Registers32()
    {
        var r = new RegisterFile();
        r[Register.Rax] = 0x0804_a000; r[Register.Rbx] = 3; r[Register.Rcx] = 2; r[Register.Rdi] = 0x0805_0000;
        r[Register.Rsp] = 0xffff_d000; r[Register.GsBase] = 0xf7e0_0000;
        return r;
    }

    [Fact]
    public void Thirty_two_bit_stores_stack_and_tls()
    {
        var regs = Registers32();
        Assert.Equal([R(0x0804_a000 + 3 * 4 + 8, 4)], Written(a => a.mov(__dword_ptr[eax + ebx * 4 + 8], ecx), regs, 32));
        Assert.Equal([R(0xf7e0_0000 + 0x14, 4)], Written(a => a.mov(__dword_ptr.gs[0x14], ecx), regs, 32));
        Assert.Equal([R(0xffff_d000 - 4, 4)], Written(a => a.push(eax), regs, 32));
        Assert.Equal([R(0xffff_d000 - 4, 4)], Written(a => a.call(0x0804_9000), regs, 32));
        Assert.Equal([R(0x0805_0000, 4)], Written(a => a.rep.stosd(), regs, 32));
    }

    [Fact]
    public void Thirty_two_bit_pushad_writes_eight_slots()
    {
        var written = Written(a => a.pushad(), Registers32(), 32);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => R(0xffff_d000 - (ulong)(4 * i), 4)), written);
    }

    [Fact]
    public void Thirty_two_bit_stack_wraps_at_four_gigabytes()
    {
        var regs = Registers32();
        regs[Register.Rsp] = 0;
        Assert.Equal([R(0xffff_fffc, 4)], Written(a => a.push(eax), regs, 32));
    }
}

public class MayWriteTests
{
    /// <summary>
    /// MayWrite lets the step loop skip Compute: over real code (this machine's libc), an
    /// instruction it clears must never write, whatever the registers hold.
    /// </summary>
    [Fact]
    public void Instructions_that_may_not_write_never_do_over_real_code()
    {
        var libc = File.ReadAllBytes("/usr/lib/x86_64-linux-gnu/libc.so.6");
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(libc));
        decoder.IP = 0;
        var written = HostCpu.NewOperands();
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        var rng = new Random(7);
        int mayWrite = 0, never = 0;
        for (int i = 0; i < 200_000 && decoder.IP < (ulong)libc.Length - 15; i++)
        {
            var insn = decoder.Decode();
            if (insn.IsInvalid) continue;
            var regs = new RegisterFile();
            for (int r = 0; r < Formats.Model.Registers.Count; r++) regs[r] = (ulong)rng.NextInt64();
            regs[Register.Rcx] = 1 + (ulong)rng.Next(100);
            int n = written.ComputeWrites(insn, regs, into);
            if (written.MayWrite(insn)) mayWrite++;
            else
            {
                never++;
                Assert.True(n == 0, $"{insn} at {insn.IP:x} wrote {n} ranges but MayWrite said no");
            }
            if (n != 0 && n != MemoryOperands.Unresolved) Assert.True(written.MayWrite(insn), $"{insn}");
        }
        Assert.True(mayWrite > 1000 && never > 10_000, $"{mayWrite} may write, {never} never");
    }
}
