using Ether.Replay.Formats.Model;

namespace Ether.Replay.Analyzer.Unpack;

/// <summary>A mapped range of an address space, as the trace's map/unmap/protect events leave it.</summary>
public sealed record MappedRegion(ulong Start, ulong End, RegionProtection Protection, ulong FileOffset, string Name);

/// <summary>
/// The memory map of one address space, replayed from region events: map replaces whatever it
/// overlaps, unmap cuts, protect changes the protection of the covered parts.
/// </summary>
public sealed class RegionMap
{
    private readonly List<MappedRegion> _regions = new(); // sorted by Start, disjoint

    public IReadOnlyList<MappedRegion> Regions => _regions;

    public void Map(ulong start, ulong end, RegionProtection protection, ulong fileOffset, string name)
    {
        if (end <= start) return;
        Cut(start, end);
        Insert(new MappedRegion(start, end, protection, fileOffset, name));
    }

    public void Unmap(ulong start, ulong end)
    {
        if (end > start) Cut(start, end);
    }

    public void Protect(ulong start, ulong end, RegionProtection protection)
    {
        if (end <= start) return;
        var covered = _regions.Where(r => r.Start < end && r.End > start).ToList();
        Cut(start, end);
        foreach (var r in covered)
        {
            ulong s = Math.Max(r.Start, start), e = Math.Min(r.End, end);
            Insert(r with { Start = s, End = e, Protection = protection, FileOffset = r.FileOffset + (s - r.Start) });
        }
    }

    public void Clear() => _regions.Clear();

    /// <summary>The region holding <paramref name="address"/>, or null.</summary>
    public MappedRegion? Find(ulong address)
    {
        int lo = 0, hi = _regions.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var r = _regions[mid];
            if (address < r.Start) hi = mid - 1;
            else if (address >= r.End) lo = mid + 1;
            else return r;
        }
        return null;
    }

    public void Apply(TraceEvent e)
    {
        switch (e)
        {
            case RegionMapEvent m: Map(m.Start, m.End, m.Protection, m.FileOffset, m.Name); break;
            case RegionUnmapEvent u: Unmap(u.Start, u.End); break;
            case RegionProtectEvent p: Protect(p.Start, p.End, p.Protection); break;
        }
    }

    /// <summary>/proc/PID/maps style: "r-xp".</summary>
    public static string Describe(RegionProtection p) => ProtectionNames[(int)p & 15];

    private static readonly string[] ProtectionNames =
        Enumerable.Range(0, 16).Select(i => Build((RegionProtection)i)).ToArray();

    private static string Build(RegionProtection p) => string.Create(4, p, (span, v) =>
    {
        span[0] = (v & RegionProtection.Read) != 0 ? 'r' : '-';
        span[1] = (v & RegionProtection.Write) != 0 ? 'w' : '-';
        span[2] = (v & RegionProtection.Execute) != 0 ? 'x' : '-';
        span[3] = (v & RegionProtection.Shared) != 0 ? 's' : 'p';
    });

    private void Cut(ulong start, ulong end)
    {
        for (int i = 0; i < _regions.Count; i++)
        {
            var r = _regions[i];
            if (r.End <= start || r.Start >= end) continue;
            _regions.RemoveAt(i);
            int at = i;
            if (r.Start < start) _regions.Insert(at++, r with { End = start });
            if (r.End > end) _regions.Insert(at++, r with { Start = end, FileOffset = r.FileOffset + (end - r.Start) });
            i = at - 1;
        }
    }

    private void Insert(MappedRegion region)
    {
        int lo = 0, hi = _regions.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_regions[mid].Start < region.Start) lo = mid + 1;
            else hi = mid;
        }
        _regions.Insert(lo, region);
    }
}
