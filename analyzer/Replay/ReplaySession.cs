using Ether.Replay.Analyzer.Disassembly;
using Ether.Replay.Analyzer.Unpack;
using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// The state of the traced program at any step, straight from the .etrace file (no export needed):
/// registers of every thread, the memory the trace saw (unknown bytes reported as such), the memory
/// map, who wrote an address last or writes it next, the previous or next execution of an address,
/// and pages of instructions for a browser.
///
/// "At step S" means after step S executed (step 0: before the first instruction), as keyframes and
/// the step clock count. Registers decode one chunk (keyframes at every chunk start make any step
/// cheap). Memory and who-wrote queries use an index of what each chunk touches, built in one pass on
/// first use (<see cref="BuildIndex"/> to do it up front), and decode only chunks that can answer.
/// Not thread-safe: one session per thread.
/// </summary>
public sealed partial class ReplaySession : IDisposable
{
    private readonly TraceReader _reader;
    private readonly ChunkCache _chunks;
    private readonly Disassembler _disassembler;
    private ReplayIndex? _index;

    private ReplaySession(TraceReader reader)
    {
        _reader = reader;
        _chunks = new ChunkCache(reader);
        _disassembler = new Disassembler(Disassembler.BitnessOf(reader.Header.Architecture));
    }

    public static ReplaySession Open(string path) => new(TraceReader.Open(path)) { Path = path };

    public TraceHeader Header => _reader.Header;
    public TraceSummary Summary => _reader.Summary;
    public long LastStep => _reader.Summary.LastStep;
    /// <summary>Why only a prefix of the file is usable (cut or damaged), else null.</summary>
    public string? Warning => _reader.Summary.Damage;
    public bool IndexBuilt => _index != null;

    /// <summary>Builds the per-chunk index now (memory and who-wrote queries build it on first use).</summary>
    public void BuildIndex(Action<int, int>? progress = null) => _index ??= ReplayIndex.Build(_reader, progress);

    private ReplayIndex Index
    {
        get
        {
            BuildIndex();
            return _index!;
        }
    }

    private int ChunkOf(long step)
    {
        if (step < 0 || step > LastStep)
            throw new ArgumentOutOfRangeException(nameof(step), $"step {step} is outside the trace (0..{LastStep})");
        int c = _reader.FindChunk(step);
        if (c < 0) throw new ArgumentOutOfRangeException(nameof(step), $"step {step} is outside the trace (0..{LastStep})");
        return c;
    }

    /// <summary>The instruction of the step (if the step was one) and every live thread's registers after it.</summary>
    public MachineState StateAt(long step)
    {
        int c = ChunkOf(step);
        var chunk = _chunks.Get(c);
        InstructionRow? executed = null;
        int at = RegisterReplay.LowerBound(chunk.InstructionStep, chunk.InstructionCount, step);
        if (at < chunk.InstructionCount && chunk.InstructionStep[at] == step) executed = Row(chunk, at);
        var threads = RegisterReplay.Replay(chunk, step);
        var results = new List<ThreadRegisters>();
        var pending = new List<RegisterReplay.ThreadReplay>();
        foreach (var t in threads)
        {
            if (t.RipFromInstruction && RegisterReplay.NextRip(chunk, step, t.Pid, t.Tid) is { } next)
            {
                t.Registers.Rip = next;
                t.RipFromInstruction = false;
            }
            if (t.RipFromInstruction) pending.Add(t);
        }
        if (pending.Count > 0 && c + 1 < _reader.Chunks.Count)
        {
            var following = _chunks.Get(c + 1);
            foreach (var t in pending)
            {
                if (RegisterReplay.KeyframeRip(following, t.Pid, t.Tid) is { } rip)
                {
                    t.Registers.Rip = rip;
                    t.RipFromInstruction = false;
                }
            }
        }
        foreach (var t in threads) results.Add(new ThreadRegisters(t.Pid, t.Tid, t.Registers, !t.RipFromInstruction));
        return new MachineState(step, executed, results);
    }

    /// <summary>Registers of one thread after the step; null if the thread was not alive then.</summary>
    public ThreadRegisters? RegistersAt(long step, int pid, int tid) =>
        StateAt(step).Threads.FirstOrDefault(t => t.Pid == pid && t.Tid == tid);

    /// <summary>
    /// Memory of process <paramref name="pid"/> after the step. A forked child's bytes that it has not
    /// changed since are its parent's at the fork. A byte no earlier event shows is taken from the first
    /// later observation of it — the snapshot the recorder takes before the program first reads a page,
    /// an executed instruction's bytes, the old value a write replaced — when nothing the trace records
    /// changed it in between (<see cref="MemoryBytes.Later"/> marks such bytes); so every byte the program
    /// reads or writes at some step is known at every step since it was mapped.
    /// </summary>
    public MemoryBytes ReadMemory(long step, int pid, ulong address, int length) => ReadMemory(step, pid, address, length, 0);

    /// <summary>Deeper fork chains than this read as unknown past it (a guard against a malformed trace's cycles).</summary>
    private const int MaxForkDepth = 64;

