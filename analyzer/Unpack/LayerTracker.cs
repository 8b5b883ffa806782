using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Analyzer.Unpack;

/// <summary>
/// Follows unpacking layers through a trace in log order (SoK on runtime packers, Ugarte-Pedrero et
/// al. 2015): code that was loaded is layer 0; bytes written by code of layer L (or by the kernel
/// during its system calls) are tagged L+1; an instruction belongs to the highest layer among its
/// bytes. Bytes written but not yet run keep their layer when deeper code rewrites them (a fix-up
/// pass such as UPX's call filter is part of the same unpacking episode, not a layer of its own).
///
/// A layer row is a layer entered in one memory region: where and when execution first entered it,
/// the region, and who wrote it. Alongside, the original entry point of each image is looked for as
/// an analyst would (<see cref="OepCandidate"/>): written code running with the process's entry
/// state, the entry of an ELF header written into memory, the first instruction of an image that
/// arrived by exec of a written file, a jump from the interpreter into written code — and, last,
/// the deepest layer's entry.
///
/// Mapping a file or unmapping forgets what was written there; exec starts a new image with a clean
/// slate; a forked child starts with a copy of its parent's written bytes and map.
/// </summary>
public sealed class LayerTracker
{
    /// <summary>Layer rows one image may hold; past it, entries into new regions count towards the layer's first row.</summary>
    private const int MaxRecordsPerImage = 4096;

    private readonly Dictionary<int, AddressSpace> _spaces = new();
    private readonly Dictionary<(int Pid, int Tid), LayerThread> _threads = new();
    private readonly List<LayerRecord> _finished = new();
    private readonly List<OepCandidate> _candidates = new();
    private readonly Action<LayerTransition> _onTransition;
    private readonly string _targetPath;
    private readonly FileOrigins _files = new();

    /// <param name="targetPath">The recorded program, for telling its image from libraries before any exec event.</param>
    /// <param name="onTransition">Called for every change of layer in a thread's instruction stream.</param>
    public LayerTracker(string targetPath, Action<LayerTransition> onTransition)
    {
        _targetPath = targetPath;
        _onTransition = onTransition;
    }

    /// <summary>Per-process state: what was written, the memory map, the layers seen in the current image.</summary>
    public sealed class AddressSpace(int pid, string imagePath)
    {
        public int Pid { get; } = pid;
        public int Image { get; internal set; }
        public string ImagePath { get; internal set; } = imagePath;
        internal bool ImageExecuted;
        internal ShadowMemory Shadow { get; set; } = new();
        internal KnownBytes Stack { get; set; } = new();
        internal ElfHeaderWatch Headers { get; set; } = new();
        public MemoryMap Regions { get; internal set; } = new();
        /// <summary>Per layer, its rows (one per region it was entered in).</summary>
        internal readonly List<LayerRecord>?[] Layers = new List<LayerRecord>?[ShadowMemory.MaxTag + 1];
        internal int RecordCount;
        internal readonly Dictionary<int, FixupStats> Fixups = new();
        internal readonly HashSet<(ulong, string)> CandidatesSeen = new();
        /// <summary>Mappings of files the trace wrote: start → (end, origin).</summary>
        internal readonly SortedDictionary<ulong, (ulong End, FileOrigins.Origin Origin, ulong Device, ulong Inode)> FileMappings = new();
        /// <summary>The layer of the file this image runs when it was written in the trace (a script's, too): its code acts at least that deep.</summary>
        internal int Floor;
        /// <summary>How deep the code of this process is now: what it writes is one deeper.</summary>
        internal int Depth => Math.Max(Floor, HighestLayer);
        public int HighestLayer { get; internal set; } = -1;
    }

    /// <summary>Bytes of a layer rewritten by deeper code before they ran.</summary>
    internal sealed class FixupStats
    {
        public long Bytes;
        public int WriterLayer;
    }

    /// <summary>A thread's position: the layer and address of its last instruction, its stack pointer.</summary>
    public sealed class LayerThread(AddressSpace space, int tid)
    {
        public AddressSpace Space { get; internal set; } = space;
        public int Tid { get; } = tid;
        public int Layer { get; internal set; }
        public ulong LastRip { get; internal set; }
        public bool Executed { get; internal set; }
        /// <summary>rsp as the registers last showed it (the importer keeps it current).</summary>
        public ulong Rsp { get; set; }
        internal LayerRecord? Record;
    }

