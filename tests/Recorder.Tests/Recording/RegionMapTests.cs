using System.Runtime.InteropServices;
using CsCheck;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Recorder.Tests.Recording;

public class RegionMapTests
{
    private const RegionProtection R = RegionProtection.Read, W = RegionProtection.Write,
        X = RegionProtection.Execute, S = RegionProtection.Shared;

    private const string Sample = """
        55ed1f5ac000-55ed1f5ae000 r--p 00000000 fe:00 247270                     /usr/bin/cat
        55ed1f5ae000-55ed1f5b3000 r-xp 00002000 fe:00 247270                     /usr/bin/cat
        55ed2205e000-55ed2207f000 rw-p 00000000 00:00 0                          [heap]
        7f23b3b44000-7f23b3b66000 rw-p 00000000 00:00 0 
        7f23b3dac000-7f23b3db3000 r--s 00000000 fe:00 331548                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
        7f23b3e00000-7f23b3e01000 rwxp 00001000 00:01 4242                       /memfd:stage two (deleted)
        7ffd4d2b4000-7ffd4d2d5000 rw-p 00000000 00:00 0                          [stack]
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        """;

    private static Region Reg(ulong start, ulong end, RegionProtection p, string name = "", ulong offset = 0) =>
        new(start, end, p, offset, name);

    private static RegionMap Map(params Region[] regions) => new(regions);

    // --- parsing ---

    [Fact]
    public void Parses_every_field_of_a_maps_file()
    {
        var map = ProcMapsParser.Parse(Sample);
        Assert.Equal(8, map.Regions.Count);
        Assert.Equal(Reg(0x55ed1f5ae000, 0x55ed1f5b3000, R | X, "/usr/bin/cat", 0x2000), map.Regions[1]);
        Assert.Equal(Reg(0x55ed2205e000, 0x55ed2207f000, R | W, "[heap]"), map.Regions[2]);
        Assert.Equal(Reg(0x7f23b3b44000, 0x7f23b3b66000, R | W, ""), map.Regions[3]);
        Assert.Equal(R | S, map.Regions[4].Protection);
        Assert.Equal("/memfd:stage two (deleted)", map.Regions[5].Name);
        Assert.Equal(Reg(0xffffffffff600000, 0xffffffffff601000, X, "[vsyscall]"), map.Regions[7]);
    }

    [Fact]
    public void Parses_this_process_maps_and_finds_libc_code()
    {
        var map = ProcMapsParser.Parse(File.ReadAllText("/proc/self/maps"));
        Assert.NotEmpty(map.Executable);
        var libc = NativeLibrary.Load("libc.so.6");
        ulong getpid = (ulong)NativeLibrary.GetExport(libc, "getpid");
        var region = map.Find(getpid);
        Assert.NotNull(region);
        Assert.Contains("libc", region.Value.Name);
        Assert.True((region.Value.Protection & X) != 0);
        Assert.Contains(region.Value, map.Executable);
    }

