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
/// Threads: open pages are executable for every thread of the address space (its process's threads
/// and CLONE_VM processes), so while any page is open (<see cref="WxPages.Opened"/>) every one of
/// them steps — before the pages open, the others are made to step and those running natively are
/// stopped (<see cref="ThreadStop.SetStyleOfOthers"/>); they may be outside written code (that is the
/// price); one that steps into the open code is inside too; all go native again when the pages are
/// parked. Holding the others stopped instead would deadlock a payload whose thread waits for another.
/// A task created meanwhile inherits its creator's style (<see cref="LayersMode.StyleOfNewTask"/>);
/// a fork child's copy of open pages is parked at its first step. Gap, documented in
/// docs/analyses.md: code written into unmanaged memory (stacks, file mappings) is not written code here.
/// </summary>
internal sealed class WrittenCodeStepper(Func<ThreadStop, ulong, ulong, int, bool> protect, Func<int, bool> inMoment)
{
    /// <summary>A run of written code opened at one entry: at most this far either side of the faulting page.</summary>
    private const ulong MaxRunBytes = 8UL << 20;

    /// <summary>Threads single-stepping inside written code, with the page table of the address space they step in.</summary>
    private readonly Dictionary<int, WxPages> _inside = new();
    private readonly List<ulong> _scratch = new();

    /// <summary>Entries into written code (faults that opened it, threads that stepped into open code), and exits to native code (parks).</summary>
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
        Opening(s, pages);
        for (ulong a = start; a < end; a += WxPages.PageSize)
            if (pages.TryGet(a, out int st)) pages.Set(a, st | WxPages.Open);
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
        Opening(s, pages);
        _inside[s.Tid] = pages;
        Entries++;
        s.Style = ExecutionStyle.Stepping;
        s.Suppress();
    }

    /// <summary>Before the first page of an address space opens: every other thread sharing it steps from now on (none runs natively once this returns).</summary>
    private static void Opening(ThreadStop s, WxPages pages)
    {
        if (pages.Opened) return;
        pages.Opened = true;
        s.SetStyleOfOthers(ExecutionStyle.Stepping);
    }

    /// <summary>After each step of a stepping thread (inside written code, or stepping because another thread is).</summary>
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
            // Left it (or exec'd: the old space's other users park it at their next stop).
            _inside.Remove(s.Tid);
        }
        else if (inCode && (state & WxPages.Open) != 0)
        {
            // A thread stepping because another one is inside (or created inside written code) reaches the open code.
            Opening(s, pages!);
            _inside[s.Tid] = pages!;
            Entries++;
            return;
        }
        s.Style = StyleOutside(s, pages);
    }

    /// <summary>The thread leaves for good (exit) or is gone: it is no longer inside; its pages are parked at the next stop of a thread of the address space.</summary>
    public void Exiting(int tid) => _inside.Remove(tid);

    /// <summary>At any system-call exit: open pages nobody steps in any more (their stepper exited or died) are parked.</summary>
    public void ParkIfIdle(ThreadStop s)
    {
        if (s.Process.Space.WxPages is not { Opened: true } pages || AnyInside(pages)) return;
        Park(s, pages);
        if (!inMoment(s.Tid)) s.Style = ExecutionStyle.Native;
    }

    /// <summary>How a thread outside written code runs: stepped while a page of its address space is open, else natively (parking pages nobody steps in any more).</summary>
    private ExecutionStyle StyleOutside(ThreadStop s, WxPages? pages)
    {
        if (pages is not { Opened: true }) return ExecutionStyle.Native;
        if (AnyInside(pages)) return ExecutionStyle.Stepping;
        Park(s, pages);
        return ExecutionStyle.Native;
    }

    private bool AnyInside(WxPages pages)
    {
        foreach (var other in _inside.Values)
            if (ReferenceEquals(other, pages)) return true;
        return false;
    }

    /// <summary>Every open page of the address space is parked (one mprotect per run of equal protection), then its other threads run natively again.</summary>
    private void Park(ThreadStop s, WxPages pages)
    {
        pages.Opened = false;
        _scratch.Clear();
        foreach (var (address, st) in pages.Pages)
            if ((st & WxPages.Open) != 0) _scratch.Add(address);
        _scratch.Sort();
        if (_scratch.Count > 0)
        {
            Exits++;
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
        // Not a thread in the middle of one of unpack mode's one-instruction moments: that step is still to come.
        s.SetStyleOfOthers(ExecutionStyle.Native, inMoment);
    }
}