    public AddressSpace Space(int pid)
    {
        if (!_spaces.TryGetValue(pid, out var s))
        {
            s = new AddressSpace(pid, _targetPath);
            _spaces.Add(pid, s);
        }
        return s;
    }

    public LayerThread Thread(int pid, int tid)
    {
        if (!_threads.TryGetValue((pid, tid), out var t))
        {
            t = new LayerThread(Space(pid), tid);
            _threads.Add((pid, tid), t);
        }
        return t;
    }

    /// <summary>The thread executed <paramref name="length"/> bytes at <paramref name="rip"/>; returns their layer.</summary>
    public int OnInstruction(LayerThread t, long step, ulong rip, int length)
    {
        var space = t.Space;
        int layer = space.Shadow.ExecuteTagOf(rip, length);
        var record = t.Record;
        if (record == null || record.Layer != layer || (layer > 0 && !Holds(record, rip)))
        {
            record = Find(space, layer, rip);
            if (record == null)
            {
                record = Enter(space, t, layer, step, rip);
                if (layer > 0) Consider(space, t, record, step, rip);
            }
            t.Record = record;
        }
        record.Instructions++;
        record.LastStep = step;
        if (!t.Executed && layer > 0 && record.FirstStep != step) Consider(space, t, record, step, rip); // an image that starts in written code
        if (t.Executed && layer != t.Layer)
        {
            _onTransition(new LayerTransition(space.Pid, t.Tid, space.Image, step, t.Layer, layer, t.LastRip, rip));
            if (layer > 0) Consider(space, t, record, step, rip, fromRip: t.LastRip);
        }
        t.Layer = layer;
        t.LastRip = rip;
        t.Executed = true;
        space.ImageExecuted = true;
        return layer;
    }

    /// <summary>The thread's current instruction (or the kernel, in its system call) wrote these bytes.</summary>
    public void OnWrite(LayerThread t, long step, ulong address, long size, bool kernel, ReadOnlySpan<byte> value = default)
    {
        var space = t.Space;
        byte tag = (byte)Math.Min(t.Layer + 1, ShadowMemory.MaxTag);
        long fixups = space.Shadow.Write(address, size, tag, t.Executed ? t.LastRip : null, step, kernel);
        if (fixups > 0)
        {
            // The bytes kept their (shallower) layer; which one is not known per byte here, so the
            // fix-up is booked on the layer just below the writer's tag: the code it fixes.
            int fixed_ = Math.Max(1, tag - 1);
            if (!space.Fixups.TryGetValue(fixed_, out var f)) space.Fixups[fixed_] = f = new FixupStats();
            f.Bytes += fixups;
            f.WriterLayer = Math.Max(f.WriterLayer, t.Layer);
        }
        if (!value.IsEmpty)
        {
            space.Stack.Write(address, value);
            space.Headers.Write(address, value, step);
        }
    }

    /// <summary>Memory map events, snapshots, exec and process starts.</summary>
    public void OnSideEvent(TraceEvent e)
    {
        switch (e)
        {
            case RegionMapEvent m:
            {
                var s = Space(m.Pid);
                s.Regions.Apply(m);
                Forget(s, m.Start, m.End); // fresh contents: loaded, not written
                if (_files.Find(m.Device, m.Inode) is { } origin)
                {
                    // A file the trace wrote, mapped: its bytes are written code of its writer's layer + 1.
                    s.Shadow.Write(m.Start, (long)(m.End - m.Start), (byte)Math.Min(origin.WriterLayer + 1, ShadowMemory.MaxTag), null, m.Step, kernel: true);
                    s.FileMappings[m.Start] = (m.End, origin, m.Device, m.Inode);
                }
                break;
            }
            case RegionUnmapEvent u:
            {
                var s = Space(u.Pid);
                s.Regions.Apply(u);
                Forget(s, u.Start, u.End);
                break;
            }
            case RegionProtectEvent p:
                Space(p.Pid).Regions.Apply(p);
                break;
            case RegionSnapshotEvent snap:
            {
                var s = Space(snap.Pid);
                // The recorder's picture of the initial stack at exec (argc, argv, envp, auxv).
                if (snap.Reason == "stack") s.Stack.Adopt(snap.Address, snap.Bytes);
                else s.Stack.Write(snap.Address, snap.Bytes);
                s.Headers.Write(snap.Address, snap.Bytes, snap.Step);
                break;
            }
            case ExecEvent x:
                NewImage(Space(x.Pid), x.Path);
                break;
            case FileEvent f:
                OnFile(f);
                break;
            case ProcessStartEvent { ParentPid: > 0, How: "fork" or "vfork" or "clone" } f when f.ParentPid != f.Pid:
                Fork(f.ParentPid, f.Pid);
                break;
        }
    }