    [Theory]
    [InlineData("zz-1000 r--p 00000000 00:00 0", "address range")]
    [InlineData("2000-1000 r--p 00000000 00:00 0", "address range")]
    [InlineData("1000-2000 r-- 00000000 00:00 0", "permissions")]
    [InlineData("1000-2000 rwxq 00000000 00:00 0", "permissions")]
    [InlineData("1000-2000 r--p 0000g000 00:00 0", "offset")]
    [InlineData("1000-2000 r--p 00000000 0000 0", "device")]
    [InlineData("1000-2000 r--p 00000000 00:00", "inode")]
    public void A_malformed_line_names_itself(string line, string what)
    {
        var e = Assert.Throws<FormatException>(() => ProcMapsParser.Parse("1000-2000 r--p 00000000 00:00 0\n\n" + line.Replace("1000-2000", "3000-4000").Replace("2000-1000", "4000-3000")));
        Assert.Contains("line 3", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Overlapping_lines_are_rejected()
    {
        var e = Assert.Throws<FormatException>(() =>
            ProcMapsParser.Parse("1000-3000 r--p 00000000 00:00 0\n2000-4000 r--p 00000000 00:00 0\n"));
        Assert.Contains("overlap", e.Message);
    }

    // --- lookup ---

    [Fact]
    public void Find_returns_the_containing_region_or_null()
    {
        var map = ProcMapsParser.Parse(Sample);
        Assert.Equal("[heap]", map.Find(0x55ed2205e000)!.Value.Name);
        Assert.Equal("[heap]", map.Find(0x55ed2207efff)!.Value.Name);
        Assert.Null(map.Find(0x55ed2207f000));
        Assert.Null(map.Find(0x1000));
        Assert.Equal("[vsyscall]", map.Find(0xffffffffff600800)!.Value.Name);
        Assert.Equal(["/usr/bin/cat", "/memfd:stage two (deleted)", "[vsyscall]"], map.Executable.Select(r => r.Name));
    }

    // --- diff ---

    private static List<TraceEvent> DiffAndCheck(RegionMap old, RegionMap @new)
    {
        var events = RegionMap.Diff(old, @new);
        var applied = old.Apply(events);
        Assert.True(applied.SameAs(@new), $"applied:\n{applied}\nexpected:\n{@new}");
        return events;
    }

    private static List<TraceEvent> DiffAndCheck(RegionMap old, RegionMap @new, ulong freshStart, ulong freshEnd)
    {
        var events = RegionMap.Diff(old, @new, freshStart, freshEnd);
        var applied = old.Apply(events);
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
        // Without the fresh range (brk growing the heap) the hole alone is new, too.
        Assert.IsType<RegionMapEvent>(DiffAndCheck(old, @new)[0]);
        Assert.Equal(0x401000UL, ((RegionMapEvent)DiffAndCheck(old, @new)[0]).Start);
    }

    [Fact]
    public void A_fixed_mapping_over_a_like_region_is_mapped_even_though_maps_shows_no_change()
    {
        var old = Map(Reg(0x400000, 0x403000, R | W));
        var @new = Map(Reg(0x400000, 0x403000, R | W));
        var events = DiffAndCheck(old, @new, 0x401000, 0x402000);
        var map = Assert.IsType<RegionMapEvent>(events[0]);
        Assert.Equal((0x401000UL, 0x402000UL), (map.Start, map.End));
        Assert.Empty(DiffAndCheck(old, @new));
    }

    [Fact]
    public void Identical_maps_give_no_events()
    {
        var map = ProcMapsParser.Parse(Sample);
        Assert.Empty(DiffAndCheck(map, ProcMapsParser.Parse(Sample)));
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
        var unmap = Assert.IsType<RegionUnmapEvent>(Assert.Single(DiffAndCheck(old, RegionMap.Empty)));
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
        var map = ProcMapsParser.Parse(Sample);
        var events = DiffAndCheck(RegionMap.Empty, map);
        Assert.Equal(map.Regions.Count, events.Count);
        Assert.All(events, e => Assert.IsType<RegionMapEvent>(e));
    }

    // --- property: applying the diff to the old map yields the new map ---

    private const ulong Base = 0x7f00_0000_0000;
    private static readonly string[] Names = ["", "[heap]", "[stack]", "/lib/a.so", "/bin/target"];

    private static Region Make(int page, int pages, int name, int prot, int offset)
    {
        string n = Names[name];
        bool file = n.Length > 0 && n[0] != '[';
        return new Region(Base + (ulong)page * 0x1000, Base + (ulong)(page + pages) * 0x1000,
            (RegionProtection)prot, file ? (ulong)offset * 0x1000 : 0, n);
    }

    private static readonly Gen<RegionMap> Maps =
        Gen.Select(Gen.Int[0, 3], Gen.Int[1, 6], Gen.Int[0, Names.Length - 1], Gen.Int[0, 15], Gen.Int[0, 20])
            .Array[0, 12]
            .Select(parts =>
            {
                var regions = new List<Region>();
                int page = 0;
                foreach (var (gap, pages, name, prot, offset) in parts)
                {
                    page += gap;
                    regions.Add(Make(page, pages, name, prot, offset));
                    page += pages;
                }
                return new RegionMap(regions);
            });

    /// <summary>kind: 0 mmap, 1 munmap, 2 mprotect, 3 invisible split, 4 invisible merge, 5 grow a region.</summary>
    private static readonly Gen<(int Kind, int Page, int Pages, int Name, int Prot, int Offset)[]> Edits =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 60], Gen.Int[1, 15], Gen.Int[0, Names.Length - 1], Gen.Int[0, 15], Gen.Int[0, 20])
            .Array[0, 6];

