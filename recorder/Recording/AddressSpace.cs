using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace;
using Iced.Intel;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// What the recorder knows about one address space (shared by the threads of a process and by a
/// vfork child until it execs): the code it has decoded, the pages written since they last ran
/// (unpacking), and the region map.
///
/// TODO(reclogic): the three parts below are bring-up stand-ins until CodeCache, UnpackTracker and
/// RegionMap/ProcMapsParser land in main; this class then only forwards to them.
/// </summary>
internal sealed class AddressSpace
{
    private const int PageShift = 12;
    private const int MaxInstructionLength = 15;

    private sealed class CodeEntry
    {
        public required byte[] Bytes;
        public Instruction Decoded;
    }

    private Dictionary<ulong, CodeEntry> _code = new();
    private Dictionary<ulong, List<ulong>> _codeByPage = new();
    private HashSet<ulong> _writtenPages = new();
    private List<Region> _regions = new();
    private readonly byte[] _fetch = new byte[MaxInstructionLength];

    public IReadOnlyList<Region> Regions => _regions;

    /// <summary>The instruction at <paramref name="rip"/>: its bytes (copied into <paramref name="bytes"/>) and its decoding.
    /// Returns the length, or 0 when the memory cannot be read or does not decode.</summary>
    public int Fetch(ulong rip, int bitness, ProcessMemory memory, Span<byte> bytes, out Instruction decoded)
    {
        if (!_code.TryGetValue(rip, out var entry))
        {
            int n = memory.Read(rip, _fetch);
            if (n == 0) { decoded = default; return 0; }
            var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(_fetch, 0, n));
            decoder.IP = rip;
            decoder.Decode(out var insn);
            if (insn.IsInvalid) { decoded = insn; return 0; }
            entry = new CodeEntry { Bytes = _fetch.AsSpan(0, insn.Length).ToArray(), Decoded = insn };
            _code[rip] = entry;
            for (ulong page = rip >> PageShift; page <= (rip + (ulong)insn.Length - 1) >> PageShift; page++)
            {
                if (!_codeByPage.TryGetValue(page, out var list)) _codeByPage[page] = list = new List<ulong>();
                list.Add(rip);
            }
        }
        entry.Bytes.CopyTo(bytes);
        decoded = entry.Decoded;
        return entry.Bytes.Length;
    }

    /// <summary>Memory changed (by an instruction, the kernel, or a mapping change): forget code there, mark the pages written.</summary>
    public void NoteWrite(ulong address, long length)
    {
        if (length <= 0) return;
        ulong first = address >> PageShift, last = (address + (ulong)length - 1) >> PageShift;
        for (ulong page = first; page <= last; page++)
        {
            _writtenPages.Add(page);
            if (_codeByPage.Remove(page, out var rips))
                foreach (var rip in rips) _code.Remove(rip);
            if (last - first > 1 << 20) break; // absurd ranges (a bad kernel-write guess) stop here
        }
    }

    /// <summary>True when execution at <paramref name="rip"/> enters a page written since it last executed.</summary>
    public bool IsUnpackMoment(ulong rip) => _writtenPages.Count != 0 && _writtenPages.Remove(rip >> PageShift);

    /// <summary>A new program image (exec): nothing carries over.</summary>
    public void Reset()
    {
        _code = new();
        _codeByPage = new();
        _writtenPages = new();
        _regions = new();
    }

    /// <summary>The copy a fork child starts with (its memory is a copy of the parent's).</summary>
    public AddressSpace CopyForFork()
    {
        var copy = new AddressSpace
        {
            _code = new Dictionary<ulong, CodeEntry>(_code),
            _writtenPages = new HashSet<ulong>(_writtenPages),
            _regions = new List<Region>(_regions),
        };
        foreach (var (page, rips) in _codeByPage) copy._codeByPage[page] = new List<ulong>(rips);
        return copy;
    }

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
                ForgetCode(r.Start, r.End);
            }
        foreach (var r in fresh)
        {
            if (!old.TryGetValue((r.Start, r.End), out var o) || o.Name != r.Name || o.Offset != r.Offset)
            {
                events.Add(new RegionMapEvent { Start = r.Start, End = r.End, Protection = r.Protection, FileOffset = r.Offset, Name = r.Name });
                ForgetCode(r.Start, r.End);
            }
            else if (o.Protection != r.Protection)
                events.Add(new RegionProtectEvent { Start = r.Start, End = r.End, Protection = r.Protection });
        }
        _regions = fresh;
    }

    private void ForgetCode(ulong start, ulong end)
    {
        for (ulong page = start >> PageShift; page < end >> PageShift; page++)
            if (_codeByPage.Remove(page, out var rips))
                foreach (var rip in rips) _code.Remove(rip);
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