    /// <summary>Every layer row of every image, in (pid, image, layer, first step) order. Call once, at the end.</summary>
    public IReadOnlyList<LayerRecord> Finish()
    {
        foreach (var s in _spaces.Values) Retire(s);
        ChooseOeps();
        return _finished.OrderBy(r => r.Pid).ThenBy(r => r.Image).ThenBy(r => r.Layer).ThenBy(r => r.FirstStep).ToList();
    }

    /// <summary>Original-entry-point candidates of every image, with the chosen one marked (after <see cref="Finish"/>).</summary>
    public IReadOnlyList<OepCandidate> Candidates => _candidates;

    // ---- the original entry point ------------------------------------------------------------

    /// <summary>Checks an entry into written code for evidence of being the original entry point.</summary>
    private void Consider(AddressSpace s, LayerThread t, LayerRecord record, long step, ulong rip, ulong? fromRip = null)
    {
        if (s.Stack.IsEntryState(t.Rsp, rip, out _))
            Candidate(s, t, record, step, rip, OepEvidence.EntryState, $"rsp 0x{t.Rsp:x} holds argc/argv/envp/auxv and AT_ENTRY = 0x{rip:x}");
        if (s.Headers.Entries.TryGetValue(rip, out var header))
            Candidate(s, t, record, step, rip, OepEvidence.ElfHeader, $"e_entry of the ELF header written at 0x{header.Header:x} (complete at step {header.Step})");
        if (fromRip is { } from && s.Regions.Find(from) is { } region && IsInterpreter(region.Name))
            Candidate(s, t, record, step, rip, OepEvidence.FromInterpreter, $"jump from {Path.GetFileName(region.Name)} at 0x{from:x}");
    }

    private void Candidate(AddressSpace s, LayerThread t, LayerRecord record, long step, ulong rip, string evidence, string detail)
    {
        if (!s.CandidatesSeen.Add((rip, evidence)) || s.CandidatesSeen.Count > 1024) return;
        _candidates.Add(new OepCandidate(s.Pid, s.Image, record.Layer, rip, step, t.Tid, evidence, detail));
    }

    private static bool IsInterpreter(string name)
    {
        string file = Path.GetFileName(name);
        return file.StartsWith("ld-", StringComparison.Ordinal) && file.Contains(".so", StringComparison.Ordinal);
    }

