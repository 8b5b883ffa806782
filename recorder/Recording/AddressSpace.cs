using Ether.Replay.Formats.Model;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// What the recorder knows about one address space (shared by the threads of a process and by a
/// vfork child until it execs): the code it has decoded (<see cref="CodeCache"/>), the pages
/// written since they last ran (unpacking), and the region map.
///
/// TODO(reclogic): the written-page set and the region map below are bring-up stand-ins until
/// UnpackTracker and RegionMap/ProcMapsParser land; this class then forwards to them.
/// </summary>
internal sealed class AddressSpace
{
    private const int PageShift = 12;

    private readonly CodeCache _code;
    private HashSet<ulong> _writtenPages = new();
    private List<Region> _regions = new();

    public AddressSpace(ICodeMemory memory) => _code = new CodeCache(memory);

    private AddressSpace(CodeCache code) => _code = code;

    public IReadOnlyList<Region> Regions => _regions;
    public CodeCache Code => _code;

    /// <summary>The instruction at <paramref name="rip"/> (valid until the next fetch).</summary>
    public ref readonly CodeEntry Fetch(ulong rip, int bitness) => ref _code.Get(rip, bitness);

    /// <summary>Memory changed (by an instruction or the kernel): forget code there, mark the pages written.</summary>
    public void NoteWrite(ulong address, long length)
    {
        if (length <= 0) return;
        _code.Invalidate(address, length);
        ulong first = address >> PageShift, last = (address + (ulong)length - 1) >> PageShift;
        if (last - first > 1 << 20) last = first + (1 << 20);
        for (ulong page = first; page <= last; page++) _writtenPages.Add(page);
    }

    /// <summary>True when execution at <paramref name="rip"/> enters a page written since it last executed.</summary>
    public bool IsUnpackMoment(ulong rip) => _writtenPages.Count != 0 && _writtenPages.Remove(rip >> PageShift);

    /// <summary>The copy a fork child starts with (its memory is a copy of the parent's).</summary>
    public AddressSpace CopyForFork(ICodeMemory childMemory) => new(_code.Fork(childMemory))
    {
        _writtenPages = new HashSet<ulong>(_writtenPages),
        _regions = new List<Region>(_regions),
    };

    public Region? Find(ulong address)
    {
        foreach (var r in _regions)
            if (address >= r.Start && address < r.End) return r;
        return null;
    }

    /// <summary>Re-reads /proc/PID/maps and appends the region events that turn the old map into the new one.</summary>
    public void RefreshRegions(int pid, List<TraceEvent> events)
    {
        var fresh = ParseMaps(ProcFs.ReadMaps(pid));
        var old = _regions.ToDictionary(r => (r.Start, r.End));
        var now = fresh.ToDictionary(r => (r.Start, r.End));
        foreach (var r in _regions)
            if (!now.TryGetValue((r.Start, r.End), out var n) || n.Name != r.Name || n.Offset != r.Offset)
            {
                events.Add(new RegionUnmapEvent { Start = r.Start, End = r.End });
                _code.Invalidate(r.Start, (long)r.Size);
            }
        foreach (var r in fresh)
        {
            if (!old.TryGetValue((r.Start, r.End), out var o) || o.Name != r.Name || o.Offset != r.Offset)
            {
                events.Add(new RegionMapEvent { Start = r.Start, End = r.End, Protection = r.Protection, FileOffset = r.Offset, Name = r.Name });
                _code.Invalidate(r.Start, (long)r.Size);
            }
            else if (o.Protection != r.Protection)
                events.Add(new RegionProtectEvent { Start = r.Start, End = r.End, Protection = r.Protection });
        }
        _regions = fresh;
    }

    private static List<Region> ParseMaps(string text)
    {
        var list = new List<Region>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 5) continue;
            var range = parts[0].Split('-');
            var p = parts[1];
            var prot = RegionProtection.None;
            if (p[0] == 'r') prot |= RegionProtection.Read;
            if (p[1] == 'w') prot |= RegionProtection.Write;
            if (p[2] == 'x') prot |= RegionProtection.Execute;
            if (p[3] == 's') prot |= RegionProtection.Shared;
            list.Add(new Region(Convert.ToUInt64(range[0], 16), Convert.ToUInt64(range[1], 16), prot,
                Convert.ToUInt64(parts[2], 16), parts.Length > 5 ? parts[5].Trim() : ""));
        }
        return list;
    }
}

internal readonly record struct Region(ulong Start, ulong End, RegionProtection Protection, ulong Offset, string Name)
{
    public ulong Size => End - Start;
    public bool IsExecutable => (Protection & RegionProtection.Execute) != 0;
}
