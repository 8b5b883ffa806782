namespace Ether.Replay.Recorder.Backends.Ptrace.Unpacking;

/// <summary>
/// `--mode unpack`'s page table for one address space: the pages whose real protection differs
/// from the one the program asked for, so that writes into code and execution of written memory
/// fault (OmniUnpack's W^X tracking). Per managed page: the program's own ("imaginary")
/// protection and whether the page is <see cref="Dirty"/> (written since it last ran: execution is
/// withheld) or clean (may run: writing is withheld). Unmanaged pages have the protection the
/// program asked for. Copied for a fork child (its page tables are a copy of its parent's); a new
/// image (exec) starts empty.
/// </summary>
internal sealed class WxPages
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    public const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    /// <summary>Written since it last ran (its execution faults); clear = may run (its writes fault).</summary>
    public const int Dirty = 8;
    /// <summary>The recorder saw a write into it at some point (a recorded write fault, a kernel write, an exec'd mprotect of written memory).</summary>
    public const int Written = 16;
    /// <summary>The program's protection included write at some point (set by <see cref="Set"/>): natively the kernel
    /// accounts a private mapping from then on (VM_ACCOUNT, "ac" in smaps), which the recorder's flips may not have done.</summary>
    public const int Accounted = 32;
    /// <summary>`--mode layers`: written code whose execution is watched — execute (and write) withheld
    /// unless <see cref="Open"/>, so that every entry into it faults and is single-stepped.</summary>
    public const int Guarded = 64;
    /// <summary>`--mode layers`: a thread is single-stepping inside this written code: the page has the program's own protection.</summary>
    public const int Open = 128;
    private const int ProtMask = 7;

    private readonly Dictionary<ulong, byte> _pages;

    public WxPages() => _pages = new();

    private WxPages(Dictionary<ulong, byte> pages) => _pages = pages;

    public int Count => _pages.Count;

    /// <summary>`--mode layers`: some page may be <see cref="Open"/> — executable for every thread of the
    /// address space, so all of them step (<see cref="WrittenCodeStepper"/>). A fork child's copy keeps it:
    /// its kernel copy of the pages is open too, until the child parks them.</summary>
    public bool Opened { get; set; }

    public WxPages Copy() => new(new Dictionary<ulong, byte>(_pages)) { Opened = Opened };

    public bool TryGet(ulong address, out int state)
    {
        bool found = _pages.TryGetValue(address >> PageShift, out byte s);
        state = s;
        return found;
    }

    public void Set(ulong address, int state) => _pages[address >> PageShift] = (byte)((state & ProtWrite) != 0 ? state | Accounted : state);

    public void Remove(ulong address) => _pages.Remove(address >> PageShift);

    public bool IsManaged(ulong address) => _pages.ContainsKey(address >> PageShift);

    /// <summary>Every managed page (address, state), unordered: read-only, e.g. for the maps the program believes it has.</summary>
    public IEnumerable<(ulong Address, int State)> Pages => _pages.Select(p => (p.Key << PageShift, (int)p.Value));

    /// <summary>Forgets every page of [start, end) (unmapped, or replaced by a new mapping).</summary>
    public void Forget(ulong start, ulong end)
    {
        if (_pages.Count == 0) return;
        ulong pages = (end - start) >> PageShift;
        if (pages > (ulong)_pages.Count)
        {
            foreach (ulong p in _pages.Keys.Where(p => p >= start >> PageShift && p < end >> PageShift).ToList()) _pages.Remove(p);
            return;
        }
        for (ulong a = start; a < end; a += PageSize) _pages.Remove(a >> PageShift);
    }

    /// <summary>The program's protection of a managed page state.</summary>
    public static int Imaginary(int state) => state & ProtMask;

    /// <summary>What the page really gets: a dirty page does not run, a clean one is not written; a
    /// guarded one (layers mode) neither, unless open (it keeps reads: on x86 execute implies read).</summary>
    public static int Real(int state)
    {
        int prot = state & ProtMask;
        if ((state & Open) != 0) return prot;
        if ((state & Dirty) != 0) return prot & ~ProtExec;
        if ((state & Guarded) != 0) return (prot & ProtExec) != 0 ? ProtRead : prot & ProtRead;
        return prot & ~ProtWrite;
    }

    /// <summary>Runs of consecutive pages in [start, end) that get the same real protection, for one mprotect each.</summary>
    public IEnumerable<(ulong Start, ulong End, int Real)> RealRuns(ulong start, ulong end, int unmanagedProt)
    {
        ulong runStart = start;
        int runProt = -1;
        for (ulong a = start; a < end; a += PageSize)
        {
            int prot = TryGet(a, out int s) ? Real(s) : unmanagedProt;
            if (prot != runProt)
            {
                if (runProt >= 0) yield return (runStart, a, runProt);
                runStart = a;
                runProt = prot;
            }
        }
        if (runProt >= 0) yield return (runStart, end, runProt);
    }

    /// <summary>
    /// Moves the pages of [oldStart, oldStart+oldSize) to newStart (mremap). Grown pages are fresh
    /// zero memory with the last page's protection: clean, not written (the caller gives them their
    /// real protection: the kernel extended the mapping with the last page's). Returns the last
    /// page's state before the move, or -1 when no page of the range was managed.
    /// </summary>
    public int Move(ulong oldStart, ulong oldSize, ulong newStart, ulong newSize)
    {
        var moved = new List<(ulong Offset, byte State)>();
        int last = -1;
        for (ulong o = 0; o < oldSize; o += PageSize)
            if (_pages.Remove((oldStart + o) >> PageShift, out byte s)) { moved.Add((o, s)); last = s; }
        if (last < 0) return -1;
        foreach (var (o, s) in moved)
            if (o < newSize) _pages[(newStart + o) >> PageShift] = s;
        byte fresh = (byte)(last & (ProtMask | Accounted));
        for (ulong o = oldSize; o < newSize; o += PageSize) _pages[(newStart + o) >> PageShift] = fresh;
        return last;
    }
}
