using Ether.Replay.Formats.Model;

namespace Ether.Replay.Recorder.Recording;

/// <summary>One mapping of an address space, as a line of /proc/PID/maps shows it: [Start, End).</summary>
public readonly record struct Region(ulong Start, ulong End, RegionProtection Protection, ulong FileOffset, string Name)
{
    /// <summary>The backing file's device (glibc makedev encoding) and inode; 0 for anonymous memory.</summary>
    public ulong Device { get; init; }
    public ulong Inode { get; init; }

    public ulong Size => End - Start;
    public bool Contains(ulong address) => address >= Start && address < End;

    /// <summary>
    /// Whether the offset column is a file position that advances with the address. The kernel
    /// prints 0 for mappings without a file; those have bracketed or empty names ([heap], [stack],
    /// [anon:x], [vdso]). Everything else ("/usr/lib/x.so", "/memfd:y (deleted)", "anon_inode:z")
    /// has a file.
    /// </summary>
    public bool HasFile => Name.Length > 0 && Name[0] != '[';

    /// <summary>The file offset that would be shown for a piece of this region starting at <paramref name="address"/>.</summary>
    public ulong OffsetAt(ulong address) => HasFile ? FileOffset + (address - Start) : FileOffset;

    public override string ToString() => $"{Start:x}-{End:x} {ProcMapsParser.Format(Protection)} {FileOffset:x} {Name}";
}

/// <summary>
/// The regions of one address space, sorted and disjoint (a parsed /proc/PID/maps). Immutable.
///
/// <see cref="Diff"/> turns two maps into region events and <see cref="Apply"/> replays events on a
/// map; together they satisfy <c>old.Apply(Diff(old, new)) == new</c> exactly, region boundaries
/// included. Event semantics (what a reader of the trace must implement to rebuild the maps):
/// <list type="bullet">
/// <item>map [s,e): whatever overlapped [s,e) is removed (neighbours cut at s and e), then one region [s,e) is added;</item>
/// <item>unmap [s,e): whatever overlapped [s,e) is removed, neighbours cut at s and e;</item>
/// <item>protect [s,e) p: regions are cut at s and e, every region inside gets protection p, then
/// adjacent regions inside [s,e) with the same name and continuous file offsets become one region
/// (as the kernel merges them). Nothing outside [s,e) is merged.</item>
/// </list>
/// A piece cut from a region with a file keeps a continuous offset (<see cref="Region.OffsetAt"/>).
/// </summary>
public sealed class RegionMap
{
    private readonly Region[] _regions;
    private readonly Region[] _executable;

    public static RegionMap Empty { get; } = new([]);

    /// <summary>Regions in any order; they must not overlap.</summary>
    public RegionMap(IEnumerable<Region> regions)
    {
        _regions = [.. regions.OrderBy(r => r.Start)];
        for (int i = 0; i < _regions.Length; i++)
        {
            if (_regions[i].End <= _regions[i].Start)
                throw new ArgumentException($"empty or inverted region {_regions[i]}");
            if (i > 0 && _regions[i].Start < _regions[i - 1].End)
                throw new ArgumentException($"regions overlap: {_regions[i - 1]} and {_regions[i]}");
        }
        _executable = [.. _regions.Where(r => (r.Protection & RegionProtection.Execute) != 0)];
    }

    public IReadOnlyList<Region> Regions => _regions;

    /// <summary>The regions with execute permission (snapshotted at exec).</summary>
    public IReadOnlyList<Region> Executable => _executable;