    private static RegionMap Edit(RegionMap map, (int Kind, int Page, int Pages, int Name, int Prot, int Offset) edit)
    {
        var (kind, page, pages, name, prot, offset) = edit;
        ulong start = Base + (ulong)page * 0x1000, end = start + (ulong)pages * 0x1000;
        var regions = map.Regions.ToList();
        switch (kind)
        {
            case 0:
                return map.Apply([new RegionMapEvent { Start = start, End = end, Protection = (RegionProtection)prot,
                    FileOffset = Make(page, pages, name, prot, offset).FileOffset, Name = Names[name] }]);
            case 1:
                return map.Apply([new RegionUnmapEvent { Start = start, End = end }]);
            case 2:
            {
                // mprotect cannot change sharing: each region in the range keeps its own bit.
                var events = regions.Where(r => r.Start < end && start < r.End).Select(r => new RegionProtectEvent
                {
                    Start = Math.Max(start, r.Start), End = Math.Min(end, r.End),
                    Protection = ((RegionProtection)prot & ~S) | (r.Protection & S),
                }).ToList();
                return map.Apply(events);
            }
            case 3:
            {
                int i = regions.FindIndex(r => r.Contains(start) && r.Start != start);
                if (i < 0) return map;
                var r = regions[i];
                regions[i] = r with { End = start };
                regions.Insert(i + 1, r with { Start = start, FileOffset = r.OffsetAt(start) });
                return new RegionMap(regions);
            }
            case 4:
            {
                int i = regions.FindIndex(r => r.Contains(start));
                if (i < 0 || i + 1 >= regions.Count) return map;
                var (l, r) = (regions[i], regions[i + 1]);
                if (l.End != r.Start || l.Name != r.Name || l.Protection != r.Protection || r.FileOffset != l.OffsetAt(r.Start))
                    return map;
                regions[i] = l with { End = r.End };
                regions.RemoveAt(i + 1);
                return new RegionMap(regions);
            }
            default:
            {
                int i = regions.FindIndex(r => r.Contains(start));
                if (i < 0) return map;
                ulong limit = i + 1 < regions.Count ? regions[i + 1].Start : ulong.MaxValue;
                regions[i] = regions[i] with { End = Math.Min(regions[i].End + (ulong)pages * 0x1000, limit) };
                return new RegionMap(regions);
            }
        }
    }

    [Fact]
    public void Applying_the_diff_of_random_edits_yields_the_new_map()
    {
        Gen.Select(Maps, Edits).Sample((old, edits) =>
        {
            var @new = edits.Aggregate(old, Edit);
            DiffAndCheck(old, @new);
        }, iter: 3000, threads: 1);
    }

    [Fact]
    public void Applying_the_diff_of_unrelated_maps_yields_the_new_map()
    {
        Gen.Select(Maps, Maps).Sample((old, @new) => DiffAndCheck(old, @new), iter: 3000, threads: 1);
    }

    [Fact]
    public void Edits_that_only_change_protection_produce_no_maps_or_unmaps()
    {
        Gen.Select(Maps, Gen.Select(Gen.Int[0, 60], Gen.Int[1, 15], Gen.Int[0, 7]).Array[1, 4]).Sample((old, protects) =>
        {
            var @new = protects.Aggregate(old, (m, p) => Edit(m, (2, p.Item1, p.Item2, 0, p.Item3, 0)));
            Assert.All(DiffAndCheck(old, @new), e => Assert.IsType<RegionProtectEvent>(e));
        }, iter: 2000, threads: 1);
    }
}
