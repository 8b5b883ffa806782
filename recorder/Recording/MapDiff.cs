using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// The writer's half of the memory map: the region events that turn one map (the last
/// /proc/PID/maps the recorder read) into another (the one it just read). The events follow the
/// trace format's rules, which <see cref="MemoryMap"/> implements for every reader, and satisfy
/// <c>old.Copy().Apply(Diff(old, new)).SameAs(new)</c> exactly, region boundaries included.
/// </summary>
public static class MapDiff
{
    /// <summary>
    /// The region events that turn <paramref name="old"/> into <paramref name="new"/>, in the order
    /// to apply them: unmaps of what is gone, then per new region (by address) a protect when only
    /// its protection or boundaries changed, or a map when its contents changed (new, moved, grown,
    /// replaced). Step, pid and tid are left for the caller to fill in.
    /// </summary>
    public static List<TraceEvent> Diff(MemoryMap old, MemoryMap @new) => Diff(old, @new, 0, 0);

    /// <summary>
    /// As <see cref="Diff(MemoryMap, MemoryMap)"/>, knowing that [<paramref name="freshStart"/>,
    /// <paramref name="freshEnd"/>) got new contents (the range an mmap returned). The kernel merges a
    /// new anonymous mapping with a like neighbour into one line of maps (an unpacker mapping its image
    /// page by page), and brk grows the heap's line: a map event over the whole line would tell a
    /// reader that the neighbour's contents (code an unpacker wrote there) were replaced. Such a line
    /// becomes map events for its new parts and a protect over the whole, which merges the pieces as
    /// the kernel did.
    /// </summary>
    public static List<TraceEvent> Diff(MemoryMap old, MemoryMap @new, ulong freshStart, ulong freshEnd)
    {
        var events = new List<TraceEvent>();
        var current = old.Copy();

        // 1. Unmap what the new map no longer covers, in maximal runs.
        foreach (var (start, end) in Uncovered(old.Regions, @new.Regions))
        {
            events.Add(new RegionUnmapEvent { Start = start, End = end });
            current.Unmap(start, end);
        }

        // 2. Contents and protections: a region that sits on the same contents (name, sharing,
        //    offsets) only needs a protect; anything else is (re)mapped.
        var boundaryOnly = new List<Region>();
        foreach (var region in @new.Regions)
        {
            switch (Compare(current, region, freshStart, freshEnd, out var newParts))
            {
                case Change.Partial:
                    foreach (var (start, end) in newParts!)
                    {
                        var piece = region with { Start = start, End = end, FileOffset = region.OffsetAt(start) };
                        events.Add(piece.ToMapEvent());
                        current.Map(piece);
                    }
                    events.Add(new RegionProtectEvent { Start = region.Start, End = region.End, Protection = region.Protection });
                    current.Protect(region.Start, region.End, region.Protection);
                    break;
                case Change.None:
                    break;
                case Change.Boundaries:
                    boundaryOnly.Add(region);
                    break;
                case Change.Protection:
                    events.Add(new RegionProtectEvent { Start = region.Start, End = region.End, Protection = region.Protection });
                    current.Protect(region.Start, region.End, region.Protection);
                    break;
                default:
                    events.Add(region.ToMapEvent());
                    current.Map(region);
                    break;
            }
        }

        // 3. Same contents and protection, different cuts (the kernel split or merged regions for
        //    reasons maps does not show, e.g. mlock): a protect with the same protection re-cuts them,
        //    unless the events above already did.
        foreach (var region in boundaryOnly)
        {
            if (current.Holds(region)) continue;
            events.Add(new RegionProtectEvent { Start = region.Start, End = region.End, Protection = region.Protection });
            current.Protect(region.Start, region.End, region.Protection);
        }
        return events;
    }

    private enum Change { None, Boundaries, Protection, Partial, Contents }

    /// <summary>
    /// How <paramref name="target"/> differs from what <paramref name="current"/> has at its addresses.
    /// Partial: some of it sits on the same contents and the rest (<paramref name="newParts"/>: holes,
    /// and what lies in the fresh range) is new.
    /// </summary>
    private static Change Compare(MemoryMap current, Region target, ulong freshStart, ulong freshEnd, out List<(ulong Start, ulong End)>? newParts)
    {
        newParts = null;
        bool freshHere = freshEnd > freshStart && freshStart < target.End && freshEnd > target.Start;
        if (!freshHere && current.Holds(target)) return Change.None;
        ulong covered = target.Start;
        bool sameProtection = true, anySame = false;
        var parts = new List<(ulong Start, ulong End)>();
        foreach (var piece in current.Overlapping(target.Start, target.End))
        {
            if (piece.Start > covered) parts.Add((covered, piece.Start)); // a hole
            ulong at = Math.Max(piece.Start, target.Start);
            if (piece.Name != target.Name || piece.Inode != target.Inode || piece.Device != target.Device
                || piece.OffsetAt(at) != target.OffsetAt(at)
                || (piece.Protection & RegionProtection.Shared) != (target.Protection & RegionProtection.Shared))
                return Change.Contents;
            anySame = true;
            sameProtection &= piece.Protection == target.Protection;
            covered = piece.End;
        }
        if (covered < target.End) parts.Add((covered, target.End));
        if (freshHere) parts.Add((Math.Max(freshStart, target.Start), Math.Min(freshEnd, target.End)));
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
    private static List<(ulong Start, ulong End)> Uncovered(IReadOnlyList<Region> old, IReadOnlyList<Region> @new)
    {
        var runs = new List<(ulong Start, ulong End)>();
        int j = 0;
        foreach (var o in old)
        {
            ulong x = o.Start;
            while (x < o.End)
            {
                while (j < @new.Count && @new[j].End <= x) j++;
                ulong pieceEnd;
                if (j == @new.Count || @new[j].Start >= o.End) pieceEnd = o.End;
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
}
