using Ether.Replay.Formats.Instructions;
using Iced.Intel;
using Register = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Analyzer.Replay;

/// <summary>One memory operand a step read: where, how many bytes, and the bytes it read.</summary>
public sealed record MemoryRead(ulong Address, int Size, MemoryBytes Value);

/// <summary>What the instruction of <see cref="Step"/> read from memory (its own bytes aside), with the values
/// as memory held them when the step began. <see cref="Unresolved"/>: a gather, whose addresses come from a
/// vector register the trace does not hold.</summary>
public sealed record StepReadsResult(long Step, int Pid, int Tid, ulong Rip, IReadOnlyList<MemoryRead> Reads, bool Unresolved);

public sealed partial class ReplaySession
{
    private MemoryOperands? _operands;

    /// <summary>
    /// The memory the instruction of <paramref name="step"/> read, with the values it read; null when the
    /// step ran no instruction. The ranges come from the instruction and its thread's registers before it
    /// (<see cref="MemoryOperands"/>, as the recorder computes them), the values from the memory before the
    /// step (<see cref="ReadMemory(long, int, ulong, int)"/> after the previous step, which takes the
    /// snapshot the recorder logged with this step when the program read a page for the first time).
    /// </summary>
    public StepReadsResult? ReadsAt(long step)
    {
        if (step < 1) return null;
        var executed = StateAt(step).Executed;
        if (executed == null) return null;
        var before = RegistersAt(step - 1, executed.Pid, executed.Tid);
        if (before == null) return new StepReadsResult(step, executed.Pid, executed.Tid, executed.Rip, [], Unresolved: true);
        var registers = before.Registers;
        registers.Rip = executed.Rip;
        int bitness = StepReads.CodeBitness(registers, Disassembly.Disassembler.BitnessOf(Header.Architecture));
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(executed.Bytes));
        decoder.IP = executed.Rip;
        decoder.Decode(out var insn);
        if (insn.IsInvalid || insn.Length != executed.Bytes.Length) return new StepReadsResult(step, executed.Pid, executed.Tid, executed.Rip, [], Unresolved: false);
        _operands ??= new MemoryOperands(StepReads.XsaveSizeOf(Header));
        var ranges = new MemoryRange[MemoryOperands.MaxRanges];
        int n = _operands.ComputeReads(insn, registers, ranges);
        var reads = new List<MemoryRead>(Math.Max(n, 0));
        for (int k = 0; k < n; k++)
            reads.Add(new MemoryRead(ranges[k].Address, ranges[k].Size, ReadMemory(step - 1, executed.Pid, ranges[k].Address, ranges[k].Size)));
        return new StepReadsResult(step, executed.Pid, executed.Tid, executed.Rip, reads, n == MemoryOperands.Unresolved);
    }
}
