using CsCheck;
using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Recorder.Tests.Recording;

/// <summary>The writer's half of the memory map: the region events between two maps, checked by
/// applying them with the model every reader uses (<see cref="MemoryMap"/>).</summary>
public class MapDiffTests
{
    private const RegionProtection R = RegionProtection.Read, W = RegionProtection.Write,
        X = RegionProtection.Execute, S = RegionProtection.Shared;

    private static Region Reg(ulong start, ulong end, RegionProtection p, string name = "", ulong offset = 0) =>
        new(start, end, p, offset, name);

    private static MemoryMap Map(params Region[] regions) => new(regions);

    // --- diff ---

    private static List<TraceEvent> DiffAndCheck(MemoryMap old, MemoryMap @new)
    {
        var events = MapDiff.Diff(old, @new);
        var applied = old.Copy().Apply(events);
        Assert.True(applied.SameAs(@new), $"applied:\n{applied}\nexpected:\n{@new}");
        return events;
    }

    [Fact]
    public void Identical_maps_give_no_events()
    {
        var map = ProcMapsParser.Parse(ProcMapsParserTests.Sample);
        Assert.Empty(DiffAndCheck(map, ProcMapsParser.Parse(ProcMapsParserTests.Sample)));
    }

    [Fact]
    public void Mprotect_of_the_middle_is_one_protect()
    {
        var old = Map(Reg(0x10000, 0x20000, R | W, "/lib/a.so", 0x1000));
        var @new = Map(
            Reg(0x10000, 0x13000, R | W, "/lib/a.so", 0x1000),
            Reg(0x13000, 0x16000, R | X, "/lib/a.so", 0x4000),
            Reg(0x16000, 0x20000, R | W, "/lib/a.so", 0x7000));
        var e = Assert.Single(DiffAndCheck(old, @new));
        var protect = Assert.IsType<RegionProtectEvent>(e);
        Assert.Equal((0x13000UL, 0x16000UL, R | X), (protect.Start, protect.End, protect.Protection));
    }

    [Fact]
    public void Mprotect_that_lets_the_kernel_merge_is_one_protect_over_the_merged_region()
    {
        var old = Map(Reg(0x10000, 0x14000, R | W), Reg(0x14000, 0x18000, R));
        var @new = Map(Reg(0x10000, 0x18000, R | W));
        var protect = Assert.IsType<RegionProtectEvent>(Assert.Single(DiffAndCheck(old, @new)));
        Assert.Equal((0x10000UL, 0x18000UL, R | W), (protect.Start, protect.End, protect.Protection));
    }

    [Fact]
    public void Munmap_of_the_middle_is_one_unmap()
    {
        var old = Map(Reg(0x10000, 0x20000, R | W));
        var @new = Map(Reg(0x10000, 0x12000, R | W), Reg(0x18000, 0x20000, R | W));
        var unmap = Assert.IsType<RegionUnmapEvent>(Assert.Single(DiffAndCheck(old, @new)));
        Assert.Equal((0x12000UL, 0x18000UL), (unmap.Start, unmap.End));
    }

    [Fact]
    public void Munmap_across_several_regions_is_one_unmap()
    {
        var old = Map(Reg(0x10000, 0x12000, R), Reg(0x12000, 0x14000, R | W), Reg(0x14000, 0x16000, R | X, "/x"));
        var unmap = Assert.IsType<RegionUnmapEvent>(Assert.Single(DiffAndCheck(old, new MemoryMap())));
        Assert.Equal((0x10000UL, 0x16000UL), (unmap.Start, unmap.End));
    }

    [Fact]
    public void A_new_mapping_is_one_map()
    {
        var old = Map(Reg(0x10000, 0x20000, R | W));
        var added = Reg(0x30000, 0x31000, R | W | X, "", 0);
        var map = Assert.IsType<RegionMapEvent>(Assert.Single(DiffAndCheck(old, Map(old.Regions[0], added))));
        Assert.Equal((added.Start, added.End, added.Protection, added.Name), (map.Start, map.End, map.Protection, map.Name));
    }

    [Fact]
    public void Map_fixed_over_anonymous_memory_is_a_map()
    {
        var old = Map(Reg(0x10000, 0x20000, R | W));
        var @new = Map(Reg(0x10000, 0x14000, R | W), Reg(0x14000, 0x16000, R | X, "/tmp/payload", 0), Reg(0x16000, 0x20000, R | W));
        var map = Assert.IsType<RegionMapEvent>(Assert.Single(DiffAndCheck(old, @new)));
        Assert.Equal("/tmp/payload", map.Name);
    }

    [Fact]
    public void Heap_growth_maps_only_the_new_part_and_keeps_the_heap_one_region()
    {
        // brk keeps what the heap held: only the grown part has new (zero) contents.
        var old = Map(Reg(0x10000, 0x20000, R | W, "[heap]"));
        var @new = Map(Reg(0x10000, 0x40000, R | W, "[heap]"));
        var events = DiffAndCheck(old, @new);
        var map = Assert.IsType<RegionMapEvent>(events[0]);
        Assert.Equal((0x20000UL, 0x40000UL), (map.Start, map.End));
        var protect = Assert.IsType<RegionProtectEvent>(Assert.Single(events.Skip(1)));
        Assert.Equal((0x10000UL, 0x40000UL), (protect.Start, protect.End));
    }

