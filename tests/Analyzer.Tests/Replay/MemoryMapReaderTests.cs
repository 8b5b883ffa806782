using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Analyzer.Tests.Support;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Tests.Shared;

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
}
