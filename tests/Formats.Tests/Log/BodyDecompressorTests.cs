using System.Runtime.InteropServices;
using Ether.Replay.Formats.LogInternal;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// Chunk bodies decompress through libzstd (ZstdNet's bundled build) where it loads and through the managed port
/// otherwise. The two must give the same bytes for every body the writer compresses, both must refuse damaged frames
/// with an exception (which the decoder reports as a damaged chunk), and on the machines we ship for the native
/// library must actually load: a build that lost its native asset would fall back silently and decode slower.
/// </summary>
public class BodyDecompressorTests
{
    [Fact]
    public void Libzstd_loads_on_linux_x64_and_arm64()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
            return; // elsewhere either may serve
        Assert.True(BodyDecompressor.NativeAvailable, "ZstdNet's libzstd did not load: bodies would decompress through the managed port");
        using var d = new BodyDecompressor();
        Assert.True(d.IsNative);
    }

    [Theory]
    [InlineData(1, 3000, 64)]
    [InlineData(2, 20000, 4096)]
    [InlineData(3, 600, 7)]
    public void Both_decompressors_give_every_body_the_writer_compressed(int seed, int steps, int chunkSteps)
    {
        var file = SampleTrace.Build(steps, chunkSteps);
        using var reader = new TraceReader(new MemoryStream(file));
        Assert.True(reader.Chunks.Count > 1);
        using var native = new BodyDecompressor();
        using var managed = new BodyDecompressor(native: false);
        var rng = new Random(seed);
        foreach (var info in reader.Chunks)
        {
            var parsed = Parse(file, info);
            Assert.Equal(ChunkColumns.CodecZstd, parsed.Codec);
            var a = new byte[parsed.BodyLength];
            var b = new byte[parsed.BodyLength];
            rng.NextBytes(a); // stale bytes must all be overwritten
            Assert.Equal(parsed.BodyLength, native.Unwrap(parsed.StoredBody.Span, a));
            Assert.Equal(parsed.BodyLength, managed.Unwrap(parsed.StoredBody.Span, b));
            Assert.Equal(b, a);
        }
    }

    [Fact]
    public void Both_decompressors_refuse_damaged_and_cut_frames()
    {
        var file = SampleTrace.Build(3000, 64);
        using var reader = new TraceReader(new MemoryStream(file));
        var parsed = Parse(file, reader.Chunks[reader.Chunks.Count / 2]);
        var stored = parsed.StoredBody.ToArray();
        var rng = new Random(5);
        foreach (bool useNative in new[] { true, false })
        {
            int refused = 0;
            using var d = new BodyDecompressor(useNative);
            var into = new byte[parsed.BodyLength];
            // Cut short, and a destination one byte too small: always refused.
            Assert.ThrowsAny<Exception>(() => d.Unwrap(stored.AsSpan(0, stored.Length / 2), into));
            Assert.ThrowsAny<Exception>(() => d.Unwrap(stored, into.AsSpan(0, into.Length - 1)));
            // Flipped bits: refused, or (a flip inside literals, which the frames carry no checksum for: the chunk frame's
            // CRC guards them) decoded within the destination.
            for (int k = 0; k < 300; k++)
            {
                var damaged = (byte[])stored.Clone();
                damaged[rng.Next(damaged.Length)] ^= (byte)(1 << rng.Next(8));
                try
                {
                    Assert.InRange(d.Unwrap(damaged, into), 0, into.Length);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    refused++;
                }
            }
            Assert.True(refused > 30, $"{(useNative ? "libzstd" : "ZstdSharp")} refused {refused} of 300 damaged frames");
        }
    }

    private static ChunkFrameCodec.Parsed Parse(byte[] file, ChunkInfo info) =>
        ChunkFrameCodec.Read(file.AsMemory((int)info.Offset + FrameFormat.PreambleLength, info.Length - FrameFormat.PreambleLength), info.Offset, info.Length);
}
