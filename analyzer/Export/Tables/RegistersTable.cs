using Parquet;
using Ether.Replay.Analyzer.Export.Columns;

namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class RegistersTable : ExportTable
{
    public readonly ValueColumn<long> Step = new("step", "the step during which the register got this value") { Hint = EncodingHint.DeltaBinaryPacked };
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<int> Tid = new("tid", "thread id");
    public readonly StringColumn Register = new("register", "register name: rax … r15, rip, rflags, fs_base, gs_base, cs … gs, orig_rax, cr3") { Hint = EncodingHint.Dictionary };
    public readonly ValueColumn<ulong> Value = new("value", "the new value");
    public readonly ValueColumn<bool> Keyframe = new("keyframe", "true for rows of a keyframe (the thread's whole register file, written at every chunk start), false for a change");

    public RegistersTable() : base("registers", "Register values: one row per changed register per step, plus every register of each keyframe. rip is not repeated here for instruction steps: the instructions table has it.")
        => Declare(Step, Pid, Tid, Register, Value, Keyframe);
}
