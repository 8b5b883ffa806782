using Parquet;

namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class MemoryWritesTable : StepRowsTable
{
    public readonly NullableColumn<ulong> Rip = new("rip", "address of the writing instruction; for kernel writes the system call instruction; null if unknown");
    public readonly ValueColumn<ulong> Address = new("address", "first byte written");
    public readonly ValueColumn<long> Size = new("size", "bytes written (value can be shorter when truncated)");
    public readonly BlobColumn Value = new("value", "the bytes written");
    public readonly BlobColumn OldValue = new("old_value", "the bytes before the write, when the recorder kept them; else null", nullable: true);
    public readonly ValueColumn<bool> Kernel = new("kernel", "written by the kernel on the thread's behalf (read(2) buffers, signal frames), not by an instruction");
    public readonly ValueColumn<bool> Truncated = new("truncated", "the recorder kept only the first bytes of a longer write");
    public readonly ValueColumn<int> Layer = new("layer", "unpacking layer of the writing code; bytes written here belong to layer + 1");

    public MemoryWritesTable() : base("memory_writes", "One row per memory write, by instructions and by the kernel.",
        step: "the step of the instruction (or system call) that wrote", pid: "process id (the address space written)", stepHint: EncodingHint.DeltaBinaryPacked)
        => Declare(Rip, Address, Size, Value, OldValue, Kernel, Truncated, Layer);
}
