using Ether.Replay.Bench;
using Ether.Replay.Formats.Synthetic;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// `bench format --chunk-length K` compares the two format versions on traces re-chunked by
/// <see cref="TraceCopy"/> (bench/, compiled in here): the copy must hold every event of the original and
/// end chunks only where every K-th original chunk ended, or the comparison measures another trace.
/// </summary>
public class TraceCopyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_re_chunked_copy_keeps_every_event_and_ends_chunks_only_where_every_kth_chunk_ended(int chunkLength)
    {
        string dir = Directory.CreateTempSubdirectory("ether-tracecopy-").FullName;
        try
        {
            string from = Path.Combine(dir, "from.etrace"), to = Path.Combine(dir, "to.etrace");
            using (var w = TraceWriter.Create(from, new TraceHeader { Backend = "synthetic" },
                       new TraceWriterOptions { ChunkSteps = 1_000, ChunkAge = TimeSpan.FromHours(1) }))
            {
                SyntheticTrace.Write(w, new SyntheticOptions { Instructions = 20_000, SyscallEvery = 700, Threads = 2 });
                w.Close(StopReason.Exited);
            }
            TraceCopy.Copy(from, to, new TraceWriterOptions(), chunkLength);

            using var original = TraceReader.Open(from);
            using var copy = TraceReader.Open(to);
            Assert.True(original.Chunks.Count >= 20, $"the original has only {original.Chunks.Count} chunks");
            Assert.Equal(original.Chunks.Where((_, i) => i % chunkLength == 0).Select(c => c.BaseStep), copy.Chunks.Select(c => c.BaseStep));
            var (a, b) = (Events(original), Events(copy));
            int differs = Enumerable.Range(0, Math.Min(a.Count, b.Count)).FirstOrDefault(i => a[i] != b[i], -1);
            Assert.True(differs < 0 && a.Count == b.Count, differs < 0 ? $"{a.Count} events, copy {b.Count}" : $"event {differs}: {a[differs]} | copy: {b[differs]}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every event with its register values, in log order; a thread's keyframes after its first one are left out:
    /// writers repeat them at every chunk start, so where chunks end decides how many there are.</summary>
    private static List<string> Events(TraceReader reader)
    {
        var lines = new List<string>();
        var seen = new HashSet<(int, int)>();
        var chunk = new DecodedChunk();
        for (int i = 0; i < reader.Chunks.Count; i++)
        {
            reader.ReadChunk(i, chunk);
            foreach (var e in ChunkEvents.InLogOrder(chunk))
            {
                if (e is KeyframeEvent && !seen.Add((e.Pid, e.Tid))) continue;
                lines.Add(e is RegisterChangeEvent r ? $"{EventText.Describe(e)} {Changed(r)}" : EventText.Describe(e));
            }
        }
        return lines;
    }

    /// <summary>The values a change sets (its mask's slots); the other slots of its register file are the thread's state, not the event.</summary>
    private static string Changed(RegisterChangeEvent r) =>
        string.Join(" ", Enumerable.Range(0, 32).Where(slot => (r.Mask >> slot & 1) != 0).Select(slot => $"{slot}={r.Registers[slot]:x}"));
}
