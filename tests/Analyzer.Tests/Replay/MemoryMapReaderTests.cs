using CsCheck;
using Ether.Replay.Analyzer.Unpack;
using Ether.Replay.Formats.Memory;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Analyzer.Tests.Replay;

/// <summary>The memory map every reader rebuilds from a trace's region events is the writer's map
/// (docs/trace-format.md, "Region events"), boundaries and file offsets included.</summary>
public sealed class MemoryMapReaderTests
{
    private const int Pid = 300, Tid = 300;
    private const RegionProtection R = RegionProtection.Read, W = RegionProtection.Write, X = RegionProtection.Execute;

    /// <summary>map /x, protect its upper half rw-, protect all of it r-x again (the kernel merges the
    /// halves), map [heap], unmap the heap's first page; then two instructions at 0x2800.</summary>
    private static void ProtectPartThenAll(string path)
    {
        using var w = TraceWriter.Create(path, FakeRecording.Header("/x"), new TraceWriterOptions { ChunkSteps = 4, ChunkAge = TimeSpan.FromHours(1) });
        var rec = new FakeRecording(w, Pid, Tid);
        rec.Map(0x1000, 0x3000, R | X, "/x");
        w.Write(new RegionProtectEvent { Pid = Pid, Tid = Tid, Start = 0x2000, End = 0x3000, Protection = R | W });
        w.Write(new RegionProtectEvent { Pid = Pid, Tid = Tid, Start = 0x1000, End = 0x3000, Protection = R | X });
        rec.Map(0x10000, 0x13000, R | W, "[heap]");
        w.Write(new RegionUnmapEvent { Pid = Pid, Tid = Tid, Start = 0x10000, End = 0x11000 });
        rec.Run(0x2800, [0x90]);
        rec.Run(0x2801, [0x90]);
        w.Close(StopReason.Exited);
    }

    [Fact]
    public void Replay_keeps_merged_regions_whole_and_offsets_of_memory_without_a_file()
    {
        using var dir = new TempDir();
        string path = dir.File("maps.etrace");
        ProtectPartThenAll(path);
        using var session = ReplaySession.Open(path);
        // The writer's map (recorder/Recording/MapDiff.cs applies the same rules to /proc/PID/maps).
        Assert.Equal(["1000-3000 0 /x", "11000-13000 0 [heap]"],
            session.RegionsAt(session.LastStep, Pid).Select(r => $"{r.Start:x}-{r.End:x} {r.FileOffset:x} {r.Name}"));
    }

    [Fact]
    public void Unpack_layers_name_the_whole_merged_region()
    {
        using var x = new Exported(ProtectPartThenAll);
        var row = Assert.Single(x.Rows("SELECT region_start, region_end, region_name FROM unpack_layers"));
        Assert.Equal((0x1000UL, 0x3000UL, "/x"), ((ulong)row[0]!, (ulong)row[1]!, (string)row[2]!));
    }

    /// <summary>
    /// The property behind both tests above: the ptrace recorder's diffs of random map changes
    /// (mmap, munmap, mprotect, splits and merges only /proc/PID/maps shows), written to a trace,
    /// rebuild every one of the writer's maps exactly in the replay engine and in the unpack layer
    /// tracker (whose regions feed unpack_layers and the dumps).
    /// </summary>
    [Fact]
    public void Readers_applying_the_writers_diffs_rebuild_the_writers_maps_exactly()
    {
        using var dir = new TempDir();
        int sample = 0;
        Gen.Select(RandomMaps.Maps, RandomMaps.Edits.Array[1, 12]).Sample((first, rounds) =>
        {
            var maps = new List<MemoryMap> { first };
            foreach (var edits in rounds) maps.Add(edits.Aggregate(maps[^1], RandomMaps.Edit));

            string path = dir.File($"maps{sample++}.etrace");
            var tracker = new LayerTracker("/bin/target", _ => { });
            using (var w = TraceWriter.Create(path, FakeRecording.Header("/bin/target"), new TraceWriterOptions { ChunkSteps = 3, ChunkAge = TimeSpan.FromHours(1) }))
            {
                var rec = new FakeRecording(w, Pid, Tid);
                var previous = new MemoryMap();
                for (int i = 0; i < maps.Count; i++)
                {
                    rec.Run(0x1000 + (ulong)i, [0x90]); // step i + 1
                    foreach (var e in MapDiff.Diff(previous, maps[i]))
                    {
                        e.Pid = Pid;
                        e.Tid = Tid;
                        w.Write(e);
                        tracker.OnSideEvent(e);
                    }
                    Assert.True(tracker.Space(Pid).Regions.SameAs(maps[i]), $"layer tracker after round {i}:\n{tracker.Space(Pid).Regions}\nwriter:\n{maps[i]}");
                    previous = maps[i];
                }
                w.Close(StopReason.Exited);
            }
            using var session = ReplaySession.Open(path);
            for (int i = 0; i < maps.Count; i++)
                Assert.Equal(maps[i].Regions, session.RegionsAt(i + 1, Pid));
        }, iter: 150, threads: 1);
    }
}
