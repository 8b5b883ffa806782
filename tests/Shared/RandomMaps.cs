using CsCheck;
using Ether.Replay.Formats.Memory;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tests.Shared;

/// <summary>
/// Random memory maps for property tests, and random edits of them as a process makes them
/// (mmap, munmap, mprotect) or as the kernel does behind /proc/PID/maps' back (splitting or merging
/// regions, growing one). Pages of a small window so that edits overlap often.
/// </summary>
internal static class RandomMaps
{
    public const ulong Base = 0x7f00_0000_0000;
    public static readonly string[] Names = ["", "[heap]", "[stack]", "/lib/a.so", "/bin/target"];

    /// <summary>A region of <paramref name="pages"/> pages; only file-backed names get an offset.</summary>
    public static Region Make(int page, int pages, int name, int prot, int offset)
    {
        string n = Names[name];
        bool file = n.Length > 0 && n[0] != '[';
        return new Region(Base + (ulong)page * 0x1000, Base + (ulong)(page + pages) * 0x1000,
            (RegionProtection)prot, file ? (ulong)offset * 0x1000 : 0, n);
    }

    public static readonly Gen<MemoryMap> Maps =
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
                return new MemoryMap(regions);
            });

    /// <summary>kind: 0 mmap, 1 munmap, 2 mprotect, 3 invisible split, 4 invisible merge, 5 grow a region.</summary>
    public static readonly Gen<(int Kind, int Page, int Pages, int Name, int Prot, int Offset)[]> Edits =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 60], Gen.Int[1, 15], Gen.Int[0, Names.Length - 1], Gen.Int[0, 15], Gen.Int[0, 20])
            .Array[0, 6];

    /// <summary>The map after one edit (a new map; <paramref name="map"/> is left as it was).</summary>
    public static MemoryMap Edit(MemoryMap map, (int Kind, int Page, int Pages, int Name, int Prot, int Offset) edit)
    {
        var (kind, page, pages, name, prot, offset) = edit;
        ulong start = Base + (ulong)page * 0x1000, end = start + (ulong)pages * 0x1000;
        var regions = map.Regions.ToList();
        switch (kind)
        {
            case 0:
                return map.Copy().Apply([new RegionMapEvent { Start = start, End = end, Protection = (RegionProtection)prot,
                    FileOffset = Make(page, pages, name, prot, offset).FileOffset, Name = Names[name] }]);
            case 1:
                return map.Copy().Apply([new RegionUnmapEvent { Start = start, End = end }]);
            case 2:
            {
                // mprotect cannot change sharing: each region in the range keeps its own bit.
                var events = regions.Where(r => r.Start < end && start < r.End).Select(r => new RegionProtectEvent
                {
                    Start = Math.Max(start, r.Start), End = Math.Min(end, r.End),
                    Protection = ((RegionProtection)prot & ~RegionProtection.Shared) | (r.Protection & RegionProtection.Shared),
                }).ToList();
                return map.Copy().Apply(events);
            }
            case 3:
            {
                int i = regions.FindIndex(r => r.Contains(start) && r.Start != start);
                if (i < 0) return map;
                var r = regions[i];
                regions[i] = r with { End = start };
                regions.Insert(i + 1, r with { Start = start, FileOffset = r.OffsetAt(start) });
                return new MemoryMap(regions);
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
                return new MemoryMap(regions);
            }
            default:
            {
                int i = regions.FindIndex(r => r.Contains(start));
                if (i < 0) return map;
                ulong limit = i + 1 < regions.Count ? regions[i + 1].Start : ulong.MaxValue;
                regions[i] = regions[i] with { End = Math.Min(regions[i].End + (ulong)pages * 0x1000, limit) };
                return new MemoryMap(regions);
            }
        }
    }
}