    private MemoryBytes ReadMemory(long step, int pid, ulong address, int length, int depth)
    {
        if (length < 0 || length > 1 << 28) throw new ArgumentOutOfRangeException(nameof(length), "read between 0 and 256 MiB");
        const int Window = 1 << 20; // the replay keeps 18 bytes of bookkeeping per byte: read big ranges piecewise
        if (length > Window)
        {
            var bytes = new byte[length];
            var known = new bool[length];
            var later = new bool[length];
            for (int offset = 0; offset < length; offset += Window)
            {
                var part = ReadMemory(step, pid, address + (ulong)offset, Math.Min(Window, length - offset), depth);
                part.Bytes.CopyTo(bytes, offset);
                part.Known.CopyTo(known, offset);
                part.Later.CopyTo(later, offset);
            }
            return new MemoryBytes(pid, address, bytes, known, later);
        }
        int c = ChunkOf(step);
        var index = Index;
        var start = index.StartOf(pid, step);
        var replay = new MemoryReplay(pid, address, length, start?.Position);
        for (int j = c; j >= (start?.Chunk ?? 0) && replay.Open > 0; j--)
            if (MayTouch(index.Chunks[j], pid, replay)) replay.Apply(_chunks.Get(j, registerChanges: false), j == c ? step : long.MaxValue);
        if (replay.Open > 0 && start is { InheritsParent: true } && depth < MaxForkDepth && start.Position.Step <= step)
            replay.Inherit(ReadMemory(start.Position.Step, start.ParentPid, address, length, depth + 1));

        // What is still unknown: the first later observation, up to a later process with this pid.
        var next = index.NextStartOf(pid, step);
        replay.LookAhead(next?.Position);
        int lastChunk = Math.Min(next?.Chunk ?? int.MaxValue, index.Chunks.Length - 1);
        for (int j = c; j <= lastChunk && replay.Open > 0; j++)
            if (MayTouch(index.Chunks[j], pid, replay)) replay.Apply(_chunks.Get(j, registerChanges: false), step);
        return new MemoryBytes(pid, address, replay.Bytes, replay.Known, replay.Later);
    }

    /// <summary>Whether a chunk may hold a source for the bytes still open (a false hit only costs a decode).</summary>
    private static bool MayTouch(ReplayIndex.ChunkEntry entry, int pid, MemoryReplay replay)
    {
        if (entry.Bars(pid, replay.Address, replay.End)) return true;
        foreach (ulong page in replay.OpenPages())
        {
            ulong key = ReplayIndex.Key(pid, page);
            if (ReplayIndex.Contains(entry.WritePages, key) || ReplayIndex.Contains(entry.SnapshotPages, key) || ReplayIndex.Contains(entry.CodePages, key))
                return true;
        }
        return false;
    }

    /// <summary>The last write covering <paramref name="address"/> at or before <paramref name="step"/>:
    /// the write whose value the state after the step shows (unless a map or exec came after it). In a
    /// forked child that has not written the byte since the fork, the parent's last write before it.</summary>
    public WriteRef? LastWriteBefore(ulong address, long step, int? pid = null) => LastWriteBefore(address, step, pid, 0);

    private WriteRef? LastWriteBefore(ulong address, long step, int? pid, int depth)
    {
        int c = ChunkOf(step);
        var index = Index;
        var start = pid is { } p ? index.StartOf(p, step) : null;
        for (int j = c; j >= (start?.Chunk ?? 0); j--)
        {
            if (!MayWrite(index.Chunks[j], address, pid)) continue;
            var chunk = _chunks.Get(j, registerChanges: false);
            for (int w = chunk.WriteCount - 1; w >= 0; w--)
            {
                if (chunk.WriteStep[w] > step) continue;
                if (start != null && LogPosition.Write(chunk.WriteStep[w], w) < start.Position) break; // an earlier process with this pid
                if (Covers(chunk, w, address, pid)) return Write(chunk, w);
            }
        }
        return start is { InheritsParent: true } && depth < MaxForkDepth
            ? LastWriteBefore(address, start.Position.Step, start.ParentPid, depth + 1)
            : null;
    }

    /// <summary>The first write covering <paramref name="address"/> after <paramref name="step"/>.</summary>
    public WriteRef? NextWrite(ulong address, long step, int? pid = null)
    {
        int c = ChunkOf(step);
        var index = Index;
        for (int j = c; j < _reader.Chunks.Count && j < index.Chunks.Length; j++)
        {
            if (!MayWrite(index.Chunks[j], address, pid)) continue;
            var chunk = _chunks.Get(j, registerChanges: false);
            for (int w = 0; w < chunk.WriteCount; w++)
            {
                if (chunk.WriteStep[w] <= step) continue;
                if (Covers(chunk, w, address, pid)) return Write(chunk, w);
            }
        }
        return null;
    }

