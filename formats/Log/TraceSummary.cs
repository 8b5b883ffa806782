using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>The whole-file facts: from the footer on a cleanly closed file, from a scan otherwise.</summary>
public sealed class TraceSummary
{
    public required IReadOnlyList<ChunkInfo> Chunks { get; init; }
    /// <summary>Event counts per <see cref="EventKind"/> (index = numeric kind).</summary>
    public required long[] Counts { get; init; }
    public long LastStep { get; init; }
    /// <summary>True when the footer index was found and verified.</summary>
    public bool ClosedCleanly { get; init; }
    public StopReason StopReason { get; init; }
    public string StopDetail { get; init; } = "";
    public DateTimeOffset? EndTime { get; init; }
    /// <summary>Where a scan stopped before the end of the file and why (one line, with the byte offset); null if it did not.</summary>
    public string? Damage { get; init; }
    /// <summary>Bytes of the file that hold readable frames.</summary>
    public long ReadableBytes { get; init; }

    public long Count(EventKind kind) => (int)kind < Counts.Length ? Counts[(int)kind] : 0;
}
