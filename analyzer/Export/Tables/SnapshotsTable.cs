namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class SnapshotsTable : StepRowsTable
{
    public readonly ValueColumn<ulong> Address = new("address", "first address");
    public readonly ValueColumn<long> Size = new("size", "bytes in the snapshot");
    public readonly StringColumn Reason = new("reason", "why it was taken: exec, map, unpack, read (before the step that first read the page), changed (before a read that found the page changed by something the trace does not record), signal, request");
    public readonly BlobColumn Bytes = new("bytes", "the memory contents");

    public SnapshotsTable() : base("snapshots", "Copies of memory regions the recorder took (at exec, when code was mapped, at unpacking moments, before a first read of a page, when a read found a page changed outside the program).",
        step: "step at which the snapshot was taken (it shows memory before that step's writes)")
        => Declare(Address, Size, Reason, Bytes);
}
