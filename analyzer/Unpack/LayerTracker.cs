using Ether.Replay.Formats.Memory;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Analyzer.Unpack;

/// <summary>
/// Follows unpacking layers through a trace in log order (SoK on runtime packers, Ugarte-Pedrero et
/// al. 2015): code that was loaded is layer 0; bytes written by code of layer L (or by the kernel
/// during its system calls) are tagged L+1; an instruction belongs to the highest layer among its
/// bytes. A layer's row records where and when execution first entered it (the original-entry-point
/// candidate), the region, and who wrote it. Mapping a file or unmapping forgets what was written
/// there; exec starts a new image with a clean slate; a forked child starts with a copy of its
/// parent's written bytes and map, so code the parent unpacked is a layer in the child that runs it.
/// </summary>
public sealed class LayerTracker
{
    private readonly Dictionary<int, AddressSpace> _spaces = new();
    private readonly Dictionary<(int Pid, int Tid), LayerThread> _threads = new();
    private readonly List<LayerRecord> _finished = new();
    private readonly Action<LayerTransition> _onTransition;
    private readonly string _targetPath;

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
        public MemoryMap Regions { get; internal set; } = new();
        internal readonly LayerRecord?[] Layers = new LayerRecord?[ShadowMemory.MaxTag + 1];
        public int HighestLayer { get; internal set; } = -1;
    }

    /// <summary>A thread's position: the layer and address of its last instruction.</summary>
    public sealed class LayerThread(AddressSpace space, int tid)
    {
        public AddressSpace Space { get; internal set; } = space;
        public int Tid { get; } = tid;
        public int Layer { get; internal set; }
        public ulong LastRip { get; internal set; }
        public bool Executed { get; internal set; }
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
        int layer = space.Shadow.MaxTagOf(rip, length);
        var record = space.Layers[layer] ?? Enter(space, t, layer, step, rip);
        record.Instructions++;
        record.LastStep = step;
        if (t.Executed && layer != t.Layer)
            _onTransition(new LayerTransition(space.Pid, t.Tid, space.Image, step, t.Layer, layer, t.LastRip, rip));
        t.Layer = layer;
        t.LastRip = rip;
        t.Executed = true;
        space.ImageExecuted = true;
        return layer;
    }

    /// <summary>The thread's current instruction (or the kernel, in its system call) wrote these bytes.</summary>
    public void OnWrite(LayerThread t, long step, ulong address, long size, bool kernel)
    {
        byte tag = (byte)Math.Min(t.Layer + 1, ShadowMemory.MaxTag);
        t.Space.Shadow.Write(address, size, tag, t.Executed ? t.LastRip : null, step, kernel);
    }

    /// <summary>Memory map events, exec and process exit.</summary>
    public void OnSideEvent(TraceEvent e)
    {
        switch (e)
        {
            case RegionMapEvent m:
            {
                var s = Space(m.Pid);
                s.Regions.Apply(m);
                s.Shadow.Forget(m.Start, m.End); // fresh contents: loaded, not written
                break;
            }
            case RegionUnmapEvent u:
            {
                var s = Space(u.Pid);
                s.Regions.Apply(u);
                s.Shadow.Forget(u.Start, u.End);
                break;
            }
            case RegionProtectEvent p:
                Space(p.Pid).Regions.Apply(p);
                break;
            case ExecEvent x:
                NewImage(Space(x.Pid), x.Path);
                break;
            case ProcessStartEvent { ParentPid: > 0, How: "fork" or "vfork" or "clone" } f when f.ParentPid != f.Pid:
                Fork(f.ParentPid, f.Pid);
                break;
        }
    }

    /// <summary>Every layer of every image, in (pid, image, layer) order. Call once, at the end.</summary>
    public IReadOnlyList<LayerRecord> Finish()
    {
        foreach (var s in _spaces.Values) Retire(s);
        return _finished.OrderBy(r => r.Pid).ThenBy(r => r.Image).ThenBy(r => r.Layer).ToList();
    }

    /// <summary>The child's address space becomes a copy of the parent's: its written bytes (with their
    /// layers and writers) and its map. An earlier process with the child's pid is retired first.</summary>
    private void Fork(int parentPid, int childPid)
    {
        var parent = Space(parentPid);
        var child = new AddressSpace(childPid, parent.ImagePath) { Shadow = parent.Shadow.Copy(), Regions = parent.Regions.Copy() };
        if (_spaces.Remove(childPid, out var earlier))
        {
            Retire(earlier);
            child.Image = earlier.Image + 1; // (pid, image) stays a unique key when a pid is reused
        }
        _spaces.Add(childPid, child);
        foreach (var t in _threads.Values)
            if (t.Space.Pid == childPid) { t.Space = child; t.Executed = false; t.Layer = 0; }
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
        s.Regions.Clear();
        foreach (var t in _threads.Values)
            if (t.Space == s) { t.Executed = false; t.Layer = 0; }
    }

    private void Retire(AddressSpace s)
    {
        for (int i = 0; i < s.Layers.Length; i++)
        {
            if (s.Layers[i] is { } r) _finished.Add(r);
            s.Layers[i] = null;
        }
        s.HighestLayer = -1;
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
            RegionStart = start,
            RegionEnd = end,
            RegionName = region?.Name,
            MainImage = region is { } r && IsImage(r.Name, s.ImagePath),
            BytesWritten = bytes,
            WriterRipMin = writers is { AnyRip: true } ? writers.MinRip : null,
            WriterRipMax = writers is { AnyRip: true } ? writers.MaxRip : null,
            WriterFirstStep = writers != null && bytes > 0 ? writers.FirstStep : null,
            WriterLastStep = writers != null && bytes > 0 ? writers.LastStep : null,
            KernelBytes = writers?.KernelBytes ?? 0,
        };
        s.Layers[layer] = record;
        s.HighestLayer = Math.Max(s.HighestLayer, layer);
        return record;
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
