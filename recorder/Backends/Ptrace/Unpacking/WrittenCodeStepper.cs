using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Recorder.Backends.Ptrace.Unpacking;

/// <summary>
/// `--mode layers`: on top of <see cref="WriteXorExecute"/>, every thread is single-stepped while it
/// runs inside written code (pages the recorder saw written, <see cref="WxPages.Guarded"/>), and
/// runs natively elsewhere. Written code never runs natively unseen: its pages are kept neither
/// executable nor writable ("parked") while no thread steps inside them, so each entry — the
/// first run of an unpacked layer, a return from a call out into libc, a jump from the unpacker —
/// faults into the recorder. At an entry the run of written code around the faulting page is
/// "opened" (the program's own protection) and the thread steps; when a step leaves written code
/// and no other thread of the address space is inside, the open pages are parked again (one
/// remote mprotect per run) and the thread runs natively. Cost: two flips and a fault per call out
/// of written code and back (bench unpack reports them).
/// Gaps, documented in docs/analyses.md: while a thread steps inside, the open pages are
/// executable for the process's other threads too, and one that enters them meanwhile runs them
/// natively; code written into unmanaged memory (stacks, file mappings) is not written code here.
/// A task created inside written code starts stepping (<see cref="LayersMode.StyleOfNewTask"/>).
/// </summary>
internal sealed class WrittenCodeStepper(Func<ThreadStop, ulong, ulong, int, bool> protect)
{
    /// <summary>A run of written code opened at one entry: at most this far either side of the faulting page.</summary>
    private const ulong MaxRunBytes = 8UL << 20;

    /// <summary>Threads single-stepping inside written code, with the page table of the address space they step in.</summary>
    private readonly Dictionary<int, WxPages> _inside = new();
    /// <summary>Address spaces with open pages (by reference: one page table per address space).</summary>
    private readonly HashSet<WxPages> _openSpaces = new(ReferenceEqualityComparer.Instance);
    private readonly List<ulong> _scratch = new();

    /// <summary>Entries into written code (faults that opened it), and exits to native code (parks).</summary>
    public long Entries { get; private set; }
    public long Exits { get; private set; }

    public bool IsInside(int tid) => _inside.ContainsKey(tid);

    /// <summary>A page of written code that no thread steps in: its fetch is an entry.</summary>
    public static bool IsParkedCode(int state) =>
        (state & (WxPages.Guarded | WxPages.Open | WxPages.Dirty)) == WxPages.Guarded && (WxPages.Imaginary(state) & WxPages.ProtExec) != 0;

    /// <summary>
    /// The thread is about to run written code at <paramref name="page"/>: the run of parked written
    /// code around it gets the program's own protection, and the thread steps from this instruction
    /// on (it runs again, stepped).
    /// </summary>
    public void Enter(SignalStop s, WxPages pages, ulong page)
    {
        ulong start = page, end = page + WxPages.PageSize;
        while (page - start < MaxRunBytes && pages.TryGet(start - WxPages.PageSize, out int before) && IsParkedCode(before)) start -= WxPages.PageSize;
        while (end - page < MaxRunBytes && pages.TryGet(end, out int after) && IsParkedCode(after)) end += WxPages.PageSize;
        for (ulong a = start; a < end; a += WxPages.PageSize)
            if (pages.TryGet(a, out int st)) pages.Set(a, st | WxPages.Open);
        _openSpaces.Add(pages);
        foreach (var (runStart, runEnd, real) in pages.RealRuns(start, end, 0))
            if (!protect(s, runStart, runEnd, real)) return;
        _inside[s.Tid] = pages;
        Entries++;
        s.Style = ExecutionStyle.Stepping;
        s.Suppress();
    }

    /// <summary>The thread faulted on written code another thread has opened since: it steps in too (the instruction runs again, stepped).</summary>
    public void Join(SignalStop s, WxPages pages)
    {
        _inside[s.Tid] = pages;
        Entries++;
        s.Style = ExecutionStyle.Stepping;
        s.Suppress();
    }

    /// <summary>After each step of a stepping thread (not one of unpack mode's one-instruction moments).</summary>
    public void AfterStep(ThreadStop s)
    {
        var pages = s.Process.Space.WxPages;
        int state = 0;
        bool inCode = pages != null && pages.TryGet(s.Registers.Rip, out state)
            && (state & WxPages.Guarded) != 0 && (WxPages.Imaginary(state) & WxPages.ProtExec) != 0;
        if (_inside.TryGetValue(s.Tid, out var steppingIn))
        {
            // Still inside (a parked page it jumps to faults at its fetch and opens).
            if (ReferenceEquals(steppingIn, pages) && inCode) return;
            _inside.Remove(s.Tid);
            if (ReferenceEquals(steppingIn, pages)) ParkIfIdle(s, pages!);
            else if (!_inside.ContainsValue(steppingIn)) _openSpaces.Remove(steppingIn); // it exec'd: that address space is gone
        }
        else if (inCode && (state & WxPages.Open) != 0)
        {
            // A thread or process created inside written code starts stepping there (it inherited its creator's style).
            _inside[s.Tid] = pages!;
            _openSpaces.Add(pages!);
            return;
        }
        s.Style = ExecutionStyle.Native;
    }

    /// <summary>The thread leaves for good (exit): it is no longer inside; its pages are parked at the next stop of a thread of the address space.</summary>
    public void Exiting(int tid) => _inside.Remove(tid);

    /// <summary>At any system-call exit: open pages nobody steps in any more (their stepper exited) are parked.</summary>
    public void ParkIfIdle(ThreadStop s)
    {
        if (_openSpaces.Count == 0 || s.Process.Space.WxPages is not { } pages || !_openSpaces.Contains(pages)) return;
        ParkIfIdle(s, pages);
    }

    private void ParkIfIdle(ThreadStop s, WxPages pages)
    {
        foreach (var other in _inside.Values)
            if (ReferenceEquals(other, pages)) return;
        _openSpaces.Remove(pages);
        _scratch.Clear();
        foreach (var (address, st) in pages.Pages)
            if ((st & WxPages.Open) != 0) _scratch.Add(address);
        _scratch.Sort();
        if (_scratch.Count == 0) return;
        Exits++;
        // One mprotect per run of consecutive pages with the same parked protection.
        ulong runStart = 0, runEnd = 0;
        int runProt = -1;
        foreach (ulong a in _scratch)
        {
            pages.TryGet(a, out int st);
            pages.Set(a, st & ~WxPages.Open);
            int real = WxPages.Real(st & ~WxPages.Open);
            if (a == runEnd && real == runProt)
            {
                runEnd += WxPages.PageSize;
                continue;
            }
            if (runProt >= 0) protect(s, runStart, runEnd, runProt);
            (runStart, runEnd, runProt) = (a, a + WxPages.PageSize, real);
        }
        protect(s, runStart, runEnd, runProt);
    }
}
