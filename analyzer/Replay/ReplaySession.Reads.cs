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
        var own = n > 0 ? ReadSnapshotsOf(step, executed.Pid) : [];
        for (int k = 0; k < n; k++)
        {
            var value = ReadMemory(step - 1, executed.Pid, ranges[k].Address, ranges[k].Size);
            foreach (var snapshot in own) Overlay(value, snapshot);
            reads.Add(new MemoryRead(ranges[k].Address, ranges[k].Size, value));
        }
        return new StepReadsResult(step, executed.Pid, executed.Tid, executed.Rip, reads, n == MemoryOperands.Unresolved);
    }

    /// <summary>The <c>read</c>/<c>changed</c> snapshots logged with <paramref name="step"/>: memory as the step
    /// began. The memory after the previous step does not show a <c>changed</c> one (the trace held other,
    /// stale bytes there), so the step's own snapshots go over it.</summary>
    private List<RegionSnapshotEvent> ReadSnapshotsOf(long step, int pid) =>
        _chunks.Get(ChunkOf(step)).SideEvents.OfType<RegionSnapshotEvent>()
            .Where(s => s.Step == step && s.Pid == pid && s.Reason is "read" or "changed").ToList();

    private static void Overlay(MemoryBytes value, RegionSnapshotEvent snapshot)
    {
        for (int i = 0; i < value.Bytes.Length; i++)
        {
            ulong at = value.Address + (ulong)i;
            if (at < snapshot.Address || at - snapshot.Address >= (ulong)snapshot.Bytes.Length) continue;
            value.Bytes[i] = snapshot.Bytes[at - snapshot.Address];
            value.Known[i] = true;
            value.Later[i] = false;
        }
    }
}