    /// <summary>Adds the deepest-layer candidate of each image, then marks the best candidate per image.</summary>
    private void ChooseOeps()
    {
        foreach (var image in _finished.Where(r => r.Layer > 0).GroupBy(r => (r.Pid, r.Image)))
        {
            var main = image.Where(r => r.MainImage).ToList();
            var pool = main.Count > 0 ? main : image.ToList();
            int deepest = pool.Max(r => r.Layer);
            var first = pool.Where(r => r.Layer == deepest).MinBy(r => r.FirstStep)!;
            _candidates.Add(new OepCandidate(first.Pid, first.Image, first.Layer, first.EntryAddress, first.FirstStep, first.EntryTid,
                OepEvidence.DeepestLayer, $"first instruction of layer {deepest}, the deepest {(main.Count > 0 ? "in the program's image" : "written layer")}"));
        }
        foreach (var image in _candidates.GroupBy(c => (c.Pid, c.Image)))
        {
            // Of equal evidence, the deepest layer's: an exec'd crypter's own first instruction has the
            // kernel's entry state too, and the program it decrypts and hands an entry state is deeper.
            var best = image.OrderBy(c => c.Rank).ThenByDescending(c => c.Layer).ThenBy(c => c.Step).First();
            best.Chosen = true;
            var row = _finished.Where(r => r.Pid == best.Pid && r.Image == best.Image && r.Layer == best.Layer && Holds(r, best.Address))
                .OrderBy(r => r.FirstStep).FirstOrDefault();
            if (row != null) row.Oep = true;
        }
    }

    // ---- rows ------------------------------------------------------------------------------------

    private static bool Holds(LayerRecord r, ulong rip) =>
        r.RegionStart is not { } start || r.RegionEnd is not { } end || (rip >= start && rip < end);

    private static LayerRecord? Find(AddressSpace s, int layer, ulong rip)
    {
        var list = s.Layers[layer];
        if (list == null) return null;
        if (layer == 0 || s.RecordCount >= MaxRecordsPerImage) return list[0];
        foreach (var r in list)
            if (Holds(r, rip)) return r;
        return null;
    }

    // ---- layers that arrive as files --------------------------------------------------------------

    private void OnFile(FileEvent f)
    {
        var s = Space(f.Pid);
        _files.OnEvent(f, s.Depth);
        if (f.Op is not (FileOps.Exec or FileOps.ExecArgument) || _files.Find(f.Device, f.Inode) is not { } origin) return;
        // The image runs a file the trace wrote: a layer one deeper than its writer's, from its first step.
        int layer = Math.Min(origin.WriterLayer + 1, ShadowMemory.MaxTag);
        s.Floor = Math.Max(s.Floor, layer);
        ulong first = s.FileMappings.Where(kv => kv.Value.Device == f.Device && kv.Value.Inode == f.Inode).Select(kv => kv.Key).DefaultIfEmpty(0UL).Min();
        ulong? entry = f.Op == FileOps.Exec ? FileOrigins.ElfEntry(f.Bytes, first) : null;
        var region = entry is { } e ? s.Regions.Find(e) : null;
        var t = Thread(f.Pid, f.Tid);
        var record = new LayerRecord
        {
            Pid = s.Pid, Image = s.Image, Layer = layer, FirstStep = f.Step, LastStep = f.Step,
            EntryAddress = entry ?? 0, EntryTid = f.Tid,
            RegionStart = region?.Start, RegionEnd = region?.End, RegionName = region?.Name ?? f.Path,
            MainImage = region != null, BytesWritten = f.Bytes.Length > 0 ? f.Bytes.Length : f.Size, KernelBytes = 0,
            Arrival = origin.Memfd ? LayerArrival.Memfd : LayerArrival.ExecOfWrittenFile,
            Chain = FileOrigins.Chain(origin, f),
        };
        (s.Layers[layer] ??= []).Add(record);
        s.RecordCount++;
        if (entry is { } at)
            Candidate(s, t, record, f.Step, at, OepEvidence.ExecEntry, $"e_entry of {f.Path}, exec'd at step {f.Step} ({(origin.Memfd ? "memfd" : "written file")})");
    }

    private void Forget(AddressSpace s, ulong start, ulong end)
    {
        s.Shadow.Forget(start, end);
        s.Stack.Forget(start, end);
        s.Headers.Forget(start, end);
        if (s.FileMappings.Count > 0)
            foreach (var key in s.FileMappings.Where(kv => kv.Key < end && kv.Value.End > start).Select(kv => kv.Key).ToList())
                s.FileMappings.Remove(key);
    }

    /// <summary>The child's address space becomes a copy of the parent's: its written bytes (with their
    /// layers and writers) and its map. An earlier process with the child's pid is retired first.</summary>
    private void Fork(int parentPid, int childPid)
    {
        var parent = Space(parentPid);
        var child = new AddressSpace(childPid, parent.ImagePath) { Shadow = parent.Shadow.Copy(), Stack = parent.Stack.Copy(), Regions = parent.Regions.Copy() };
        if (_spaces.Remove(childPid, out var earlier))
        {
            Retire(earlier);
            child.Image = earlier.Image + 1; // (pid, image) stays a unique key when a pid is reused
        }
        _spaces.Add(childPid, child);
        foreach (var t in _threads.Values)
            if (t.Space.Pid == childPid) { t.Space = child; t.Executed = false; t.Layer = 0; t.Record = null; }
    }

    private void NewImage(AddressSpace s, string path)
    {
        if (s.ImageExecuted)
        {
            Retire(s);
            s.Image++;
        }
        s.ImagePath = path.Length > 0 ? path : s.ImagePath;
        s.ImageExecuted = false;
        s.Shadow.Clear();
        s.Stack.Clear();
        s.Headers.Clear();
        s.Regions.Clear();
        s.Fixups.Clear();
        s.CandidatesSeen.Clear();
        s.FileMappings.Clear();
        s.Floor = 0;
        foreach (var t in _threads.Values)
            if (t.Space == s) { t.Executed = false; t.Layer = 0; t.Record = null; }
    }

    private void Retire(AddressSpace s)
    {
        for (int i = 0; i < s.Layers.Length; i++)
        {
            if (s.Layers[i] is { } list) _finished.AddRange(list);
            s.Layers[i] = null;
        }
        s.RecordCount = 0;
        s.HighestLayer = -1;
        foreach (var t in _threads.Values)
            if (t.Space == s) t.Record = null;
    }

    private LayerRecord Enter(AddressSpace s, LayerThread t, int layer, long step, ulong rip)
    {
        var region = s.Regions.Find(rip);
        ulong? start = region?.Start, end = region?.End;
        if (region == null && layer > 0)
            (start, end) = s.Shadow.ExtentOf(rip, (byte)layer);
        long bytes = 0;
        ShadowMemory.WriterStats? writers = null;
        if (layer > 0 && start is { } a && end is { } b)
            (bytes, writers) = s.Shadow.CountTag(a, b, (byte)layer);
        var record = new LayerRecord
        {
            Pid = s.Pid,
            Image = s.Image,
            Layer = layer,
            FirstStep = step,
            LastStep = step,
            EntryAddress = rip,
            EntryTid = t.Tid,
            RegionStart = layer == 0 ? region?.Start : start,
            RegionEnd = layer == 0 ? region?.End : end,
            RegionName = region?.Name,
            MainImage = region is { } r && IsImage(r.Name, s.ImagePath),
            BytesWritten = bytes,
            WriterRipMin = writers is { AnyRip: true } ? writers.MinRip : null,
            WriterRipMax = writers is { AnyRip: true } ? writers.MaxRip : null,
            WriterFirstStep = writers != null && bytes > 0 ? writers.FirstStep : null,
            WriterLastStep = writers != null && bytes > 0 ? writers.LastStep : null,
            KernelBytes = writers?.KernelBytes ?? 0,
            FixupBytes = layer > 0 && s.Fixups.TryGetValue(layer, out var f) ? f.Bytes : 0,
            Arrival = layer == 0 ? LayerArrival.Loaded : LayerArrival.WrittenCode,
        };
        if (layer > 0 && MappedFile(s, rip) is { } file)
            record = new LayerRecord
            {
                Pid = record.Pid, Image = record.Image, Layer = layer, FirstStep = step, LastStep = step, EntryAddress = rip, EntryTid = t.Tid,
                RegionStart = start, RegionEnd = end, RegionName = region?.Name, MainImage = record.MainImage,
                BytesWritten = bytes, KernelBytes = bytes,
                Arrival = file.Memfd ? LayerArrival.Memfd : LayerArrival.ExecOfWrittenFile, Chain = FileOrigins.Chain(file, null),
            };
        (s.Layers[layer] ??= []).Add(record);
        s.RecordCount++;
        s.HighestLayer = Math.Max(s.HighestLayer, layer);
        return record;
    }

    private static FileOrigins.Origin? MappedFile(AddressSpace s, ulong rip)
    {
        foreach (var (start, m) in s.FileMappings)
            if (rip >= start && rip < m.End) return m.Origin;
        return null;
    }

    /// <summary>Region names come from /proc/PID/maps (absolute, resolved); exec paths as the program
    /// gave them. Same path, or same file name, is the program's own image.</summary>
    internal static bool IsImage(string regionName, string imagePath)
    {
        if (regionName.Length == 0 || imagePath.Length == 0 || regionName[0] == '[') return false;
        if (regionName == imagePath) return true;
        return Path.GetFileName(regionName) == Path.GetFileName(imagePath);
    }
}
