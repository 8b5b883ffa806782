namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// One code definition of a chunk, as the decoder's instruction pass keeps it (indexed by definition number):
/// what an instruction that reuses it needs, the (pid, rip) it was defined for, and the definition that ran after
/// it last time. The pass guesses that successor before hashing (pid, rip) in <see cref="CodeMap"/>: one entry,
/// one cache line, and definitions of straight-line code are numbered in execution order.
/// </summary>
internal struct CodeDefinition(ulong rip, int pid, int offset, int length, int next)
{
    public ulong Rip = rip;
    public int Pid = pid;
    /// <summary>Where its bytes are in <see cref="Log.DecodedChunk.Code"/>.</summary>
    public int Offset = offset;
    /// <summary>1-15; 0 once a later definition of the same (pid, rip) replaced it (self-modifying code), so that
    /// a guess never returns bytes the map no longer holds.</summary>
    public int Length = length;
    /// <summary>The definition of the instruction that followed this one last time; at first the next one defined.</summary>
    public int Next = next;
}