    /// <summary>The region holding <paramref name="address"/>, or null when it is unmapped.</summary>
    public Region? Find(ulong address)
    {
        int lo = 0, hi = _regions.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_regions[mid].End <= address) lo = mid + 1;
            else if (_regions[mid].Start > address) hi = mid - 1;
            else return _regions[mid];
        }
        return null;
    }

    public bool SameAs(RegionMap other) => _regions.AsSpan().SequenceEqual(other._regions);

    public override string ToString() => string.Join('\n', _regions);

    /// <summary>
    /// The region events that turn <paramref name="old"/> into <paramref name="new"/>, in the order
    /// to apply them: unmaps of what is gone, then per new region (by address) a protect when only
    /// its protection or boundaries changed, or a map when its contents changed (new, moved, grown,
    /// replaced). Step, pid and tid are left for the caller to fill in.
    /// </summary>
    public static List<TraceEvent> Diff(RegionMap old, RegionMap @new) => Diff(old, @new, 0, 0);

    /// <summary>
    /// As <see cref="Diff(RegionMap, RegionMap)"/>, knowing that [<paramref name="freshStart"/>,
    /// <paramref name="freshEnd"/>) got new contents (the range an mmap returned): the kernel merges a
    /// new anonymous mapping with a like neighbour into one line of maps, and only the new part may be
    /// reported as mapped — a map event over the whole line would tell a reader that the neighbour's
    /// contents (code an unpacker wrote there) were replaced. Such a line becomes map events for its
    /// new parts and a protect over the whole (which merges the pieces as the kernel did).
    /// </summary>
    public static List<TraceEvent> Diff(RegionMap old, RegionMap @new, ulong freshStart, ulong freshEnd)
    {
        var events = new List<TraceEvent>();
        var current = new List<Region>(old._regions);

        // 1. Unmap what the new map no longer covers, in maximal runs.
        foreach (var (start, end) in Uncovered(old._regions, @new._regions))
        {
            events.Add(new RegionUnmapEvent { Start = start, End = end });
            Unmap(current, start, end);
        }

        // 2. Contents and protections: a region that sits on the same contents (name, sharing,
        //    offsets) only needs a protect; anything else is (re)mapped.
        var boundaryOnly = new List<Region>();
        foreach (var region in @new._regions)
        {
            switch (Compare(current, region, freshStart, freshEnd, out var newParts))
            {
                case Change.Partial:
                    foreach (var (start, end) in newParts!)
                    {
                        var piece = region with { Start = start, End = end, FileOffset = region.OffsetAt(start) };
                        events.Add(MapEvent(piece));
                        Map(current, piece);
                    }
                    events.Add(new RegionProtectEvent { Start = region.Start, End = region.End, Protection = region.Protection });
                    Protect(current, region.Start, region.End, region.Protection);
                    break;
                case Change.None:
                    break;
                case Change.Boundaries:
                    boundaryOnly.Add(region);
                    break;
                case Change.Protection:
                    events.Add(new RegionProtectEvent { Start = region.Start, End = region.End, Protection = region.Protection });
                    Protect(current, region.Start, region.End, region.Protection);
                    break;
                default:
                    events.Add(MapEvent(region));
                    Map(current, region);
                    break;
            }
        }

        // 3. Same contents and protection, different cuts (the kernel split or merged regions for
        //    reasons maps does not show, e.g. mlock): a protect with the same protection re-cuts them,
        //    unless the events above already did.
        foreach (var region in boundaryOnly)
        {
            if (IndexOfExact(current, region) >= 0) continue;
            events.Add(new RegionProtectEvent { Start = region.Start, End = region.End, Protection = region.Protection });
            Protect(current, region.Start, region.End, region.Protection);
        }
        return events;
    }

    /// <summary>This map with <paramref name="events"/> (map, unmap, protect; others ignored) applied in order.</summary>
    public RegionMap Apply(IEnumerable<TraceEvent> events)
    {
        var current = new List<Region>(_regions);
        foreach (var e in events)
        {
            switch (e)
            {
                case RegionMapEvent m:
                    Map(current, new Region(m.Start, m.End, m.Protection, m.FileOffset, m.Name) { Device = m.Device, Inode = m.Inode });
                    break;
                case RegionUnmapEvent u:
                    Unmap(current, u.Start, u.End);
                    break;
                case RegionProtectEvent p:
                    Protect(current, p.Start, p.End, p.Protection);
                    break;
            }
        }
        return new RegionMap(current);
    }

    private static RegionMapEvent MapEvent(Region r) =>
        new() { Start = r.Start, End = r.End, Protection = r.Protection, FileOffset = r.FileOffset, Name = r.Name, Device = r.Device, Inode = r.Inode };

    private enum Change { None, Boundaries, Protection, Partial, Contents }

    /// <summary>
    /// How <paramref name="target"/> differs from what <paramref name="current"/> has at its addresses.
    /// Partial: some of it sits on the same contents and the rest (<paramref name="newParts"/>: holes,
    /// and what lies in the fresh range) is new.
    /// </summary>
    private static Change Compare(List<Region> current, Region target, ulong freshStart, ulong freshEnd, out List<(ulong Start, ulong End)>? newParts)
    {
        newParts = null;
        bool freshHere = freshEnd > freshStart && freshStart < target.End && freshEnd > target.Start;
        if (!freshHere && IndexOfExact(current, target) >= 0) return Change.None;
        int i = FirstEndingAfter(current, target.Start);
        ulong covered = target.Start;
        bool sameProtection = true, anySame = false;
        var parts = new List<(ulong Start, ulong End)>();
        void New(ulong start, ulong end)
        {
            if (end <= start) return;
            if (parts.Count > 0 && parts[^1].End >= start) parts[^1] = (parts[^1].Start, Math.Max(end, parts[^1].End));
            else parts.Add((start, end));
        }
        for (; i < current.Count && current[i].Start < target.End; i++)
        {
            var piece = current[i];
            if (piece.Start > covered) New(covered, piece.Start); // a hole
            ulong at = Math.Max(piece.Start, target.Start);
            if (piece.Name != target.Name || piece.Inode != target.Inode || piece.Device != target.Device || piece.OffsetAt(at) != target.OffsetAt(at)
                || (piece.Protection & RegionProtection.Shared) != (target.Protection & RegionProtection.Shared))
                return Change.Contents;
            anySame = true;
            sameProtection &= piece.Protection == target.Protection;
            covered = piece.End;
        }
        if (covered < target.End) New(covered, target.End);
        if (freshHere) New(Math.Max(freshStart, target.Start), Math.Min(freshEnd, target.End));
        parts.Sort();
        var merged = new List<(ulong Start, ulong End)>();
        foreach (var p in parts)
        {
            if (merged.Count > 0 && merged[^1].End >= p.Start) merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, p.End));
            else merged.Add(p);
        }
        if (merged.Count > 0)
        {
            if (!anySame || (merged.Count == 1 && merged[0].Start <= target.Start && merged[0].End >= target.End)) return Change.Contents;
            newParts = merged;
            return Change.Partial;
        }
        return sameProtection ? Change.Boundaries : Change.Protection;
    }

    /// <summary>[start, end) runs covered by <paramref name="old"/> and not by <paramref name="new"/>, merged where adjacent.</summary>
    private static List<(ulong Start, ulong End)> Uncovered(Region[] old, Region[] @new)
    {
        var runs = new List<(ulong Start, ulong End)>();
        int j = 0;
        foreach (var o in old)
        {
            ulong x = o.Start;
            while (x < o.End)
            {
                while (j < @new.Length && @new[j].End <= x) j++;
                ulong pieceEnd;
                if (j == @new.Length || @new[j].Start >= o.End) pieceEnd = o.End;
                else if (@new[j].Start > x) pieceEnd = @new[j].Start;
                else
                {
                    x = Math.Min(@new[j].End, o.End); // covered by the new map
                    continue;
                }
                if (runs.Count > 0 && runs[^1].End == x) runs[^1] = (runs[^1].Start, pieceEnd);
                else runs.Add((x, pieceEnd));
                x = pieceEnd;
            }
        }
        return runs;
    }

    // --- list operations shared by Diff and Apply ---

    /// <summary>Index of the first region whose End is above <paramref name="address"/>.</summary>
    private static int FirstEndingAfter(List<Region> regions, ulong address)
    {
        int lo = 0, hi = regions.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (regions[mid].End <= address) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static int IndexOfExact(List<Region> regions, Region region)
    {
        int i = FirstEndingAfter(regions, region.Start);
        return i < regions.Count && regions[i] == region ? i : -1;
    }

    /// <summary>Cuts the region holding <paramref name="address"/> (if any) in two there; returns the index of the part at or after it.</summary>
    private static int CutAt(List<Region> regions, ulong address)
    {
        int i = FirstEndingAfter(regions, address);
        if (i < regions.Count && regions[i].Start < address)
        {
            var r = regions[i];
            regions[i] = r with { End = address };
            regions.Insert(i + 1, r with { Start = address, FileOffset = r.OffsetAt(address) });
            return i + 1;
        }
        return i;
    }

    /// <summary>Cuts at both ends and returns the index range [from, to) of the regions inside [start, end).</summary>
    private static (int From, int To) Isolate(List<Region> regions, ulong start, ulong end)
    {
        int from = CutAt(regions, start);
        int to = CutAt(regions, end);
        return (from, to);
    }

    private static void Unmap(List<Region> regions, ulong start, ulong end)
    {
        if (end <= start) return;
        var (from, to) = Isolate(regions, start, end);
        regions.RemoveRange(from, to - from);
    }

    private static void Map(List<Region> regions, Region region)
    {
        if (region.End <= region.Start) return;
        var (from, to) = Isolate(regions, region.Start, region.End);
        regions.RemoveRange(from, to - from);
        regions.Insert(from, region);
    }

    private static void Protect(List<Region> regions, ulong start, ulong end, RegionProtection protection)
    {
        if (end <= start) return;
        var (from, to) = Isolate(regions, start, end);
        for (int i = from; i < to; i++) regions[i] = regions[i] with { Protection = protection };
        // Merge runs inside the range, right to left so indices stay valid.
        for (int i = to - 1; i > from; i--)
        {
            var left = regions[i - 1];
            var right = regions[i];
            if (left.End == right.Start && left.Name == right.Name && left.Inode == right.Inode && right.FileOffset == left.OffsetAt(right.Start))
            {
                regions[i - 1] = left with { End = right.End };
                regions.RemoveAt(i);
            }
        }
    }
}