    /// <summary>The first step after <paramref name="step"/> that executes <paramref name="rip"/>.</summary>
    public long? NextExecution(ulong rip, long step, int? pid = null)
    {
        int c = ChunkOf(step);
        var index = Index;
        for (int j = c; j < index.Chunks.Length; j++)
        {
            if (!index.MayExecute(j, rip)) continue;
            var chunk = _chunks.Get(j, registerChanges: false);
            for (int i = RegisterReplay.LowerBound(chunk.InstructionStep, chunk.InstructionCount, step + 1); i < chunk.InstructionCount; i++)
                if (chunk.InstructionRip[i] == rip && (pid == null || chunk.ThreadPid[chunk.InstructionThread[i]] == pid)) return chunk.InstructionStep[i];
        }
        return null;
    }

    /// <summary>The last step before <paramref name="step"/> that executed <paramref name="rip"/>.</summary>
    public long? PreviousExecution(ulong rip, long step, int? pid = null)
    {
        int c = ChunkOf(step);
        var index = Index;
        for (int j = c; j >= 0; j--)
        {
            if (!index.MayExecute(j, rip)) continue;
            var chunk = _chunks.Get(j, registerChanges: false);
            for (int i = RegisterReplay.LowerBound(chunk.InstructionStep, chunk.InstructionCount, step) - 1; i >= 0; i--)
                if (chunk.InstructionRip[i] == rip && (pid == null || chunk.ThreadPid[chunk.InstructionThread[i]] == pid)) return chunk.InstructionStep[i];
        }
        return null;
    }

    /// <summary>Up to <paramref name="count"/> instructions from step <paramref name="fromStep"/> on (ticks have none).</summary>
    public IReadOnlyList<InstructionRow> InstructionsPage(long fromStep, int count)
    {
        var rows = new List<InstructionRow>(Math.Min(count, 4096));
        if (count <= 0 || fromStep > LastStep) return rows;
        int c = ChunkOf(Math.Max(0, fromStep));
        for (int j = c; j < _reader.Chunks.Count && rows.Count < count; j++)
        {
            var chunk = _chunks.Get(j);
            for (int i = RegisterReplay.LowerBound(chunk.InstructionStep, chunk.InstructionCount, fromStep); i < chunk.InstructionCount && rows.Count < count; i++)
                rows.Add(Row(chunk, i));
        }
        return rows;
    }

    /// <summary>Process <paramref name="pid"/>'s memory map after the step (from its map/unmap/protect events).</summary>
    public IReadOnlyList<Region> RegionsAt(long step, int pid) => RegionsAt(step, pid, 0).Regions;

    private MemoryMap RegionsAt(long step, int pid, int depth)
    {
        int c = ChunkOf(step);
        var start = Index.StartOf(pid, step);
        // A forked child starts with its parent's map; the recorder logs only what changes after that.
        var map = start is { InheritsParent: true } && depth < MaxForkDepth
            ? RegionsAt(start.Position.Step, start.ParentPid, depth + 1)
            : new MemoryMap();
        foreach (var b in Index.Barriers)
        {
            if (b.Chunk > c || (b.Chunk == c && b.Position.Step > step)) break;
            if (b.Pid != pid) continue;
            if (start != null && b.Position < start.Position) continue; // an earlier process with this pid
            if (b.Event is ExecEvent) map.Clear();
            else map.Apply(b.Event);
        }
        return map;
    }

    /// <summary>Intel-syntax text of an instruction.</summary>
    public string Disassemble(InstructionRow row) => _disassembler.Format(row.Bytes, row.Rip);

    public void Dispose() => _reader.Dispose();

    private static InstructionRow Row(DecodedChunk c, int i)
    {
        int t = c.InstructionThread[i];
        return new InstructionRow(c.InstructionStep[i], c.ThreadPid[t], c.ThreadTid[t], c.InstructionRip[i], c.InstructionBytes(i).ToArray());
    }

    private static bool MayWrite(ReplayIndex.ChunkEntry entry, ulong address, int? pid)
    {
        if (pid is { } p) return ReplayIndex.Contains(entry.WritePages, ReplayIndex.Key(p, address >> ReplayIndex.PageShift));
        return entry.WritePages.Length > 0;
    }

    private static bool Covers(DecodedChunk c, int w, ulong address, int? pid)
    {
        if (pid is { } p && c.ThreadPid[c.WriteThread[w]] != p) return false;
        ulong start = c.WriteAddress[w];
        ulong size = (ulong)Math.Max(0, c.WriteSize[w]);
        return address >= start && address - start < size;
    }

    private static WriteRef Write(DecodedChunk c, int w)
    {
        int t = c.WriteThread[w];
        long step = c.WriteStep[w];
        // The writer: the thread's last instruction at or before the write's step, in this chunk.
        ulong? rip = null;
        for (int i = RegisterReplay.LowerBound(c.InstructionStep, c.InstructionCount, step + 1) - 1; i >= 0; i--)
        {
            if (c.InstructionThread[i] != t) continue;
            rip = c.InstructionRip[i];
            break;
        }
        return new WriteRef(step, c.ThreadPid[t], c.ThreadTid[t], rip, c.WriteAddress[w], c.WriteSize[w], c.WriteValue(w).ToArray(),
            (c.WriteFlags[w] & MemoryWriteFlags.Kernel) != 0);
    }
}
