namespace Ether.Replay.Analyzer.Replay;

/// <summary>The last few decoded chunks: a browser pages back and forth around one place. A chunk
/// returned by <see cref="Get"/> is only valid until the next call (its arrays get reused).</summary>
internal sealed class ChunkCache(TraceReader reader, int capacity = 4)
{
    private readonly LinkedList<(int Index, DecodedChunk Chunk)> _recent = new();

    /// <summary>Chunk <paramref name="index"/>; <paramref name="registerChanges"/> false when the caller needs only
    /// instructions, writes and side events (scans for memory, writes, executions, events), which then skips the
    /// register pass for a chunk not cached yet. A cached chunk read without them is read again when they are needed.</summary>
    public DecodedChunk Get(int index, bool registerChanges = true)
    {
        for (var node = _recent.First; node != null; node = node.Next)
        {
            if (node.Value.Index != index) continue;
            _recent.Remove(node);
            if (registerChanges && !node.Value.Chunk.HasRegisterChanges)
                reader.ReadChunk(index, node.Value.Chunk); // throws before the chunk is kept again
            _recent.AddFirst(node);
            return node.Value.Chunk;
        }
        DecodedChunk chunk;
        if (_recent.Count >= capacity)
        {
            chunk = _recent.Last!.Value.Chunk; // reuse the oldest chunk's arrays
            _recent.RemoveLast();
        }
        else
        {
            chunk = new DecodedChunk();
        }
        reader.ReadChunk(index, chunk, registerChanges); // throws before the chunk is kept: a half-decoded chunk is never cached
        _recent.AddFirst((index, chunk));
        return chunk;
    }
}
