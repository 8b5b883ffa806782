using Ether.Replay.Formats.Instructions;
using Ether.Replay.Recorder.Instructions;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using Case = Ether.Replay.Recorder.Tests.Instructions.NativeStoreProbe.Case;
using Register = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Recorder.Tests.Instructions;

/// <summary>
/// Differential check against the real CPU: every byte an instruction changed must lie in a range
/// MemoryOperands.ComputeWrites computed (sound), and every computed range must hold a changed byte (tight) —
/// except where the computation is knowingly conservative.
/// </summary>
public class WrittenOperandsNativeTests
{
    private const ulong CodePage = 0x2000_0000;
    private const ulong Data = NativeStoreProbe.ArenaBase + 0x40000;
    private const ulong Stack = NativeStoreProbe.ArenaBase + 0xC0000;

    private sealed class Spec
    {
        public required Case Case { get; init; }
        /// <summary>Ranges may include bytes the CPU leaves alone (XSAVEOPT skips unmodified state).</summary>
        public bool Conservative { get; init; }
    }

    private static readonly Random Rng = new(20261126);

    private static Case NewCase(string name, Action<Assembler> emit, Action<Case>? setup = null)
    {
        var assembler = new Assembler(64);
        emit(assembler);
        var c = new Case { Name = name, Code = Asm.Bytes(assembler, CodePage) };
        // Every GPR points into the arena by default, 64-byte aligned and far apart.
        for (int r = 0; r < 16; r++) c.Gpr[r] = Data + (ulong)r * 0x2000;
        c.Gpr[(int)Register.Rsp] = Stack;
        c.Gpr[(int)Register.Rbp] = Stack + 0x400;
        Rng.NextBytes(c.Zmm);
        setup?.Invoke(c);
        return c;
    }

    private static ulong Differs(ulong address, ulong value) =>
        (value & ~0xFFUL) | (byte)(NativeStoreProbe.Pattern(address) ^ 0x5A);

    private static ulong PatternQword(ulong address)
    {
        ulong v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | NativeStoreProbe.Pattern(address + (ulong)i);
        return v;
    }

