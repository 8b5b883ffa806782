using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>
/// Reads an .etrace file: header, then the chunk list from the footer index (or, without a valid
/// footer, by scanning chunk headers up to the first incomplete or damaged frame). Every failure is a
/// <see cref="TraceFormatException"/> whose one-line message names the byte offset.
/// </summary>
public sealed partial class TraceReader : IDisposable
{
    public static TraceReader Open(string path) => throw new NotImplementedException();

    public TraceReader(Stream input, bool leaveOpen = false) => throw new NotImplementedException();

    public TraceHeader Header => throw new NotImplementedException();
    public TraceSummary Summary => throw new NotImplementedException();
    public IReadOnlyList<ChunkInfo> Chunks => Summary.Chunks;
    public long FileSize => throw new NotImplementedException();

    /// <summary>Decodes chunk <paramref name="index"/>, reusing <paramref name="into"/>'s arrays when given.</summary>
    public DecodedChunk ReadChunk(int index, DecodedChunk? into = null) => throw new NotImplementedException();

    /// <summary>Index of the chunk holding step <paramref name="step"/> (binary search), or -1.</summary>
    public int FindChunk(long step) => throw new NotImplementedException();

    /// <summary>Every event in log order, starting at the chunk that holds <paramref name="fromStep"/>
    /// and skipping events before it. Allocates an object per event: for bulk work use ReadChunk.</summary>
    public IEnumerable<TraceEvent> Events(long fromStep = 0) => throw new NotImplementedException();

    /// <summary>Events of unknown kinds skipped so far (newer writers).</summary>
    public long UnknownEvents => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
