namespace Ether.Replay.Analyzer.Replay;

/// <summary>The last few decoded chunks: a browser pages back and forth around one place. A chunk
/// returned by <see cref="Get"/> is only valid until the next call (its arrays get reused).</summary>
internal sealed class ChunkCache(TraceReader reader, int capacity = 4)
{
    private readonly LinkedList<(int Index, DecodedChunk Chunk)> _recent = new();

    public DecodedChunk Get(int index)
    {
        for (var node = _recent.First; node != null; node = node.Next)
        {
            if (node.Value.Index != index) continue;
            _recent.Remove(node);
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
        reader.ReadChunk(index, chunk); // throws before the chunk is kept: a half-decoded chunk is never cached
        _recent.AddFirst((index, chunk));
        return chunk;
    }
}
