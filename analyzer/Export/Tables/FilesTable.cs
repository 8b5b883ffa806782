namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class FilesTable : StepRowsTable
{
    public readonly StringColumn Op = new("op", "open-write, memfd, write, truncate, mmap-shared, rename, link, chmod, exec, exec-argument (docs/trace-format.md)");
    public readonly StringColumn Call = new("call", "the system call that did it");
    public readonly ValueColumn<int> Fd = new("fd", "descriptor used (-1 when the call named a path)");
    public readonly ValueColumn<ulong> Device = new("device", "the file's device (as stat's st_dev)");
    public readonly ValueColumn<ulong> Inode = new("inode", "the file's inode: with device, which file it is, whatever its name");
    public readonly StringColumn Path = new("path", "its path as the process saw it (/memfd:NAME (deleted) for a memfd)");
    public readonly ValueColumn<long> Offset = new("offset", "where a write went (-1: at the descriptor's position)");
    public readonly ValueColumn<long> Length = new("length", "bytes written by the call");
    public readonly ValueColumn<long> Size = new("size", "the file's size after the call");
    public readonly BlobColumn Content = new("content", "for exec and exec-argument of a file written in the trace: its whole content then; null otherwise", nullable: true);

    public FilesTable() : base("files", "File provenance: every regular file or memfd a traced process created, wrote, renamed, linked, chmod'ed or executed, identified by device and inode.",
        step: "step of the system call")
        => Declare(Op, Call, Fd, Device, Inode, Path, Offset, Length, Size, Content);
}
