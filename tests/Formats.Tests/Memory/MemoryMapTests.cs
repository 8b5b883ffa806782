using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Formats.Tests.Memory;

/// <summary>The region-event rules of docs/trace-format.md, as the one memory-map model applies them.</summary>
public class MemoryMapTests
{
    private const RegionProtection R = RegionProtection.Read, W = RegionProtection.Write,
        X = RegionProtection.Execute, S = RegionProtection.Shared;

    private static string Text(MemoryMap map) => string.Join(" | ", map.Regions.Select(r => $"{r.Start:x}-{r.End:x} {r.FileOffset:x} {r.Name}"));

    [Fact]
    public void Map_protect_part_protect_all_unmap_keeps_the_writers_boundaries_and_offsets()
    {
        var map = new MemoryMap().Apply(
        [
            new RegionMapEvent { Start = 0x1000, End = 0x3000, Protection = R | X, Name = "/x" },
            new RegionProtectEvent { Start = 0x2000, End = 0x3000, Protection = R | W },
            new RegionProtectEvent { Start = 0x1000, End = 0x3000, Protection = R | X },
            new RegionMapEvent { Start = 0x10000, End = 0x13000, Protection = R | W, Name = "[heap]" },
            new RegionUnmapEvent { Start = 0x10000, End = 0x11000 },
        ]);
        Assert.Equal("1000-3000 0 /x | 11000-13000 0 [heap]", Text(map));
    }

    [Fact]
    public void A_map_replaces_what_it_overlaps_and_cuts_file_neighbours_at_continuous_offsets()
    {
        var map = new MemoryMap([new Region(0x1000, 0x5000, R, 0x10000, "/lib/a.so")]);
        map.Map(new Region(0x2000, 0x3000, R | W | X, 0, ""));
        Assert.Equal("1000-2000 10000 /lib/a.so | 2000-3000 0  | 3000-5000 12000 /lib/a.so", Text(map));
        map.Unmap(0x1800, 0x4000);
        Assert.Equal("1000-1800 10000 /lib/a.so | 4000-5000 13000 /lib/a.so", Text(map));
    }

    [Fact]
    public void Memory_without_a_file_keeps_its_offset_when_cut()
    {
        var map = new MemoryMap([new Region(0x1000, 0x4000, R | W, 0, "[heap]"), new Region(0x8000, 0x9000, R | W, 0, "")]);
        map.Protect(0x2000, 0x3000, R);
        map.Unmap(0x8000, 0x8800);
        Assert.Equal("1000-2000 0 [heap] | 2000-3000 0 [heap] | 3000-4000 0 [heap] | 8800-9000 0 ", Text(map));
    }

    [Fact]
    public void A_protect_merges_only_inside_its_range()
    {
        // Three pieces of one file, continuous offsets; the outer two already share a protection.
        var map = new MemoryMap(
        [
            new Region(0x1000, 0x2000, R, 0, "/x"),
            new Region(0x2000, 0x3000, R | W, 0x1000, "/x"),
            new Region(0x3000, 0x4000, R, 0x2000, "/x"),
        ]);
        map.Protect(0x2000, 0x3000, R);
        Assert.Equal(3, map.Regions.Count); // equal neighbours outside the range stay apart
        map.Protect(0x1000, 0x4000, R);
        Assert.Equal("1000-4000 0 /x", Text(map));
        // Discontinuous offsets, other names and other files never merge.
        map = new MemoryMap([new Region(0x1000, 0x2000, R, 0, "/x"), new Region(0x2000, 0x3000, R, 0x5000, "/x"), new Region(0x3000, 0x4000, R, 0, "/y")]);
        map.Protect(0x1000, 0x4000, R | X);
        Assert.Equal(3, map.Regions.Count);
        Assert.All(map.Regions, r => Assert.Equal(R | X, r.Protection));
    }

    [Fact]
    public void Lookups_find_containing_overlapping_and_exact_regions()
    {
        var a = new Region(0x1000, 0x2000, R | X, 0, "/x");
        var b = new Region(0x3000, 0x5000, R | W, 0, "[heap]");
        var map = new MemoryMap([b, a]);
        Assert.Equal(a, map.Find(0x1fff));
        Assert.Null(map.Find(0x2000));
        Assert.Equal(b, map.Find(0x3000));
        Assert.Equal([a, b], map.Overlapping(0x1800, 0x3001).ToArray());
        Assert.Empty(map.Overlapping(0x2000, 0x3000).ToArray());
        Assert.True(map.Holds(b));
        Assert.False(map.Holds(b with { End = 0x4000 }));
        Assert.Equal([a], map.Executable);
        Assert.Throws<ArgumentException>(() => new MemoryMap([a, a with { Start = 0x1800, End = 0x2800 }]));
        Assert.Throws<ArgumentException>(() => new MemoryMap([a with { End = a.Start }]));
    }

    [Fact]
    public void A_copy_is_independent_and_other_events_change_nothing()
    {
        var map = new MemoryMap([new Region(0x1000, 0x2000, R, 0, "/x")]);
        var copy = map.Copy();
        copy.Unmap(0x1000, 0x2000);
        Assert.Single(map.Regions);
        Assert.Empty(copy.Regions);
        Assert.False(map.Apply(new ExecEvent { Path = "/y" }));
        Assert.True(map.SameAs(new MemoryMap([new Region(0x1000, 0x2000, R, 0, "/x")])));
        map.Clear();
        Assert.True(map.SameAs(copy));
    }

    [Fact]
    public void Protections_are_spelled_as_proc_maps_spells_them()
    {
        Assert.Equal("---p", ProtectionText.Of(RegionProtection.None));
        Assert.Equal("r-xp", ProtectionText.Of(R | X));
        Assert.Equal("rw-s", ProtectionText.Of(R | W | S));
        Assert.Equal("rwxs", ProtectionText.Of(R | W | X | S));
        Assert.Equal("7f00-7f10 r-xp 40 /x", new Region(0x7f00, 0x7f10, R | X, 0x40, "/x").ToString());
    }
}
