namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// The columns of a chunk body, in the order they are stored (docs/trace-format.md, "Chunk body").
/// The numbering is part of the format: append new columns at the end; readers ignore extra ones.
/// </summary>
internal enum ChunkColumn
{
    /// <summary>Pairs (ticks, instructions): how the step clock advanced.</summary>
    Clock,
    /// <summary>Thread table: (zigzag pid, zigzag tid) per thread the chunk mentions.</summary>
    Threads,
    /// <summary>Pairs (instruction index delta, thread index): where the executing thread changes.</summary>
    InstructionThreads,
    /// <summary>Jump runs: fall-through count, then zigzag (rip - expected rip) of the next instruction.</summary>
    InstructionRips,
    /// <summary>Code definitions: (instruction index delta, length byte, bytes).</summary>
    InstructionCode,
    RegisterSteps,
    RegisterThreads,
    RegisterMasks,
    RegisterValues,
    WriteSteps,
    WriteThreads,
    WriteAddresses,
    WriteSizes,
    WriteFlags,
    WriteValues,
    WriteOldValues,
    /// <summary>MessagePack arrays, one per side event (syscalls, regions, keyframes, ...).</summary>
    Side,
}

internal static class ChunkColumns
{
    public const int Count = (int)ChunkColumn.Side + 1;

    public static readonly string[] Names =
    [
        "clock", "threads", "instruction-threads", "instruction-rips", "instruction-code",
        "register-steps", "register-threads", "register-masks", "register-values",
        "write-steps", "write-threads", "write-addresses", "write-sizes", "write-flags",
        "write-values", "write-old-values", "side",
    ];

    /// <summary>Codec numbers stored in the chunk header.</summary>
    public const int CodecNone = 0;
    public const int CodecZstd = 1;
}
