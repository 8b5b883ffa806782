using Ether.Replay.Formats.LogInternal;
using MessagePack;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// A hostile file can carry frames with valid checksums and garbage inside. The decoder must reject
/// them with a TraceFormatException, never crash, hang or allocate without bound.
/// </summary>
public class HostileChunkTests
{
    private static readonly byte[] Pristine = SampleTrace.Build(steps: 60, chunkSteps: 60);

    /// <summary>The pristine header plus one chunk whose decompressed body is <paramref name="mutate"/>d, re-framed with valid checksums.</summary>
    private static byte[] WithMutatedBody(Action<byte[]> mutate)
    {
        using var reader = new TraceReader(new MemoryStream(Pristine));
        var info = reader.Chunks[0];
        var payload = Pristine.AsMemory((int)info.Offset + FrameFormat.PreambleLength, info.Length - FrameFormat.PreambleLength);
        var parsed = ChunkFrameCodec.Read(payload, info.Offset, info.Length);
        using var decompressor = new ZstdSharp.Decompressor();
        var body = decompressor.Unwrap(parsed.StoredBody.Span, parsed.BodyLength).ToArray();
        mutate(body);
        using var newPayload = new ByteBuffer();
        ChunkFrameCodec.Write(newPayload, 0, info.BaseStep, info.LastStep, info.Counts, ChunkColumns.CodecNone, body.Length, body);
        var frame = new byte[FrameFormat.PreambleLength + newPayload.Length];
        FrameFormat.WritePreamble(frame, FrameFormat.ChunkFrame, newPayload.WrittenSpan);
        newPayload.WrittenSpan.CopyTo(frame.AsSpan(FrameFormat.PreambleLength));
        return [.. Pristine.AsSpan(0, (int)info.Offset), .. frame];
    }

    /// <summary>
    /// True when the file is rejected with a one-line format error naming the byte; false when it
    /// reads to the end, which garbage may (a flipped bit in a register value is just another value) —
    /// but then what it decodes must still keep the chunk's promises: every step inside the chunk and
    /// as many instructions as its header counts. Any other exception fails the test.
    /// </summary>
    private static bool Rejected(byte[] file)
    {
        try
        {
            using var reader = new TraceReader(new MemoryStream(file));
            var info = reader.Chunks[0];
            long instructions = 0;
            foreach (var e in reader.Events())
            {
                Assert.InRange(e.Step, info.BaseStep, info.LastStep);
                if (e is InstructionEvent) instructions++;
            }
            Assert.Equal(info.Count(EventKind.Instruction), instructions);
            return false;
        }
        catch (TraceFormatException e)
        {
            Assert.Matches(@"\(at byte \d+\)$", e.Message);
            return true;
        }
    }

    [Fact]
    public void Damaged_bodies_with_valid_checksums_are_rejected_cleanly_or_decode_within_the_chunk()
    {
        var rng = new Random(3);
        int rejected = 0;
        for (int i = 0; i < 3000; i++)
        {
            var file = WithMutatedBody(body =>
            {
                int flips = 1 + rng.Next(4);
                for (int f = 0; f < flips; f++) body[rng.Next(body.Length)] ^= (byte)(1 << rng.Next(8));
            });
            if (Rejected(file)) rejected++;
        }
        // Flips land in values as often as in structure, so some decode; 1,991 of 3,000 are rejected
        // today. A decoder that stopped checking its columns would fall far below this floor.
        Assert.True(rejected >= 1900, $"only {rejected} of 3000 damaged bodies were rejected");
    }

    [Fact]
    public void Random_bodies_with_valid_checksums_are_rejected_cleanly()
    {
        var rng = new Random(4);
        int rejected = 0;
        for (int i = 0; i < 500; i++)
            if (Rejected(WithMutatedBody(body => rng.NextBytes(body.AsSpan(rng.Next(Math.Max(1, body.Length - 16))))))) rejected++;
        // Random bytes never make a chunk that keeps its header's promises — unless they start in the
        // body's last bytes, where they may only rewrite the value of the last side event's last field
        // (an inode, a string's last characters): those offsets are left out.
        Assert.Equal(500, rejected);
    }

    [Fact]
    public void Unknown_event_kinds_from_a_newer_writer_are_skipped_and_counted()
    {
        var ms = new MemoryStream();
        using (var w = new TraceWriter(ms, RoundTripTests.TestHeader, leaveOpen: true))
        {
            w.Instruction(1, 1, 0x10, [0x90]);
            var fields = new ByteBuffer();
            var mp = new MessagePackWriter(fields);
            mp.Write("future"); mp.WriteArrayHeader(2); mp.Write(1); mp.Write(2);
            mp.Flush();
            w.Write(new RawSideEvent(200, 2, fields.WrittenSpan.ToArray()) { Pid = 1, Tid = 1 });
            // A known kind with an extra trailing field (a newer writer extending it) keeps its known fields.
            var extra = new ByteBuffer();
            var mp2 = new MessagePackWriter(extra);
            mp2.Write("k"); mp2.Write("v"); mp2.Write("extra field");
            mp2.Flush();
            w.Write(new RawSideEvent((byte)EventKind.Annotation, 3, extra.WrittenSpan.ToArray()) { Pid = 1, Tid = 1 });
            w.Instruction(1, 1, 0x11, [0x90]);
        }
        using var reader = new TraceReader(new MemoryStream(ms.ToArray()));
        var events = reader.Events().ToList();
        Assert.Equal(1, reader.UnknownEvents);
        Assert.Equal(2, events.OfType<InstructionEvent>().Count());
        var note = Assert.Single(events.OfType<AnnotationEvent>());
        Assert.Equal(("k", "v"), (note.Key, note.Text));
    }
}
