using Parquet;

namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class RegistersTable : StepRowsTable
{
    public readonly StringColumn Register = new("register", "register name: rax … r15, rip, rflags, fs_base, gs_base, cs … gs, orig_rax, cr3") { Hint = EncodingHint.Dictionary };
    public readonly ValueColumn<ulong> Value = new("value", "the new value");
    public readonly ValueColumn<bool> Keyframe = new("keyframe", "true for rows of a keyframe (the thread's whole register file, written at every chunk start), false for a change");

    public RegistersTable() : base("registers", "Register values: one row per changed register per step, plus every register of each keyframe. rip is not repeated here for instruction steps: the instructions table has it.",
        step: "the step during which the register got this value", stepHint: EncodingHint.DeltaBinaryPacked)
        => Declare(Register, Value, Keyframe);
}
