using System.Buffers.Binary;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// A traced process's memory. Reads use process_vm_readv (one system call per range, no ptrace
/// stop needed; works whatever state the tracee is in). Writes — for interceptors that change what
/// the program sees — use process_vm_writev, and PTRACE_POKEDATA through a stopped thread where a
/// page is not writable (the kernel's ptrace access ignores page protections, as a debugger's does).
/// </summary>
internal sealed class ProcessMemory(IPtrace ptrace, int pid) : ITargetMemory
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

    /// <summary>
    /// Writes <paramref name="bytes"/> at <paramref name="address"/>; <paramref name="stoppedTid"/> is a
    /// thread of this process in a ptrace stop, used for the pages process_vm_writev cannot write
    /// (read-only or execute-only). Returns false when some byte could not be written (unmapped).
    /// </summary>
    public bool Write(ulong address, ReadOnlySpan<byte> bytes, int stoppedTid)
    {
        int done = ptrace.WriteMemory(Pid, address, bytes);
        Span<byte> w = stackalloc byte[8];
        while (done < bytes.Length)
        {
            // Word by word: read-modify-write the aligned word that holds the next byte.
            ulong at = address + (ulong)done;
            ulong word = at & ~7UL;
            if (!ptrace.PeekData(stoppedTid, word, out ulong old)) return false;
            BinaryPrimitives.WriteUInt64LittleEndian(w, old);
            int from = (int)(at - word);
            int take = Math.Min(8 - from, bytes.Length - done);
            bytes.Slice(done, take).CopyTo(w[from..]);
            if (!ptrace.PokeData(stoppedTid, word, BinaryPrimitives.ReadUInt64LittleEndian(w))) return false;
            done += take;
            // Past a protected page, process_vm_writev may work again.
            if (done < bytes.Length && (address + (ulong)done) % PageSize == 0)
                done += ptrace.WriteMemory(Pid, address + (ulong)done, bytes[done..]);
        }
        return true;
    }
}
