using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

/// <summary>
/// What the recorder knows about one address space (shared by the threads of a process and by a
/// vfork / CLONE_VM child until it execs): the code it has decoded (<see cref="CodeCache"/>), the
/// memory written since it last ran (<see cref="UnpackTracker"/>), and the region map
/// (a <see cref="MemoryMap"/> read from /proc/PID/maps). Every write the recorder sees, by an instruction or
/// by the kernel, goes through <see cref="NoteWrite"/> so both stay true.
/// </summary>
internal sealed class AddressSpace
{
    private readonly CodeCache _code;
    private readonly UnpackTracker _unpack;
    private MemoryMap _regions = new();

    public AddressSpace(ITargetMemory memory) : this(new CodeCache(memory), new UnpackTracker())
    {
    }

    private AddressSpace(CodeCache code, UnpackTracker unpack)
    {
        _code = code;
        _unpack = unpack;
    }

    /// <summary>The map as /proc/PID/maps last showed it (replaced, never changed in place).</summary>
    public MemoryMap Regions => _regions;

    /// <summary>Where a <c>syscall</c> instruction (0f 05) sits in this address space, for remote system
    /// calls (<see cref="RemoteSyscalls"/>); 0 until one was looked for. A new image (exec) gets a new space.</summary>
    public ulong SyscallSite { get; set; }

    /// <summary>`--mode unpack`'s page states (<see cref="Unpacking.WxPages"/>); null in other modes and until the first managed page.</summary>
    public Unpacking.WxPages? WxPages { get; set; }

    /// <summary>The instruction at <paramref name="rip"/> (the reference is valid until the next fetch).</summary>
    public ref readonly CodeEntry Fetch(ulong rip, int bitness) => ref _code.Get(rip, bitness);

    /// <summary>Memory changed: forget code decoded there, and remember it was written (unpacking).</summary>
    public void NoteWrite(ulong address, long length)
    {
        _code.Invalidate(address, length);
        _unpack.OnWrite(address, length);
    }

    /// <summary>True when the instruction about to run sits in memory written since its page last ran (an unpack moment).</summary>
    public bool IsUnpackMoment(ulong rip, int length) => _unpack.OnExecute(rip, length);

    /// <summary>A moment was noticed for a step that then did not run (a signal came first): it comes back when the code really runs.</summary>
    public void Rearm(ulong rip, int length) => _unpack.OnWrite(rip, length);

    /// <summary>The copy a fork child starts with (its memory is a copy of the parent's).</summary>
    public AddressSpace CopyForFork(ITargetMemory childMemory) => new(_code.Fork(childMemory), _unpack.Fork()) { _regions = _regions, SyscallSite = SyscallSite, WxPages = WxPages?.Copy() };

    /// <summary>Re-reads /proc/PID/maps and appends the region events that turn the old map into the new one.</summary>
    /// <param name="freshStart">With <paramref name="freshEnd"/>: a range known to hold new contents (what an mmap returned).</param>
    public void RefreshRegions(int pid, List<TraceEvent> events, ulong freshStart = 0, ulong freshEnd = 0)
    {
        var fresh = ProcMapsParser.Parse(ProcFs.ReadMaps(pid));
        foreach (var e in MapDiff.Diff(_regions, fresh, freshStart, freshEnd))
        {
            switch (e)
            {
                case RegionUnmapEvent u:
                    _code.Invalidate(u.Start, (long)(u.End - u.Start));
                    _unpack.Forget(u.Start, (long)(u.End - u.Start));
                    break;
                case RegionMapEvent m:
                    // New contents (a file, zeros): nothing the process wrote is there any more.
                    _code.Invalidate(m.Start, (long)(m.End - m.Start));
                    _unpack.Forget(m.Start, (long)(m.End - m.Start));
                    break;
            }
            events.Add(e);
        }
        _regions = fresh;
    }
}
