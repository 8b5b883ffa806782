namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// What each chunk touches, built in one pass over the trace so that memory and who-wrote queries
/// decode only the chunks that can answer them: per chunk, the (process, page) keys of its writes,
/// snapshots and executed code (sorted hashes: a false hit only costs a decode), a bit filter of the
/// addresses it executed, and every memory map, exec and process start of the trace (rare) with its position.
/// Memory: a few KB per chunk, about 1/1000 of the trace file.
/// </summary>
internal sealed class ReplayIndex
{
    public const int PageShift = 12;
    private const int RipFilterBits = 1 << 16;

    public sealed class ChunkEntry
    {
        public ulong[] WritePages = [];
        public ulong[] SnapshotPages = [];
        public ulong[] CodePages = [];
        public ulong[] RipFilter = new ulong[RipFilterBits / 64];
        /// <summary>This chunk's maps, unmaps and execs (what makes earlier bytes unknown).</summary>
        public List<Barrier>? ByteBarriers;

        /// <summary>Whether a map, unmap or exec of this chunk touches [start, end) of <paramref name="pid"/>.</summary>
        public bool Bars(int pid, ulong start, ulong end)
        {
            if (ByteBarriers == null) return false;
            foreach (var b in ByteBarriers)
                if (b.Pid == pid && b.Start < end && start < b.End) return true;
            return false;
        }
    }

    /// <summary>A memory map, unmap or exec: what was in memory before it no longer is.</summary>
    public sealed record Barrier(int Chunk, LogPosition Position, int Pid, ulong Start, ulong End, TraceEvent Event);

    /// <summary>A process's start: before it, events of its pid belong to an earlier process (pids are
    /// reused); a fork, vfork or clone starts with its parent's memory and map at that moment.</summary>
    public sealed record ProcessStart(int Chunk, LogPosition Position, int Pid, int ParentPid, string How)
    {
        public bool InheritsParent => ParentPid > 0 && How is "fork" or "vfork" or "clone";
    }

    public ChunkEntry[] Chunks { get; private init; } = [];
    public List<Barrier> Barriers { get; } = new();
    public List<ProcessStart> Starts { get; } = new();

    /// <summary>The start of the process <paramref name="pid"/> alive at <paramref name="step"/> (the latest
    /// start of that pid at or before it), or null when the trace does not show it starting.</summary>
    public ProcessStart? StartOf(int pid, long step)
    {
        ProcessStart? found = null;
        foreach (var s in Starts)
        {
            if (s.Position.Step > step) break;
            if (s.Pid == pid) found = s;
        }
        return found;
    }

    /// <summary>The first start of a process <paramref name="pid"/> after <paramref name="step"/> (pid reuse), or null.</summary>
    public ProcessStart? NextStartOf(int pid, long step)
    {
        foreach (var s in Starts)
            if (s.Pid == pid && s.Position.Step > step) return s;
        return null;
    }

    public static ulong Key(int pid, ulong page) => (page * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)pid * 0xC2B2AE3D27D4EB4FUL);

    public static int RipBit(ulong rip) => (int)((rip * 0x9E3779B97F4A7C15UL) >> 48);

    public bool MayExecute(int chunk, ulong rip)
    {
        int bit = RipBit(rip);
        return (Chunks[chunk].RipFilter[bit >> 6] & (1UL << bit)) != 0;
    }

    public static bool Contains(ulong[] sorted, ulong key) => Array.BinarySearch(sorted, key) >= 0;

    public static ReplayIndex Build(TraceReader reader, Action<int, int>? progress = null)
    {
        var index = new ReplayIndex { Chunks = new ChunkEntry[reader.Chunks.Count] };
        var chunk = new DecodedChunk();
        var writes = new HashSet<ulong>();
        var snapshots = new HashSet<ulong>();
        var code = new HashSet<ulong>();
        for (int c = 0; c < reader.Chunks.Count; c++)
        {
            reader.ReadChunk(c, chunk, registerChanges: false); // the index holds code, writes, snapshots and barriers only
            var entry = new ChunkEntry();
            writes.Clear();
            snapshots.Clear();
            code.Clear();
            ulong lastCodeKey = 0;
            for (int i = 0; i < chunk.InstructionCount; i++)
            {
                ulong rip = chunk.InstructionRip[i];
                int pid = chunk.ThreadPid[chunk.InstructionThread[i]];
                ulong key = Key(pid, rip >> PageShift);
                if (key != lastCodeKey) { code.Add(key); lastCodeKey = key; }
                ulong endKey = Key(pid, (rip + chunk.InstructionLength[i] - 1) >> PageShift);
                if (endKey != key) code.Add(endKey);
                int bit = RipBit(rip);
                entry.RipFilter[bit >> 6] |= 1UL << bit;
            }
            for (int w = 0; w < chunk.WriteCount; w++)
                AddRange(writes, chunk.ThreadPid[chunk.WriteThread[w]], chunk.WriteAddress[w], chunk.WriteSize[w]);
            for (int s = 0; s < chunk.SideEvents.Count; s++)
            {
                var e = chunk.SideEvents[s];
                var position = LogPosition.Side(e.Step, chunk.SideWritesBefore[s]);
                switch (e)
                {
                    case RegionSnapshotEvent snap:
                        AddRange(snapshots, snap.Pid, snap.Address, snap.Bytes.Length);
                        break;
                    case RegionMapEvent m:
                        AddBarrier(index, entry, new Barrier(c, position, m.Pid, m.Start, m.End, m));
                        break;
                    case RegionUnmapEvent u:
                        AddBarrier(index, entry, new Barrier(c, position, u.Pid, u.Start, u.End, u));
                        break;
                    case RegionProtectEvent p:
                        index.Barriers.Add(new Barrier(c, position, p.Pid, p.Start, p.End, p)); // not a barrier for bytes; kept for the memory map
                        break;
                    case ExecEvent x:
                        AddBarrier(index, entry, new Barrier(c, position, x.Pid, 0, ulong.MaxValue, x));
                        break;
                    case ProcessStartEvent ps:
                        index.Starts.Add(new ProcessStart(c, position, ps.Pid, ps.ParentPid, ps.How));
                        break;
                }
            }
            entry.WritePages = Sorted(writes);
            entry.SnapshotPages = Sorted(snapshots);
            entry.CodePages = Sorted(code);
            index.Chunks[c] = entry;
            progress?.Invoke(c + 1, reader.Chunks.Count);
        }
        return index;
    }

    private static void AddBarrier(ReplayIndex index, ChunkEntry entry, Barrier barrier)
    {
        index.Barriers.Add(barrier);
        (entry.ByteBarriers ??= new()).Add(barrier);
    }

    private static void AddRange(HashSet<ulong> set, int pid, ulong address, long size)
    {
        if (size <= 0) return;
        ulong last = (address + (ulong)size - 1) >> PageShift;
        if (last < address >> PageShift) last = ulong.MaxValue >> PageShift; // wraps
        for (ulong page = address >> PageShift; page <= last; page++)
        {
            set.Add(Key(pid, page));
            if (page == ulong.MaxValue >> PageShift) break;
        }
    }

    private static ulong[] Sorted(HashSet<ulong> set)
    {
        var a = set.ToArray();
        Array.Sort(a);
        return a;
    }
}
