using CsCheck;
using Ether.Replay.Formats.Instructions;
using Ether.Replay.Recorder.Instructions;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Ether.Replay.Recorder.Tests.Instructions;

/// <summary>
/// Random <c>mov [seg:base+index*scale+disp], reg</c> stores: the computed range must equal the
/// effective address worked out by hand from the same register values.
/// </summary>
public class WrittenOperandsPropertyTests
{
    // Iced's encoding order; the index can be anything but rsp (encoding 4 means "no index").
    private static readonly AssemblerRegister64[] Gpr =
        [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
    private static readonly Formats.Model.Register[] Slot =
    [
        Formats.Model.Register.Rax, Formats.Model.Register.Rcx, Formats.Model.Register.Rdx, Formats.Model.Register.Rbx,
        Formats.Model.Register.Rsp, Formats.Model.Register.Rbp, Formats.Model.Register.Rsi, Formats.Model.Register.Rdi,
        Formats.Model.Register.R8, Formats.Model.Register.R9, Formats.Model.Register.R10, Formats.Model.Register.R11,
        Formats.Model.Register.R12, Formats.Model.Register.R13, Formats.Model.Register.R14, Formats.Model.Register.R15,
    ];

    /// <param name="Base">0..15 or -1 for none</param>
    /// <param name="Index">0..15 except 4, or -1 for none</param>
    /// <param name="Segment">0 = default (ds), 1 = fs, 2 = gs</param>
    public sealed record StoreCase(int Base, int Index, int ScaleLog, int Disp, int WidthLog, int Segment, ulong[] Values)
    {
        public override string ToString() =>
            $"base={Base} index={Index} scale={1 << ScaleLog} disp={Disp} width={1 << WidthLog} seg={Segment} values=[{string.Join(",", Values.Select(v => v.ToString("x")))}]";
    }

    private static readonly Gen<StoreCase> Cases =
        Gen.Select(Gen.Int[-1, 15], Gen.Int[-1, 15].Where(i => i != 4), Gen.Int[0, 3], Gen.Int, Gen.Int[0, 3],
                Gen.Int[0, 2], Gen.ULong.Array[18])
            .Select(t => new StoreCase(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7))
            .Where(c => c.Base >= 0 || c.Index >= 0);

    [Fact]
    public void Random_stores_match_the_hand_computed_effective_address()
    {
        var written = HostCpu.NewOperands();
        var into = new MemoryRange[MemoryOperands.MaxRanges];
        Cases.Sample(c =>
        {
            var regs = new RegisterFile();
            for (int i = 0; i < 16; i++) regs[Slot[i]] = c.Values[i];
            regs[Formats.Model.Register.FsBase] = c.Values[16];
            regs[Formats.Model.Register.GsBase] = c.Values[17];

            var insn = Asm.One(a => Emit(a, c));
            int n = written.ComputeWrites(insn, regs, into);

            ulong expected = unchecked((ulong)(long)c.Disp);
            if (c.Base >= 0) expected += c.Values[c.Base];
            if (c.Index >= 0) expected += c.Values[c.Index] << c.ScaleLog;
            if (c.Segment == 1) expected += c.Values[16];
            if (c.Segment == 2) expected += c.Values[17];
            Assert.Equal(1, n);
            Assert.Equal(new MemoryRange(expected, 1 << c.WidthLog), into[0]);
        }, iter: 2000, threads: 1);
    }

    private static void Emit(Assembler a, StoreCase c)
    {
        AssemblerMemoryOperandFactory factory = c.WidthLog switch
        {
            0 => __byte_ptr, 1 => __word_ptr, 2 => __dword_ptr, _ => __qword_ptr,
        };
        if (c.Segment == 1) factory = factory.fs;
        if (c.Segment == 2) factory = factory.gs;
        AssemblerMemoryOperand mem;
        if (c.Base >= 0 && c.Index >= 0) mem = factory[Gpr[c.Base] + Gpr[c.Index] * (1 << c.ScaleLog) + c.Disp];
        else if (c.Base >= 0) mem = factory[Gpr[c.Base] + c.Disp];
        else mem = factory[Gpr[c.Index] * (1 << c.ScaleLog) + c.Disp];
        switch (c.WidthLog)
        {
            case 0: a.mov(mem, r11b); break;
            case 1: a.mov(mem, r11w); break;
            case 2: a.mov(mem, r11d); break;
            default: a.mov(mem, r11); break;
        }
    }
}
