using Ether.Replay.Formats.Log;
using MessagePack;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// Chunk frame payload: [seq, base step, last step, counts, codec, body length, body]. Everything
/// but the body can be read without decompressing, which is how a scan rebuilds a missing index.
/// </summary>
internal static class ChunkFrameCodec
{
    public const int Fields = 7;

    public static void Write(ByteBuffer into, int seq, long baseStep, long lastStep, long[] counts, int codec, int bodyLength, ReadOnlySpan<byte> storedBody)
    {
        var w = new MessagePackWriter(into);
        w.WriteArrayHeader(Fields);
        w.Write(seq);
        w.Write(baseStep);
        w.Write(lastStep);
        IndexCodec.WriteCounts(ref w, counts);
        w.Write(codec);
        w.Write(bodyLength);
        w.Write(storedBody);
        w.Flush();
    }

    public readonly record struct Parsed(ChunkInfo Info, int Codec, int BodyLength, ReadOnlyMemory<byte> StoredBody);

    public static Parsed Read(ReadOnlyMemory<byte> payload, long offset, int frameLength)
    {
        var r = new MessagePackReader(payload);
        int n = r.ReadArrayHeader();
        if (n < Fields) throw new CorruptDataException($"chunk header has {n} fields, fewer than {Fields}");
        int seq = r.ReadInt32();
        long baseStep = r.ReadInt64();
        long lastStep = r.ReadInt64();
        var counts = IndexCodec.ReadCounts(ref r);
        int codec = r.ReadInt32();
        int bodyLength = r.ReadInt32();
        var body = r.ReadBytes() ?? throw new CorruptDataException("chunk has no body");
        if (baseStep < 0 || lastStep < baseStep) throw new CorruptDataException($"chunk step range {baseStep}..{lastStep} is invalid");
        if (bodyLength < 0 || bodyLength > FrameFormat.MaxPayloadLength) throw new CorruptDataException($"chunk body length {bodyLength} is invalid");
        // The body is a contiguous slice of the payload: take it as memory, not as a copied sequence.
        long start = r.Consumed - body.Length;
        var stored = payload.Slice((int)start, (int)body.Length);
        return new Parsed(new ChunkInfo(seq, offset, frameLength, baseStep, lastStep, counts), codec, bodyLength, stored);
    }
}