    private static IEnumerable<Spec> HandPicked()
    {
        const int RAX = (int)Register.Rax, RBX = (int)Register.Rbx, RCX = (int)Register.Rcx, RDX = (int)Register.Rdx;
        const int RSI = (int)Register.Rsi, RDI = (int)Register.Rdi;

        Spec S(string name, Action<Assembler> emit, Action<Case>? setup = null, bool conservative = false) =>
            new() { Case = NewCase(name, emit, setup), Conservative = conservative };

        yield return S("push rax", a => a.push(rax));
        yield return S("push imm", a => a.push(0x1234567));
        yield return S("pushfq", a => a.pushfq());
        yield return S("push word [rax]", a => a.push(__word_ptr[rax]));
        // The popped value comes from the arena too: offset rax so the pattern differs there.
        yield return S("pop [rax]", a => a.pop(__qword_ptr[rax]), c => c.Gpr[RAX] += 0x40);
        yield return S("pop [rsp+8]", a => a.pop(__qword_ptr[rsp + 8]));
        yield return S("enter 16,3", a => a.enter(16, 3));
        yield return S("enter 32,0", a => a.enter(32, 0));

        yield return S("rep stosb rcx=1", a => a.rep.stosb(), c => { c.Gpr[RCX] = 1; c.Gpr[RAX] = 0x77; });
        yield return S("rep stosq rcx=1 DF=1", a => a.rep.stosq(), c => { c.Gpr[RCX] = 1; c.Rflags |= 0x400; });
        yield return S("rep movsq rcx=1", a => a.rep.movsq(), c => c.Gpr[RCX] = 1);
        yield return S("rep movsb rcx=1 DF=1", a => a.rep.movsb(), c => { c.Gpr[RCX] = 1; c.Rflags |= 0x400; });
        yield return S("rep stosb rcx=0", a => a.rep.stosb(), c => c.Gpr[RCX] = 0);
        yield return S("addr32 rep stosd ecx=1", a => a.db(0x67, 0xf3, 0xab),
            c => { c.Gpr[RCX] = 0x1_0000_0001; c.Gpr[RDI] |= 0xdead_0000_0000; });
        yield return S("movsb", a => a.movsb(), c => c.Gpr[RCX] = 0);
        yield return S("stosd", a => a.stosd());

        yield return S("xchg [rax],rcx", a => a.xchg(__qword_ptr[rax], rcx));
        yield return S("lock cmpxchg [rbx],rcx", a => a.@lock.cmpxchg(__qword_ptr[rbx], rcx),
            c => c.Gpr[RAX] = PatternQword(c.Gpr[RBX]));
        yield return S("lock cmpxchg16b [rsi]", a => a.@lock.cmpxchg16b(__[rsi]),
            c => { c.Gpr[RAX] = PatternQword(c.Gpr[RSI]); c.Gpr[RDX] = PatternQword(c.Gpr[RSI] + 8); });
        yield return S("cmpxchg8b [rsi]", a => a.cmpxchg8b(__[rsi]), c =>
        {
            ulong old = PatternQword(c.Gpr[RSI]);
            c.Gpr[RAX] = (uint)old; c.Gpr[RDX] = old >> 32;
        });
        yield return S("xadd [rax],ecx", a => a.xadd(__dword_ptr[rax], ecx), c => c.Gpr[RCX] = 0x1111);
        yield return S("add [rax],rcx", a => a.add(__qword_ptr[rax], rcx));
        yield return S("inc dword [rax]", a => a.inc(__dword_ptr[rax]));
        yield return S("sete [rax]", a => a.sete(__byte_ptr[rax]));
        yield return S("setne [rax]", a => a.setne(__byte_ptr[rax]));

        yield return S("movaps", a => a.movaps(__[rax], xmm0));
        yield return S("movdqu", a => a.movdqu(__[rax + 3], xmm1));
        yield return S("vmovdqu ymm", a => a.vmovdqu(__[rax + 5], ymm2));
        yield return S("vmovdqu64 zmm", a => a.vmovdqu64(__[rax], zmm3));
        yield return S("movnti", a => a.movnti(__[rax], rcx));
        yield return S("maskmovdqu", a => a.maskmovdqu(xmm0, xmm2));
        yield return S("vmaskmovps", a => a.vmaskmovps(__[rax], ymm1, ymm2));
        yield return S("vmovdqu32 {k1}", a => a.vmovdqu32(__[rax].k1, zmm1));
        yield return S("vpcompressd {k1}", a => a.vpcompressd(__[rax].k1, zmm1));
        yield return S("vpscatterdd", a => a.vpscatterdd(__[rax + zmm1 * 4 + 8].k1, zmm2), c =>
        {
            for (int lane = 0; lane < 16; lane++)
                BitConverter.TryWriteBytes(c.Zmm.AsSpan(64 + lane * 4), lane * 37 - 200);
        });
        yield return S("vpscatterqq", a => a.vpscatterqq(__[rax + zmm1 * 8].k1, zmm2), c =>
        {
            for (int lane = 0; lane < 8; lane++)
                BitConverter.TryWriteBytes(c.Zmm.AsSpan(64 + lane * 8), (long)(lane * 5 - 20));
        });

        yield return S("fxsave", a => a.fxsave(__[rax]));
        yield return S("fxsave64", a => a.fxsave64(__[rax]));
        yield return S("xsave", a => a.xsave(__[rbx]), c => { c.Gpr[RAX] = 0xFFFF_FFFF; c.Gpr[RDX] = 0xFFFF_FFFF; },
            conservative: true);
        yield return S("xsavec", a => a.xsavec(__[rbx]), c => { c.Gpr[RAX] = 0xFFFF_FFFF; c.Gpr[RDX] = 0xFFFF_FFFF; },
            conservative: true);
        yield return S("xsaveopt", a => a.xsaveopt(__[rbx]), c => { c.Gpr[RAX] = 0xFFFF_FFFF; c.Gpr[RDX] = 0xFFFF_FFFF; },
            conservative: true);
        yield return S("fnstenv", a => a.fnstenv(__[rax]));
        yield return S("fnsave", a => a.fnsave(__[rax]));
        yield return S("fstp m80", a => a.fstp(__tword_ptr[rax]));
        yield return S("fnstcw", a => a.fnstcw(__word_ptr[rax]));
        yield return S("stmxcsr", a => a.stmxcsr(__dword_ptr[rax]));
        if (File.ReadAllText("/proc/cpuinfo").Contains(" clzero"))
            yield return S("clzero", a => a.clzero(), c => c.Gpr[RAX] += 0x17);
    }

