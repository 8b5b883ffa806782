using Ether.Replay.Formats.Synthetic;

namespace Ether.Replay.Analyzer.Tests.Replay;

/// <summary>Scans for memory, writes and events read chunks without their register changes; a register query on
/// the same cached chunk must then get them (format version 2's prediction included), not an empty set.</summary>
public sealed class ChunkCacheTests
{
    [Fact]
    public void A_chunk_cached_without_register_changes_is_read_whole_when_they_are_asked_for()
    {
        using var dir = new TempDir();
        string path = dir.File("walk.etrace");
        using (var w = TraceWriter.Create(path, FakeRecording.Header("/synthetic"), new TraceWriterOptions { ChunkSteps = 500, ChunkAge = TimeSpan.FromHours(1) }))
        {
            SyntheticTrace.Write(w, new SyntheticOptions { Instructions = 3000, Threads = 2, Seed = 7 });
            w.Close(StopReason.Exited);
        }
        using var reader = TraceReader.Open(path);
        using var truth = TraceReader.Open(path);
        var cache = new ChunkCache(reader, capacity: 2);

        var scanned = cache.Get(2, registerChanges: false);
        Assert.False(scanned.HasRegisterChanges);
        Assert.Equal(0, scanned.RegisterChangeCount);
        Assert.Same(scanned, cache.Get(2, registerChanges: false)); // a scan is served from the cache as it is

        var whole = cache.Get(2);
        var expected = truth.ReadChunk(2);
        Assert.True(whole.HasRegisterChanges);
        Assert.True(expected.RegisterChangeCount > 0);
        Assert.Equal(ChunkEvents.InLogOrder(expected).Select(Describe), ChunkEvents.InLogOrder(whole).Select(Describe));
        Assert.True(cache.Get(2, registerChanges: false).HasRegisterChanges); // a whole chunk serves scans too
    }

    private static string Describe(TraceEvent e) => e switch
    {
        RegisterChangeEvent r => $"{r.Step} {r.Tid} registers {r.Mask:x} {r.Registers}",
        KeyframeEvent k => $"{k.Step} {k.Tid} keyframe {k.Registers}",
        InstructionEvent i => $"{i.Step} {i.Tid} {i.Rip:x}",
        MemoryWriteEvent m => $"{m.Step} {m.Tid} write {m.Address:x} {m.Size}",
        _ => $"{e.Step} {e.Tid} {e.Kind}",
    };
}
