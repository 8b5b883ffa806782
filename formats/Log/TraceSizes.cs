using Ether.Replay.Formats.LogInternal;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>One line of a <see cref="TraceSizeReport"/>: a column (or a side-event kind) over the whole trace.</summary>
/// <param name="RawBytes">Bytes before compression, summed over all chunks.</param>
/// <param name="CompressedBytes">The same bytes compressed alone, chunk by chunk, at the report's zstd level.</param>
/// <param name="Items">Events behind the bytes where the column has a natural count (side events by kind); 0 otherwise.</param>
public sealed record SizeRow(string Name, long RawBytes, long CompressedBytes, long Items = 0);

/// <summary>Where the bytes of a trace go: frames, header, index, every chunk column and every side-event kind.</summary>
public sealed class TraceSizeReport
{
    public long FileBytes { get; init; }
    /// <summary>Magic, header frame, and the index frame plus trailer.</summary>
    public long EnvelopeBytes { get; init; }
    /// <summary>Chunk preambles and chunk headers (everything of a chunk frame but its stored body).</summary>
    public long ChunkHeaderBytes { get; init; }
    /// <summary>Chunk bodies as stored in the file (compressed when the writer compressed them).</summary>
    public long StoredBodyBytes { get; init; }
    public long RawBodyBytes { get; init; }
    public long Instructions { get; init; }
    public int Chunks { get; init; }
    public int CompressionLevel { get; init; }
    /// <summary>Every column of the chunk body, in body order.</summary>
    public required IReadOnlyList<SizeRow> Columns { get; init; }
    /// <summary>The side column split by event kind (kinds that occur only).</summary>
    public required IReadOnlyList<SizeRow> SideKinds { get; init; }
    public long RegisterChanges { get; init; }
    /// <summary>Register changes stored against their instruction's prediction, and those it predicted exactly.</summary>
    public long PredictedRegisterChanges { get; init; }
    public long ExactlyPredictedRegisterChanges { get; init; }
}

/// <summary>
/// Measures a trace column by column (`ether info --columns`, `bench format`): which parts of the
/// format cost the bytes. Columns are compressed separately here, so their compressed sizes add up
/// to a little more or less than the stored bodies, which zstd compressed as a whole.
/// </summary>
public static class TraceSizes
{
    public static TraceSizeReport Measure(TraceReader reader, int compressionLevel = 1, Action<int, int>? progress = null)
    {
        int columns = ChunkColumns.Count;
        var raw = new long[columns];
        var packed = new long[columns];
        var sideRaw = new long[256];
        var sidePacked = new long[256];
        var sideItems = new long[256];
        long stored = 0, rawBodies = 0, chunkBytes = 0, predicted = 0, exact = 0;
        var decoded = new DecodedChunk();
        using var compressor = new ZstdSharp.Compressor(compressionLevel);
        var perKind = new ByteBuffer[256];
        byte[] scratch = new byte[1 << 16];
        try
        {
            for (int i = 0; i < reader.Chunks.Count; i++)
            {
                var info = reader.Chunks[i];
                var (body, storedLength) = reader.ReadChunkBody(i);
                chunkBytes += info.Length;
                stored += storedLength;
                rawBodies += body.Length;
                var split = ChunkDecoder.SplitColumns(body);
                for (int c = 0; c < columns; c++)
                {
                    var span = split[c].Span;
                    raw[c] += span.Length;
                    packed[c] += Compressed(compressor, span, ref scratch);
                }
                foreach (var b in perKind) b?.Clear();
                foreach (var (kind, bytes) in SideEventCodec.Split(split[(int)ChunkColumn.Side]))
                {
                    (perKind[kind] ??= new ByteBuffer()).WriteBytes(bytes.Span);
                    sideItems[kind]++;
                }
                for (int k = 0; k < perKind.Length; k++)
                {
                    if (perKind[k] is not { Length: > 0 } b) continue;
                    sideRaw[k] += b.Length;
                    sidePacked[k] += Compressed(compressor, b.WrittenSpan, ref scratch);
                }
                reader.ReadChunk(i, decoded);
                predicted += decoded.PredictedRegisterChanges;
                exact += decoded.ExactlyPredictedRegisterChanges;
                progress?.Invoke(i + 1, reader.Chunks.Count);
            }
        }
        finally
        {
            foreach (var b in perKind) b?.Dispose();
        }
        var rows = new List<SizeRow>();
        for (int c = 0; c < columns; c++) rows.Add(new SizeRow(ChunkColumns.Names[c], raw[c], packed[c]));
        var kinds = new List<SizeRow>();
        for (int k = 0; k < 256; k++)
            if (sideItems[k] > 0) kinds.Add(new SizeRow(EventKinds.Name((EventKind)k), sideRaw[k], sidePacked[k], sideItems[k]));
        return new TraceSizeReport
        {
            FileBytes = reader.FileSize,
            EnvelopeBytes = reader.FileSize - chunkBytes,
            ChunkHeaderBytes = chunkBytes - stored,
            StoredBodyBytes = stored,
            RawBodyBytes = rawBodies,
            Instructions = reader.Summary.Count(EventKind.Instruction),
            Chunks = reader.Chunks.Count,
            CompressionLevel = compressionLevel,
            Columns = rows,
            SideKinds = kinds,
            RegisterChanges = reader.Summary.Count(EventKind.RegisterChange),
            PredictedRegisterChanges = predicted,
            ExactlyPredictedRegisterChanges = exact,
        };
    }

    private static long Compressed(ZstdSharp.Compressor compressor, ReadOnlySpan<byte> data, ref byte[] scratch)
    {
        if (data.IsEmpty) return 0;
        int bound = ZstdSharp.Compressor.GetCompressBound(data.Length);
        if (scratch.Length < bound) scratch = new byte[Math.Max(bound, scratch.Length * 2)];
        return compressor.Wrap(data, scratch);
    }
}