    private static readonly AssemblerRegister64[] Gpr =
        [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
    private static readonly int[] SlotOfEncoding = [0, 2, 3, 1, 7, 6, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15];

    /// <summary>mov [base+index*scale+disp], r15 of every width; r15 holds the data.</summary>
    private static IEnumerable<Spec> RandomStores(int count)
    {
        for (int i = 0; i < count; i++)
        {
            int baseEnc = Rng.Next(15), indexEnc = Rng.Next(15); // never r15
            bool hasIndex = indexEnc != 4 && indexEnc != baseEnc && Rng.Next(4) != 0;
            int scale = 1 << Rng.Next(4), width = Rng.Next(4), disp = Rng.Next(-0x800, 0x800);
            long indexValue = Rng.Next(-0x400, 0x400);
            var c = NewCase($"random store {i}", a =>
            {
                var factory = width switch { 0 => __byte_ptr, 1 => __word_ptr, 2 => __dword_ptr, _ => __qword_ptr };
                var mem = hasIndex ? factory[Gpr[baseEnc] + Gpr[indexEnc] * scale + disp] : factory[Gpr[baseEnc] + disp];
                switch (width)
                {
                    case 0: a.mov(mem, r15b); break;
                    case 1: a.mov(mem, r15w); break;
                    case 2: a.mov(mem, r15d); break;
                    default: a.mov(mem, r15); break;
                }
            });
            if (hasIndex) c.Gpr[SlotOfEncoding[indexEnc]] = (ulong)indexValue;
            ulong address = c.Gpr[SlotOfEncoding[baseEnc]] + (hasIndex ? (ulong)(indexValue * scale) : 0) + (ulong)(long)disp;
            c.Gpr[15] = Differs(address, (ulong)Rng.NextInt64());
            yield return new Spec { Case = c };
        }
    }

    /// <summary>BTS/BTR/BTC with a register bit offset far outside the operand, chosen so the bit flips.</summary>
    private static IEnumerable<Spec> RandomBitStrings(int count)
    {
        for (int i = 0; i < count; i++)
        {
            int op = Rng.Next(3), width = 1 + Rng.Next(3); // 1=word 2=dword 3=qword
            long offset;
            ulong address;
            while (true)
            {
                offset = Rng.Next(-40000, 40000);
                address = Data + (ulong)(offset >> 3); // the byte holding the bit
                bool set = ((NativeStoreProbe.Pattern(address) >> (int)(offset & 7)) & 1) != 0;
                if (op == 2 || (op == 0 && !set) || (op == 1 && set)) break;
            }
            var c = NewCase($"bit string {i} op={op} width={width} offset={offset}", a =>
            {
                var factory = width switch { 1 => __word_ptr, 2 => __dword_ptr, _ => __qword_ptr };
                var mem = factory[rax];
                switch ((op, width))
                {
                    case (0, 1): a.bts(mem, cx); break;
                    case (0, 2): a.bts(mem, ecx); break;
                    case (0, _): a.bts(mem, rcx); break;
                    case (1, 1): a.btr(mem, cx); break;
                    case (1, 2): a.btr(mem, ecx); break;
                    case (1, _): a.btr(mem, rcx); break;
                    case (_, 1): a.btc(mem, cx); break;
                    case (_, 2): a.btc(mem, ecx); break;
                    default: a.btc(mem, rcx); break;
                }
            });
            if (width == 1 && (offset < short.MinValue || offset > short.MaxValue)) { i--; continue; }
            c.Gpr[(int)Register.Rax] = Data;
            c.Gpr[(int)Register.Rcx] = (ulong)offset | 0xAAAA_0000_0000_0000UL * (width == 3 ? 0UL : 1UL);
            yield return new Spec { Case = c };
        }
    }

    /// <summary>32-bit code in compatibility mode; the high halves of the registers hold garbage the CPU ignores.</summary>
    private static IEnumerable<Spec> Compat()
    {
        const int RAX = (int)Register.Rax, RBX = (int)Register.Rbx, RCX = (int)Register.Rcx, RDX = (int)Register.Rdx;
        const int RSI = (int)Register.Rsi;

        Spec S(string name, Action<Assembler> emit, Action<Case>? setup = null)
        {
            var assembler = new Assembler(32);
            emit(assembler);
            var c = new Case { Name = "32-bit " + name, Code = Asm.Bytes(assembler, CodePage), Bitness = 32 };
            for (int r = 0; r < 16; r++) c.Gpr[r] = Data + (ulong)r * 0x2000;
            c.Gpr[(int)Register.Rsp] = Stack;
            c.Gpr[(int)Register.Rbp] = Stack + 0x400;
            for (int r = 0; r < 8; r++) c.Gpr[r] |= 0xdead_0000_0000UL; // ignored in 32-bit mode
            Rng.NextBytes(c.Zmm);
            setup?.Invoke(c);
            return new Spec { Case = c };
        }

        yield return S("push eax", a => a.push(eax));
        yield return S("push imm", a => a.push(0x1234567));
        yield return S("pushfd", a => a.pushfd());
        yield return S("pushad", a => a.pushad());
        yield return S("push word [eax]", a => a.push(__word_ptr[eax]));
        yield return S("pop [eax]", a => a.pop(__dword_ptr[eax]), c => c.Gpr[RAX] += 0x40);
        yield return S("enter 16,2", a => a.enter(16, 2));
        yield return S("mov [eax+ebx*4+8]", a => a.mov(__dword_ptr[eax + ebx * 4 + 8], ecx), c => c.Gpr[RBX] = 0xdead_0000_0010UL);
        yield return S("mov byte [esi-3]", a => a.mov(__byte_ptr[esi - 3], cl),
            c => c.Gpr[RCX] = Differs(c.Gpr[RSI] - 3 & 0xFFFF_FFFF, 0));
        yield return S("rep stosd ecx=1", a => a.rep.stosd(), c => c.Gpr[RCX] = 0xdead_0000_0001UL);
        yield return S("rep stosb ecx=0", a => a.rep.stosb(), c => c.Gpr[RCX] = 0xdead_0000_0000UL);
        yield return S("rep movsb ecx=1 DF=1", a => a.rep.movsb(), c => { c.Gpr[RCX] = 1; c.Rflags |= 0x400; });
        yield return S("movsd", a => a.movsd());
        yield return S("xchg [eax],ecx", a => a.xchg(__dword_ptr[eax], ecx));
        yield return S("cmpxchg8b [esi]", a => a.cmpxchg8b(__[esi]), c =>
        {
            ulong old = PatternQword(c.Gpr[RSI] & 0xFFFF_FFFF);
            c.Gpr[RAX] = (uint)old; c.Gpr[RDX] = old >> 32;
        });
        yield return S("btc [eax],ecx", a => a.btc(__dword_ptr[eax], ecx), c => c.Gpr[RCX] = unchecked((ulong)-1000L));
        yield return S("fxsave", a => a.fxsave(__[eax]));
        yield return S("fnstenv", a => a.fnstenv(__[eax]));
        yield return S("fnsave", a => a.fnsave(__[eax]));
        yield return S("movdqu", a => a.movdqu(__[eax + 1], xmm1));
        yield return S("setne", a => a.setne(__byte_ptr[eax]));
    }

    [Fact]
    public void Computed_ranges_match_the_bytes_the_cpu_changed()
    {
        var specs = HandPicked().Concat(Compat()).Concat(RandomStores(300)).Concat(RandomBitStrings(100)).ToList();
        var outcomes = NativeStoreProbe.Shared.Execute(specs.Select(s => s.Case).ToList());

        var written = HostCpu.NewOperands();
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        var failures = new List<string>();
        int silent = 0;
        for (int i = 0; i < specs.Count; i++)
        {
            var c = specs[i].Case;
            var insn = Asm.Decode(c.Code, CodePage, c.Bitness);
            var regs = new RegisterFile();
            for (int r = 0; r < 16; r++) regs[r] = c.Gpr[r];
            regs[Register.Rflags] = c.Rflags;
            regs.Rip = CodePage;
            int n = MemoryOperands.NeedsVectorIndex(insn)
                ? written.ComputeWrites(insn, regs, c.Zmm.AsSpan(64 * (insn.MemoryIndex - Iced.Intel.Register.ZMM0), 64), into)
                : written.ComputeWrites(insn, regs, into);
            var ranges = into[..n];
            var changed = outcomes[i].Changed;
            if (n == 0) silent++;

            foreach (var (address, length) in changed)
                for (ulong b = address; b < address + (ulong)length; b++)
                    if (!ranges.Any(r => b - r.Address < (ulong)r.Size))
                    {
                        failures.Add($"{c.Name} ({insn}): byte {b:x} changed outside {Show(ranges)}");
                        goto next;
                    }
            if (!specs[i].Conservative)
                foreach (var r in ranges)
                    if (!changed.Any(ch => ch.Address < r.End && r.Address < ch.Address + (ulong)ch.Length))
                        failures.Add($"{c.Name} ({insn}): computed {r} but nothing there changed; changed: " +
                                     string.Join(" ", changed.Select(ch => $"{ch.Address:x}+{ch.Length}")));
            next:;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // The probe really ran the cases: all changed memory except the ones computed to write nothing
        // (rep with a zero count), and those did not.
        Assert.Equal(specs.Count - silent, outcomes.Count(o => o.Changed.Count > 0));
        Assert.Equal(2, silent);
    }

    private static string Show(MemoryRange[] ranges) => string.Join(" ", ranges.Select(r => r.ToString()));
}
