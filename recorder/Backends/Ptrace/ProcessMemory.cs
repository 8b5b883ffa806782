using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Reads a traced process's memory with process_vm_readv (one system call per range, no ptrace
/// stop needed). Works on any address the process can read, whatever state the tracee is in.
/// </summary>
internal sealed class ProcessMemory(IPtrace ptrace, int pid) : ICodeMemory, Syscalls.ITargetMemory
{
    private const int PageSize = 4096;

    public int Pid { get; } = pid;

    /// <summary>Copies up to into.Length bytes; returns how many could be read (a prefix).</summary>
    public int Read(ulong address, Span<byte> into) => ptrace.ReadMemory(Pid, address, into);

    /// <summary>Copies a range that may contain unreadable pages: those stay zero. Returns the bytes that were readable.</summary>
    public long ReadSparse(ulong address, Span<byte> into)
    {
        int n = ptrace.ReadMemory(Pid, address, into);
        if (n == into.Length) return n;
        long readable = 0;
        into.Clear();
        // process_vm_readv stops at the first page it cannot read; go on page by page past it.
        int offset = 0;
        while (offset < into.Length)
        {
            ulong at = address + (ulong)offset;
            int inPage = PageSize - (int)(at % PageSize);
            var piece = into.Slice(offset, Math.Min(inPage, into.Length - offset));
            int got = ptrace.ReadMemory(Pid, at, piece);
            readable += got;
            offset += piece.Length;
        }
        return readable;
    }
}
