using Ether.Replay.Formats.Synthetic;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>Writing and reading stream chunk by chunk: allocation does not grow with the trace.</summary>
public class BoundedMemoryTests
{
    private static long AllocatedWhile(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void WriteSynthetic(Stream to, long instructions) =>
        WriteSynthetic(to, instructions, new TraceWriterOptions { ChunkAge = TimeSpan.FromHours(1) });

    private static void WriteSynthetic(Stream to, long instructions, TraceWriterOptions options)
    {
        using var w = new TraceWriter(to, new TraceHeader { Backend = "synthetic" }, options, leaveOpen: true);
        SyntheticTrace.Write(w, new SyntheticOptions { Instructions = instructions, SyscallEvery = 0 });
        w.Close(StopReason.Exited);
    }

    [Fact]
    public void Writing_ten_times_more_instructions_does_not_allocate_ten_times_more()
    {
        WriteSynthetic(Stream.Null, 300_000); // JIT and pools warm up
        long small = AllocatedWhile(() => WriteSynthetic(Stream.Null, 300_000));
        long large = AllocatedWhile(() => WriteSynthetic(Stream.Null, 3_000_000));
        // Per-chunk bookkeeping (index entries, a keyframe object) grows a little; per-instruction work allocates nothing.
        Assert.True(large < small * 2, $"300k instructions allocated {small:N0} B, 3M allocated {large:N0} B");
        Assert.True(large < 4_000_000, $"3M instructions allocated {large:N0} B");
    }

    [Fact]
    public void Reading_chunk_by_chunk_allocates_per_chunk_not_per_event()
    {
        var ms = new MemoryStream();
        WriteSynthetic(ms, 2_000_000);
        ms.Position = 0;
        using var reader = new TraceReader(ms);
        var chunk = new DecodedChunk();
        for (int i = 0; i < reader.Chunks.Count; i++) reader.ReadChunk(i, chunk); // sizes the reused arrays
        long allocated = AllocatedWhile(() =>
        {
            for (int i = 0; i < reader.Chunks.Count; i++) reader.ReadChunk(i, chunk);
        });
        long perChunk = allocated / reader.Chunks.Count;
        Assert.True(perChunk < 8 * 1024, $"{perChunk:N0} B allocated per chunk of ~65k instructions");
    }
}
