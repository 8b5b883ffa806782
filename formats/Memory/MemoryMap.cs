using System.Runtime.InteropServices;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Memory;

/// <summary>
/// The memory map of one address space — sorted, disjoint <see cref="Region"/>s, as /proc/PID/maps
/// shows them — and the one implementation of the trace format's region events
/// (docs/trace-format.md, "Region events"). Writers diff maps into events (the ptrace recorder's
/// MapDiff); readers (replay, unpack layers, layer dumps, the browser) apply them here, so both sides
/// agree on every boundary and offset:
/// <list type="bullet">
/// <item>map [s,e): whatever overlapped [s,e) is removed (neighbours cut at s and e), then one region [s,e) is added;</item>
/// <item>unmap [s,e): whatever overlapped [s,e) is removed, neighbours cut at s and e;</item>
/// <item>protect [s,e) p: regions are cut at s and e, every region inside gets protection p, then
/// adjacent regions inside [s,e) with the same name and continuous file offsets become one region
/// (as the kernel merges them). Nothing outside [s,e) is merged.</item>
/// </list>
/// A piece cut from a region keeps the offset <see cref="Region.OffsetAt"/> gives: continuous for a
/// file, unchanged for memory without one.
/// </summary>
public sealed class MemoryMap
{
    private readonly List<Region> _regions;

    public MemoryMap() => _regions = [];

    /// <summary>A map holding <paramref name="regions"/> (any order); they must not overlap or be empty.</summary>
    public MemoryMap(IEnumerable<Region> regions)
    {
        _regions = [.. regions.OrderBy(r => r.Start)];
        for (int i = 0; i < _regions.Count; i++)
        {
            if (_regions[i].End <= _regions[i].Start)
                throw new ArgumentException($"empty or inverted region {_regions[i]}");
            if (i > 0 && _regions[i].Start < _regions[i - 1].End)
                throw new ArgumentException($"regions overlap: {_regions[i - 1]} and {_regions[i]}");
        }
    }

    private MemoryMap(List<Region> regions, bool _) => _regions = regions;

    /// <summary>The regions by address.</summary>
    public IReadOnlyList<Region> Regions => _regions;

    /// <summary>The regions with execute permission (what the recorder snapshots at exec).</summary>
    public IReadOnlyList<Region> Executable => [.. _regions.Where(r => (r.Protection & RegionProtection.Execute) != 0)];

    /// <summary>An independent copy (a forked child's map starts as its parent's).</summary>
    public MemoryMap Copy() => new([.. _regions], true);

    /// <summary>The region holding <paramref name="address"/>, or null when it is unmapped.</summary>
    public Region? Find(ulong address)
    {
        int i = FirstEndingAfter(address);
        return i < _regions.Count && _regions[i].Start <= address ? _regions[i] : null;
    }

    /// <summary>The regions that overlap [start, end), by address (valid until the map changes).</summary>
    public ReadOnlySpan<Region> Overlapping(ulong start, ulong end)
    {
        int from = FirstEndingAfter(start), to = from;
        while (to < _regions.Count && _regions[to].Start < end) to++;
        return CollectionsMarshal.AsSpan(_regions)[from..to];
    }

    /// <summary>True when the map holds exactly this region (same boundaries, protection, offset and name).</summary>
    public bool Holds(Region region)
    {
        int i = FirstEndingAfter(region.Start);
        return i < _regions.Count && _regions[i] == region;
    }

    public bool SameAs(MemoryMap other) => CollectionsMarshal.AsSpan(_regions).SequenceEqual(CollectionsMarshal.AsSpan(other._regions));

    public override string ToString() => string.Join('\n', _regions);

    /// <summary>Applies a map, unmap or protect event; returns false (and changes nothing) for any other event.</summary>
    public bool Apply(TraceEvent e)
    {
        switch (e)
        {
            case RegionMapEvent m: Map(Region.Of(m)); return true;
            case RegionUnmapEvent u: Unmap(u.Start, u.End); return true;
            case RegionProtectEvent p: Protect(p.Start, p.End, p.Protection); return true;
            default: return false;
        }
    }

    /// <summary>Applies every region event of <paramref name="events"/> in order; returns this map.</summary>
    public MemoryMap Apply(IEnumerable<TraceEvent> events)
    {
        foreach (var e in events) Apply(e);
        return this;
    }

    public void Clear() => _regions.Clear();

    /// <summary>map: whatever overlapped the region is removed, then the region is added.</summary>
    public void Map(Region region)
    {
        if (region.End <= region.Start) return;
        var (from, to) = Isolate(region.Start, region.End);
        _regions.RemoveRange(from, to - from);
        _regions.Insert(from, region);
    }

    /// <summary>unmap: whatever overlapped [start, end) is removed.</summary>
    public void Unmap(ulong start, ulong end)
    {
        if (end <= start) return;
        var (from, to) = Isolate(start, end);
        _regions.RemoveRange(from, to - from);
    }

    /// <summary>protect: what lies in [start, end) gets <paramref name="protection"/>; pieces inside that the kernel would merge become one.</summary>
    public void Protect(ulong start, ulong end, RegionProtection protection)
    {
        if (end <= start) return;
        var (from, to) = Isolate(start, end);
        for (int i = from; i < to; i++) _regions[i] = _regions[i] with { Protection = protection };
        // Merge runs inside the range, right to left so indices stay valid.
        for (int i = to - 1; i > from; i--)
        {
            var left = _regions[i - 1];
            var right = _regions[i];
            if (left.End == right.Start && left.Name == right.Name && left.Inode == right.Inode && right.FileOffset == left.OffsetAt(right.Start))
            {
                _regions[i - 1] = left with { End = right.End };
                _regions.RemoveAt(i);
            }
        }
    }

    /// <summary>Index of the first region whose End is above <paramref name="address"/>.</summary>
    private int FirstEndingAfter(ulong address)
    {
        int lo = 0, hi = _regions.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_regions[mid].End <= address) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>Cuts the region holding <paramref name="address"/> (if any) in two there; returns the index of the part at or after it.</summary>
    private int CutAt(ulong address)
    {
        int i = FirstEndingAfter(address);
        if (i < _regions.Count && _regions[i].Start < address)
        {
            var r = _regions[i];
            _regions[i] = r with { End = address };
            _regions.Insert(i + 1, r with { Start = address, FileOffset = r.OffsetAt(address) });
            return i + 1;
        }
        return i;
    }

    /// <summary>Cuts at both ends and returns the index range [from, to) of the regions inside [start, end).</summary>
    private (int From, int To) Isolate(ulong start, ulong end)
    {
        int from = CutAt(start);
        int to = CutAt(end);
        return (from, to);
    }
}
