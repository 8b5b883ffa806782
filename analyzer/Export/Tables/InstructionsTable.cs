using Parquet;

namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class InstructionsTable : StepRowsTable
{
    public readonly ValueColumn<ulong> Rip = new("rip", "address of the instruction");
    public readonly ValueColumn<byte> Length = new("length", "instruction length in bytes");
    public readonly BlobColumn Bytes = new("bytes", "the bytes that executed; `disasm(bytes, rip)` shows them") { Hint = EncodingHint.Dictionary };
    public readonly ValueColumn<int> Layer = new("layer", "unpacking layer of the code: 0 = loaded, never written; L+1 = written by code of layer L (or by the kernel for it)");

    public InstructionsTable() : base("instructions", "One row per executed instruction, in step order.",
        step: "the step this instruction executed at (the first instruction is step 1)", pid: "process (thread group) id", stepHint: EncodingHint.DeltaBinaryPacked)
        => Declare(Rip, Length, Bytes, Layer);
}
