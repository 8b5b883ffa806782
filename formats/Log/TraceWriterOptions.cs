namespace Ether.Replay.Formats.Log;

/// <summary>When a writer closes a chunk, and how it compresses it.</summary>
public sealed record TraceWriterOptions
{
    /// <summary>A chunk ends after this many steps (instructions or ticks).</summary>
    public int ChunkSteps { get; init; } = 65536;
    /// <summary>...or once its encoded columns exceed this many bytes (large memory writes, snapshots).</summary>
    public int ChunkBytes { get; init; } = 8 << 20;
    /// <summary>...or once it has been open this long, so a killed recorder loses at most this much time.</summary>
    public TimeSpan ChunkAge { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>zstd level for chunk bodies; 0 stores them uncompressed.</summary>
    public int CompressionLevel { get; init; } = 1;
    /// <summary>Memory writes longer than this keep only their first bytes (flagged Truncated).</summary>
    public int MaxWriteBytes { get; init; } = 16 << 20;
    /// <summary>False writes format version 1 (register changes without prediction): the baseline
    /// `bench format` measures against, and old-version files for the tests.</summary>
    internal bool PredictRegisters { get; init; } = true;
}
