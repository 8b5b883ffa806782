using System.IO.Compression;

namespace Ether.Replay.Analyzer.Export;

/// <summary>How an export cuts and compresses its Parquet files.</summary>
public sealed record ExportOptions
{
    /// <summary>Rows per row group: DuckDB and Spark parallelize and skip (min/max statistics) per row group.</summary>
    public int RowGroupRows { get; init; } = 1 << 20;
    /// <summary>...or fewer when the buffered blobs/strings pass this size (snapshots, big writes).</summary>
    public long RowGroupBytes { get; init; } = 128L << 20;
    /// <summary>A table's partition starts a new part file after this many row groups.</summary>
    public int RowGroupsPerPart { get; init; } = 64;
    /// <summary>
    /// zstd effort. Parquet.Net's default (SmallestSize) is ~60x slower than Fastest for a few percent
    /// of size, so the level is always set explicitly.
    /// </summary>
    public CompressionLevel Compression { get; init; } = CompressionLevel.Fastest;
    /// <summary>Compress and write row groups on another core while importing continues. Off: every step of the
    /// export runs on the calling thread (the browser's low-priority background export).</summary>
    public bool BackgroundWrites { get; init; } = true;
    /// <summary>Benchmarks only: seal row groups and drop them, to time decoding and importing alone.</summary>
    internal bool DiscardRows { get; init; }
}
