namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// One open file description on a rewritten /proc file: what the program has been shown of it.
/// Shared, as in the kernel, by every descriptor dup'ed from it and by forked children, which
/// share its offset. The offset is the program's (in the rewritten text), not the kernel's.
/// </summary>
internal sealed class OpenProcFile(ProcFileName file, IProcFileRewriter rewriter)
{
    public ProcFileName File { get; } = file;
    public IProcFileRewriter Rewriter { get; } = rewriter;
    /// <summary>The program's file offset (read/readv advance it; lseek sets it).</summary>
    public long Offset;
    /// <summary>The rewritten text the program is reading, generated when it read from offset 0 (null: not yet).</summary>
    public byte[]? Content;
    /// <summary>Where <see cref="Content"/>'s seq_file records end (<see cref="IProcFileRewriter.Records"/>).</summary>
    public IReadOnlyList<int> Records = [];
    /// <summary>The kernel's seq_file buffer for this description: how many bytes each read returns.</summary>
    public readonly SeqFileReads Reads = new();
}

/// <summary>A descriptor's entry: the open file and its close-on-exec flag (per descriptor, not shared).</summary>
internal sealed record ProcDescriptor(OpenProcFile File, bool CloseOnExec);