    private static List<TraceEvent> DiffAndCheck(MemoryMap old, MemoryMap @new, ulong freshStart, ulong freshEnd)
    {
        var events = MapDiff.Diff(old, @new, freshStart, freshEnd);
        var applied = old.Copy().Apply(events);
        Assert.True(applied.SameAs(@new), $"applied:\n{applied}\nexpected:\n{@new}");
        return events;
    }

    [Fact]
    public void A_new_mapping_the_kernel_merged_with_its_neighbour_is_mapped_alone_then_merged_by_a_protect()
    {
        // An unpacker maps its image page by page (UPX): maps shows one growing line, but the code it
        // already wrote into the first page is still there and must not look replaced.
        var old = Map(Reg(0x400000, 0x401000, R | W));
        var @new = Map(Reg(0x400000, 0x402000, R | W));
        var events = DiffAndCheck(old, @new, 0x401000, 0x402000);
        Assert.Equal(2, events.Count);
        var map = Assert.IsType<RegionMapEvent>(events[0]);
        Assert.Equal((0x401000UL, 0x402000UL), (map.Start, map.End));
        var protect = Assert.IsType<RegionProtectEvent>(events[1]);
        Assert.Equal((0x400000UL, 0x402000UL, R | W), (protect.Start, protect.End, protect.Protection));
    }

    [Fact]
    public void A_fixed_mapping_over_a_like_region_is_mapped_even_though_maps_shows_no_change()
    {
        var old = Map(Reg(0x400000, 0x403000, R | W));
        var @new = Map(Reg(0x400000, 0x403000, R | W));
        var map = Assert.IsType<RegionMapEvent>(DiffAndCheck(old, @new, 0x401000, 0x402000)[0]);
        Assert.Equal((0x401000UL, 0x402000UL), (map.Start, map.End));
        Assert.Empty(DiffAndCheck(old, @new));
    }

    [Fact]
    public void A_file_replaced_under_the_same_name_is_new_contents()
    {
        var old = Map(Reg(0x400000, 0x401000, R | X, "/tmp/x") with { Device = 2049, Inode = 11 });
        var @new = Map(Reg(0x400000, 0x401000, R | X, "/tmp/x") with { Device = 2049, Inode = 12 });
        var map = Assert.IsType<RegionMapEvent>(Assert.Single(DiffAndCheck(old, @new)));
        Assert.Equal((2049UL, 12UL), (map.Device, map.Inode));
    }

    [Fact]
    public void A_split_the_maps_file_cannot_explain_is_a_protect_with_the_same_protection()
    {
        var old = Map(Reg(0x10000, 0x20000, R | W));
        var @new = Map(Reg(0x10000, 0x14000, R | W), Reg(0x14000, 0x20000, R | W)); // e.g. mlock of the tail
        var protect = Assert.IsType<RegionProtectEvent>(Assert.Single(DiffAndCheck(old, @new)));
        Assert.Equal(R | W, protect.Protection);
    }

    [Fact]
    public void The_first_snapshot_maps_every_region()
    {
        var map = ProcMapsParser.Parse(ProcMapsParserTests.Sample);
        var events = DiffAndCheck(new MemoryMap(), map);
        Assert.Equal(map.Regions.Count, events.Count);
        Assert.All(events, e => Assert.IsType<RegionMapEvent>(e));
    }

    // --- property: applying the diff to the old map yields the new map ---

    [Fact]
    public void Applying_the_diff_of_random_edits_yields_the_new_map()
    {
        Gen.Select(RandomMaps.Maps, RandomMaps.Edits).Sample((old, edits) =>
        {
            var @new = edits.Aggregate(old, RandomMaps.Edit);
            DiffAndCheck(old, @new);
        }, iter: 3000, threads: 1);
    }

    [Fact]
    public void Applying_the_diff_of_unrelated_maps_yields_the_new_map()
    {
        Gen.Select(RandomMaps.Maps, RandomMaps.Maps).Sample((old, @new) => DiffAndCheck(old, @new), iter: 3000, threads: 1);
    }

    [Fact]
    public void Edits_that_only_change_protection_produce_no_maps_or_unmaps()
    {
        Gen.Select(RandomMaps.Maps, Gen.Select(Gen.Int[0, 60], Gen.Int[1, 15], Gen.Int[0, 7]).Array[1, 4]).Sample((old, protects) =>
        {
            var @new = protects.Aggregate(old, (m, p) => RandomMaps.Edit(m, (2, p.Item1, p.Item2, 0, p.Item3, 0)));
            Assert.All(DiffAndCheck(old, @new), e => Assert.IsType<RegionProtectEvent>(e));
        }, iter: 2000, threads: 1);
    }
}
