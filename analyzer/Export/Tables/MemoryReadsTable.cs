using Parquet;

namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class MemoryReadsTable : StepRowsTable
{
    public readonly ValueColumn<ulong> Rip = new("rip", "address of the reading instruction");
    public readonly ValueColumn<ulong> Address = new("address", "first byte read");
    public readonly ValueColumn<int> Size = new("size", "bytes read");
    public readonly BlobColumn Value = new("value", "the bytes read (memory as the step began); null when the trace does not hold every one of them", nullable: true);

    public MemoryReadsTable() : base("memory_reads", "One row per memory operand an instruction read, with the value it read.",
        step: "the step of the instruction that read", pid: "process id (the address space read)", stepHint: EncodingHint.DeltaBinaryPacked)
        => Declare(Rip, Address, Size, Value);
}
