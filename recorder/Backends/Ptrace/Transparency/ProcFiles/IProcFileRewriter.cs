namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// Changes what the recorded program reads from one kind of /proc file. Registered with a
/// <see cref="ProcReadInterceptor"/>, which does the mechanics (descriptors in every path form,
/// offsets, reads split across calls, pread/readv, lseek, lengths and return values) and asks the
/// rewriter only for whole texts: when the program starts reading a file from offset 0 (as the
/// kernel regenerates a seq_file then), the interceptor reads the file as the kernel shows it now
/// and hands it to <see cref="Rewrite"/>; the program's reads are served from the result.
/// Examples: TracerPid and the state of traced tasks (<see cref="TaskStatusRewriter"/>); the
/// protections a program believes its pages have, in /proc/&lt;pid&gt;/maps (unpack mode).
/// Tracer thread only.
/// </summary>
internal interface IProcFileRewriter
{
    /// <summary>True when reads of <paramref name="file"/> must be rewritten; asked once, when a descriptor on it is opened.</summary>
    bool Wants(ProcFileName file);

    /// <summary>The text the program is shown instead of <paramref name="original"/> (the whole file, as the kernel gives it now).</summary>
    byte[] Rewrite(ProcFileName file, byte[] original, ProcReader reader);

    /// <summary>Where the kernel's seq_file records of <paramref name="content"/> end (ascending; the last is its
    /// length): reads return whole records as the kernel's do (<see cref="SeqFileReads"/>). Default: one record,
    /// as single_open files (status, stat, uptime) are.</summary>
    IReadOnlyList<int> Records(ProcFileName file, byte[] content) => [content.Length];
}

/// <summary>Who is reading: some files read differently for the task itself (its own state is "running").</summary>
internal readonly record struct ProcReader(int Pid, int Tid);
