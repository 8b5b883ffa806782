namespace Ether.Replay.Analyzer.Export;

/// <summary>What an export wrote.</summary>
public sealed record ExportResult
{
    public required string TraceId { get; init; }
    public required string Dataset { get; init; }
    public long Instructions { get; init; }
    public long LastStep { get; init; }
    public IReadOnlyDictionary<string, long> Rows { get; init; } = new Dictionary<string, long>();
    public int HighestLayer { get; init; }
    /// <summary>Why the export stopped before the end of the file (a cut or damaged trace); null when complete.</summary>
    public string? Warning { get; init; }
    public TimeSpan Elapsed { get; init; }
}

/// <summary>Progress of a running export, for a progress bar.</summary>
public readonly record struct ExportProgress(int Chunk, int Chunks, long Step, long LastStep);
