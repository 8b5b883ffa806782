using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Recorder.Backends.Ptrace.Unpacking;

/// <summary>
/// `--mode unpack` (EtherUnpack / OmniUnpack): the program runs natively, but memory it can write
/// and execute is kept writable-xor-executable by the recorder so that the two moments that make
/// unpacking fault into the recorder:
/// - the first write into a clean page (one that may run: fresh anonymous memory, code): the
///   writing instruction is single-stepped (recorded with its write and registers), the page is
///   recorded as written (page-granular, bytes unseen) and flipped to writable, not executable;
/// - the first execution of a written page: the registers and the stack are recorded, the
///   instruction is single-stepped (the pipeline snapshots the written region before it runs: the
///   unpack moment), and the page flips back to executable, not writable.
/// Protections are changed with remote mprotect calls in the faulting thread. The program's own
/// mmap/mprotect/pkey_mprotect/mremap/munmap are kept as its "imaginary" protections
/// (<see cref="WxPages"/>): a fault the imaginary protection also forbids is the program's own and
/// is delivered as is; a kernel write that failed with EFAULT only because of a withheld write
/// permission is let through and the call runs again.
/// Managed memory: private anonymous mappings (not stacks) the program creates with write or
/// execute permission, and pages it makes executable after they were writable (or writable after
/// they were executable). x86-64 processes only (an i386 process runs unmanaged).
/// With <c>stepWrittenCode</c> (`--mode layers`) written pages are also <see cref="WxPages.Guarded"/>
/// and threads are single-stepped while they run inside them (<see cref="WrittenCodeStepper"/>).
/// </summary>
internal sealed class WriteXorExecute : ISyscallInterceptor, ISignalInterceptor, IStepObserver
{
    private const int MapPrivate = 0x02, MapAnonymous = 0x20, MapGrowsDown = 0x100, MapStack = 0x20000;
    private const int SegvAccErr = 2;
    /// <summary>Larger anonymous mappings are left unmanaged (the page table is per page).</summary>
    private const ulong MaxManagedBytes = 256UL << 20;
    /// <summary>The stack kept at each execution of written code: argc/argv/envp/auxv sit within this of rsp at an entry point.</summary>
    private const ulong StackSnapshotBytes = 16 << 10;

    private static readonly LinuxSyscallTable Calls = LinuxSyscalls.X86_64;
    private static readonly long Mmap = Calls.Number("mmap"), Mprotect = Calls.Number("mprotect"), PkeyMprotect = Calls.Number("pkey_mprotect"),
        Munmap = Calls.Number("munmap"), Mremap = Calls.Number("mremap"), Exit = Calls.Number("exit");

    /// <summary>Layers mode: steps threads inside written code; null in unpack mode.</summary>
    private readonly WrittenCodeStepper? _stepper;
    /// <summary>What a page the recorder saw written gets: <see cref="WxPages.Written"/>, and in layers mode <see cref="WxPages.Guarded"/>.</summary>
    private readonly int _written;

    public WriteXorExecute(bool stepWrittenCode = false)
    {
        _stepper = stepWrittenCode ? new WrittenCodeStepper(RemoteProtect, tid => _stepOnce.ContainsKey(tid)) : null;
        _written = WxPages.Written | (stepWrittenCode ? WxPages.Guarded : 0);
    }

    /// <summary>Threads single-stepping one instruction for a moment, and what to record after it: the page it wrote (or 0).</summary>
    private readonly Dictionary<int, ulong> _stepOnce = new();
    /// <summary>mprotect at entry: the pages' new states, applied at a successful exit.</summary>
    private readonly Dictionary<int, (ulong Start, ulong End, int Prot)> _pendingProtect = new();

    public long WriteFaults { get; private set; }
    public long ExecuteFaults { get; private set; }
    public long KernelRetries { get; private set; }
    /// <summary>Remote mprotect calls made (page flips and the program's own protections fixed up).</summary>
    public long Flips { get; private set; }

    /// <summary>What was counted, for the recording's summary (<see cref="RecordingMode.Details"/>).</summary>
    public IEnumerable<KeyValuePair<string, string>> Details
    {
        get
        {
            yield return new("W^X faults", $"{WriteFaults:N0} first writes into clean pages, {ExecuteFaults:N0} first runs of written pages");
            yield return new("W^X flips", $"{Flips:N0} remote mprotects, {KernelRetries:N0} system calls run again after a refused kernel write");
            if (_stepper != null)
                yield return new("written code", $"{_stepper.Entries:N0} entries (stepped from there), {_stepper.Exits:N0} exits to native code");
        }
    }

    // ---- the program's own protections ---------------------------------------------------------

    public void OnEntry(SyscallStop s)
    {
        if (s.Compat) return;
        long nr = s.Number;
        var args = s.Args;
        if (nr == Exit) _stepper?.Exiting(s.Tid);
        if (nr == Mmap)
        {
            int prot = (int)args[2], flags = (int)args[3];
            if (IsManagedMapping(args[1], prot, flags)) s.SetArgument(2, (ulong)(prot & ~WxPages.ProtWrite)); // fresh = clean
        }
        else if (nr == Mprotect || nr == PkeyMprotect)
        {
            ulong start = args[0] & ~(WxPages.PageSize - 1), end = PageEnd(args[0] + args[1]);
            int prot = (int)args[2] & 7;
            if (end <= start || end - start > MaxManagedBytes) return;
            var pages = s.Process.Space.WxPages;
            bool touchesManaged = pages != null && Any(pages, start, end);
            bool wx = (prot & (WxPages.ProtWrite | WxPages.ProtExec)) != 0;
            if (!touchesManaged && !(wx && WouldManage(s, start, end, prot))) return;
            // The kernel sets the clean version everywhere; dirty and unmanaged pages are fixed at exit.
            s.SetArgument(2, (ulong)((int)args[2] & ~WxPages.ProtWrite));
            _pendingProtect[s.Tid] = (start, end, prot);
        }
    }

    public void OnExit(SyscallStop s)
    {
        if (s.Compat) return;
        long nr = s.Number, ret = s.Return;
        var args = s.Args;
        var space = s.Process.Space;
        _stepper?.ParkIfIdle(s);
        if (_stepper != null && ret == 0 && Calls.Has(nr, SyscallTraits.Exec)) { GuardWrittenImage(s); return; }
        if (nr == Mremap && RemapAcrossFlips(s, space.WxPages, ret)) return;
        if (ret == -Errno.EFAULT && space.WxPages is { Count: > 0 } && !s.Skipped) { RetryKernelWrite(s, space.WxPages); return; }
        if (nr == Mmap)
        {
            if (ret is < 0 and >= -4095) return;
            ulong start = (ulong)ret, end = PageEnd(start + args[1]);
            space.WxPages?.Forget(start, end);
            int prot = (int)args[2], flags = (int)args[3];
            if (!IsManagedMapping(args[1], prot, flags)) return;
            var pages = space.WxPages ??= new WxPages();
            for (ulong a = start; a < end; a += WxPages.PageSize) pages.Set(a, prot & 7);
        }
        else if (nr == Mprotect || nr == PkeyMprotect)
        {
            if (!_pendingProtect.Remove(s.Tid, out var p) || ret != 0) return;
            Protect(s, p.Start, p.End, p.Prot);
        }
        else if (nr == Munmap)
        {
            if (ret == 0) space.WxPages?.Forget(args[0], PageEnd(args[0] + args[1]));
        }
        else if (nr == Mremap)
        {
            if (ret is < 0 and >= -4095 || space.WxPages is not { } pages) return;
            ulong oldSize = PageEnd(args[1]), newSize = PageEnd(args[2]);
            int last = pages.Move(args[0] & ~(WxPages.PageSize - 1), oldSize, (ulong)ret, newSize);
            // The grown part has the last page's real protection; it is fresh (clean) memory.
            if (last >= 0 && newSize > oldSize) RestoreReal(s, pages, (ulong)ret + oldSize, (ulong)ret + newSize, WxPages.Real(last));
        }
    }

    private static bool IsManagedMapping(ulong length, int prot, int flags) =>
        (flags & (MapPrivate | MapAnonymous)) == (MapPrivate | MapAnonymous) && (flags & (MapStack | MapGrowsDown)) == 0
        && (prot & (WxPages.ProtWrite | WxPages.ProtExec)) != 0 && length is > 0 and <= MaxManagedBytes;

    /// <summary>An unmanaged page becomes managed when it gains execute after being writable (it may hold written code), or write after being executable.</summary>
    private static bool WouldManage(SyscallStop s, ulong start, ulong end, int prot)
    {
        foreach (var r in s.Process.Space.Regions.Overlapping(start, end))
        {
            bool wasWritable = (r.Protection & Formats.Model.RegionProtection.Write) != 0;
            bool wasExecutable = (r.Protection & Formats.Model.RegionProtection.Execute) != 0;
            if (IsStack(r.Name)) continue;
            if (((prot & WxPages.ProtExec) != 0 && wasWritable) || ((prot & WxPages.ProtWrite) != 0 && wasExecutable)) return true;
        }
        return false;
    }

    private static bool IsStack(string name) => name.StartsWith("[stack", StringComparison.Ordinal);

    /// <summary>A successful mprotect: new imaginary protections; the kernel set the clean version, dirty pages lose execute instead.</summary>
    private void Protect(SyscallStop s, ulong start, ulong end, int prot)
    {
        var space = s.Process.Space;
        var pages = space.WxPages ??= new WxPages();
        for (ulong a = start; a < end; a += WxPages.PageSize)
        {
            var region = space.Regions.Find(a);
            bool wasWritable = region is { } r && (r.Protection & Formats.Model.RegionProtection.Write) != 0;
            bool wasExecutable = region is { } r2 && (r2.Protection & Formats.Model.RegionProtection.Execute) != 0;
            if (pages.TryGet(a, out int state))
            {
                // A dirty page stays dirty (its writes have not run yet); a clean one stays clean.
                pages.Set(a, (state & ~7) | prot);
            }
            else if (region is { } reg && IsStack(reg.Name)) continue;
            else if ((prot & WxPages.ProtExec) != 0 && wasWritable)
            {
                // May hold what the program wrote (unseen): booked on the thread that makes it executable.
                pages.Set(a, prot | WxPages.Dirty | _written);
                s.Pipeline.UnseenWrite(s.Thread, a, (long)WxPages.PageSize, kernel: false);
            }
            else if ((prot & WxPages.ProtWrite) != 0 && wasExecutable)
                pages.Set(a, prot); // code made writable: clean until written
        }
        // The kernel applied prot without write everywhere: give each run what it really needs.
        RestoreReal(s, pages, start, end, prot & ~WxPages.ProtWrite, unmanaged: prot);
    }

    /// <summary>
    /// Layers mode, a successful exec of a file the trace wrote (a dropper's payload): the new
    /// image's code is written code too. Its executable mappings become guarded pages with their own
    /// protection as the imaginary one, so its first instruction (or the jump from ld.so) faults and
    /// is stepped like any entry into written code.
    /// </summary>
    private void GuardWrittenImage(SyscallStop s)
    {
        if (!s.Pipeline.RunsWrittenFile(s.Pid, out ulong device, out ulong inode)) return;
        var space = s.Process.Space;
        foreach (var region in space.Regions.Executable)
        {
            if (region.Device != device || region.Inode != inode || region.End - region.Start > MaxManagedBytes) continue;
            var pages = space.WxPages ??= new WxPages();
            int prot = ProtOf(region.Protection);
            for (ulong a = region.Start; a < region.End; a += WxPages.PageSize) pages.Set(a, prot | _written);
            RemoteProtect(s, region.Start, region.End, WxPages.Real(prot | _written));
        }
    }

    private static int ProtOf(Formats.Model.RegionProtection p) =>
        ((p & Formats.Model.RegionProtection.Read) != 0 ? WxPages.ProtRead : 0) | ((p & Formats.Model.RegionProtection.Write) != 0 ? WxPages.ProtWrite : 0)
        | ((p & Formats.Model.RegionProtection.Execute) != 0 ? WxPages.ProtExec : 0);

    // ---- faults ---------------------------------------------------------------------------------

    public void OnSignal(SignalStop s)
    {
        if (s.Signo != Signals.SIGSEGV || s.Code != SegvAccErr) return;
        var pages = s.Process.Space.WxPages;
        if (pages == null || !pages.TryGet(s.Address, out int state)) return;
        ulong rip = s.Registers.Rip;
        bool fetch = s.Address >= rip && s.Address < rip + 16;
        ulong page = s.Address & ~(WxPages.PageSize - 1);
        int imaginary = WxPages.Imaginary(state);
        if (fetch && (state & WxPages.Dirty) != 0 && (imaginary & WxPages.ProtExec) != 0)
            Executed(s, pages, page, state);
        else if (fetch && _stepper != null && (state & WxPages.Guarded) != 0 && (imaginary & WxPages.ProtExec) != 0)
        {
            // Written code that ran before is entered again (e.g. a return from a call out): stepped
            // from here, with the registers the native stretch left. Open already: another thread
            // opened it between this fault and its stop (threads race) — this one steps in too.
            s.Pipeline.Registers(s.Thread);
            if ((state & WxPages.Open) != 0) _stepper.Join(s, pages);
            else _stepper.Enter(s, pages, page);
        }
        else if ((WxPages.Real(state) & (fetch ? WxPages.ProtExec : WxPages.ProtWrite)) != 0)
            Stale(s, page, state);
        else if (!fetch && (state & WxPages.Dirty) == 0 && (imaginary & WxPages.ProtWrite) != 0)
            Wrote(s, pages, page, state, rip);
        // Anything else the program's own protection forbids too: its own fault, delivered.
    }

    /// <summary>
    /// The page's state allows the access that faulted: another thread flipped it between this
    /// fault and its stop, and the access runs again. The same fault again means the page does not
    /// have the protection its state says (a remote mprotect that failed): it is given it once more;
    /// a third time the fault is delivered rather than looping.
    /// </summary>
    private void Stale(SignalStop s, ulong page, int state)
    {
        // A repeat = the same fault with no flip in between (a flip is another race, not a repeat).
        bool again = _stale.TryGetValue(s.Tid, out var last) && last.Address == s.Address && last.Flips == Flips;
        int repeats = again ? last.Repeats + 1 : 0;
        if (repeats >= 2)
        {
            _stale.Remove(s.Tid);
            return;
        }
        if (repeats == 1 && !RemoteProtect(s, page, page + WxPages.PageSize, WxPages.Real(state))) return;
        _stale[s.Tid] = (s.Address, Flips, repeats);
        s.Suppress();
    }

    /// <summary>Per thread: its last stale fault (address, the flip count then, repeats in a row).</summary>
    private readonly Dictionary<int, (ulong Address, long Flips, int Repeats)> _stale = new();

    /// <summary>
    /// Written memory is about to run: the unpack moment. The run of written pages around it (what
    /// was unpacked together) is snapshotted and made runnable at once — one moment per unpacked
    /// block, not one per page — then registers and stack, and the instruction single-stepped.
    /// </summary>
    private void Executed(SignalStop s, WxPages pages, ulong page, int state)
    {
        ulong start = page, end = page + WxPages.PageSize;
        while (start - page < MaxRunBytes && IsDirtyExecutable(pages, start - WxPages.PageSize)) start -= WxPages.PageSize;
        while (end - page < MaxRunBytes && IsDirtyExecutable(pages, end)) end += WxPages.PageSize;
        var pipeline = s.Pipeline;
        // The bytes as they first run (before the flip: a native thread cannot change them meanwhile, they are not writable after it).
        pipeline.Snapshot(s.Thread, start, end, "unpack");
        for (ulong a = start; a < end; a += WxPages.PageSize)
        {
            pages.TryGet(a, out int st);
            pages.Set(a, st & ~WxPages.Dirty);
        }
        // Layers mode: the stepper opens the run (its protections) when the thread enters it, below.
        if (_stepper == null)
            foreach (var (runStart, runEnd, real) in pages.RealRuns(start, end, 0))
                if (!RemoteProtect(s, runStart, runEnd, real)) return;
        ExecuteFaults++;
        // The snapshot above is this moment's: the pipeline's own (of the whole region, when a
        // page of the run is next stepped) is not needed.
        for (ulong a = start; a < end; a += WxPages.PageSize) s.Process.Space.IsUnpackMoment(a, (int)WxPages.PageSize);
        pipeline.Registers(s.Thread);
        pipeline.StackSnapshot(s.Thread, "unpack-stack", StackSnapshotBytes);
        if (_stepper != null) _stepper.Enter(s, pages, page);
        else StepOnce(s, 0);
    }

    /// <summary>A run of written pages made runnable at one moment: at most this far either side of the faulting page.</summary>
    private const ulong MaxRunBytes = 8UL << 20;

    private static bool IsDirtyExecutable(WxPages pages, ulong address) =>
        pages.TryGet(address, out int st) && (st & WxPages.Dirty) != 0 && (WxPages.Imaginary(st) & WxPages.ProtExec) != 0;

    /// <summary>The first write into a clean page: the writer is single-stepped; the page becomes written, not executable.</summary>
    private void Wrote(SignalStop s, WxPages pages, ulong page, int state, ulong rip)
    {
        int dirty = state | WxPages.Dirty | _written;
        if ((rip & ~(WxPages.PageSize - 1)) == page)
        {
            // Code writing its own page: W^X would fault on every instruction. Left writable and
            // executable (unmanaged); the analyst is told. (--mode full sees such code exactly.)
            if (!RemoteProtect(s, page, page + WxPages.PageSize, WxPages.Imaginary(state))) return;
            pages.Remove(page);
            s.Annotate("unpack", $"page 0x{page:x} is written by its own code at 0x{rip:x}: left writable and executable, not tracked");
            s.Pipeline.UnseenWrite(s.Thread, page, (long)WxPages.PageSize, kernel: false);
            s.Suppress();
            return;
        }
        if (!RemoteProtect(s, page, page + WxPages.PageSize, WxPages.Real(dirty))) return;
        pages.Set(page, dirty);
        WriteFaults++;
        if (_stepper != null && _stepper.IsInside(s.Tid))
        {
            // Stepped inside written code: its writes are recorded exactly; it steps on (this instruction again).
            s.Suppress();
            return;
        }
        StepOnce(s, page);
    }

    private void StepOnce(SignalStop s, ulong writtenPage)
    {
        _stepOnce[s.Tid] = writtenPage;
        s.Style = ExecutionStyle.Stepping;
        s.Suppress();
    }

    public void AfterStep(ThreadStop s)
    {
        bool moment = _stepOnce.Remove(s.Tid, out ulong writtenPage);
        // The page's other bytes are written natively from now on: recorded as one unseen write by this instruction.
        if (moment && writtenPage != 0) s.Pipeline.UnseenWrite(s.Thread, writtenPage, (long)WxPages.PageSize, kernel: false);
        // Layers mode: the stepper says how the thread goes on (stepping while its address space has open written code).
        if (_stepper != null) _stepper.AfterStep(s);
        else if (moment) s.Style = ExecutionStyle.Native;
    }

    public void ThreadGone(int tid)
    {
        _stepOnce.Remove(tid);
        _stale.Remove(tid);
        _pendingProtect.Remove(tid);
        _remapRetry.Remove(tid);
        _stepper?.Exiting(tid);
    }

    // ---- kernel writes -------------------------------------------------------------------------

    /// <summary>
    /// The call failed with EFAULT: if an argument points into a clean page the program may write,
    /// the kernel was refused by our withheld write permission. Those pages become written (the
    /// kernel writes them) and the call runs again; otherwise the EFAULT is the program's own.
    /// </summary>
    private void RetryKernelWrite(SyscallStop s, WxPages pages)
    {
        bool any = false;
        foreach (ulong arg in s.Args)
        {
            for (ulong a = arg & ~(WxPages.PageSize - 1), n = 0; n < 256 && pages.TryGet(a, out int state); a += WxPages.PageSize, n++)
            {
                if ((state & WxPages.Dirty) != 0 || (WxPages.Imaginary(state) & WxPages.ProtWrite) == 0) break;
                int dirty = state | WxPages.Dirty | _written;
                if (!RemoteProtect(s, a, a + WxPages.PageSize, WxPages.Real(dirty))) return;
                pages.Set(a, dirty);
                s.Pipeline.UnseenWrite(s.Thread, a, (long)WxPages.PageSize, kernel: true);
                any = true;
            }
        }
        if (!any) return;
        KernelRetries++;
        s.Annotate("unpack", $"{s.Name} was refused a write into memory kept read-only for write tracking; it runs again");
        RunAgain(s);
    }

    /// <summary>Back onto the syscall instruction with the call's number: the thread makes the same call again (its argument registers are unchanged).</summary>
    private static void RunAgain(SyscallStop s)
    {
        var regs = s.Registers;
        regs.Rip -= 2;
        regs.Rax = (ulong)s.Number;
        s.SetRegisters(regs);
    }

    // ---- mremap over flipped pages -------------------------------------------------------------

    /// <summary>Threads whose mremap runs again over a range given one protection: the old range and that protection.</summary>
    private readonly Dictionary<int, (ulong Start, ulong End, int Prot)> _remapRetry = new();

    /// <summary>
    /// The kernel resizes or moves only a range inside one mapping (vma). The program's pages there
    /// share one protection, but the flips (written pages rw-, clean ones r--) split the mapping, so
    /// the call fails with EFAULT where natively it succeeds. The range is made one mapping with the
    /// program's own protection for the call, which runs again; at its exit every page gets its real protection
    /// back — at the new address if it moved, at the old one if it failed anyway. A range whose pages
    /// the program itself protected differently fails natively too: its EFAULT is left as it is.
    /// Returns whether the call was handled here.
    /// </summary>
    private bool RemapAcrossFlips(SyscallStop s, WxPages? pages, long ret)
    {
        var args = s.Args;
        if (_remapRetry.Remove(s.Tid, out var old))
        {
            if (pages == null) return true;
            if (ret is < 0 and >= -4095) { RestoreReal(s, pages, old.Start, old.End, old.Prot); return true; }
            ulong newSize = PageEnd(args[2]);
            pages.Move(old.Start, old.End - old.Start, (ulong)ret, newSize);
            RestoreReal(s, pages, (ulong)ret, (ulong)ret + newSize, old.Prot);
            return true;
        }
        ulong start = args[0] & ~(WxPages.PageSize - 1), end = PageEnd(args[0] + args[1]);
        if (ret != -Errno.EFAULT || pages == null || end <= start || end - start > MaxManagedBytes
            || !OneProgramProtection(pages, start, end, out int prot) || !RebuildAsOneMapping(s, start, end, prot)) return false;
        _remapRetry[s.Tid] = (start, end, prot);
        KernelRetries++;
        s.Annotate("unpack", "mremap was refused a range that write tracking had split into several mappings; it runs again over one");
        RunAgain(s);
        return true;
    }

    /// <summary>
    /// Makes [start, end) one mapping with the program's protection, its bytes unchanged. Giving the
    /// pieces one protection is not enough: a piece first written while split off got its own
    /// anon_vma, and the kernel never merges mappings with different ones. So a fresh mapping gets
    /// a copy of every page that is not all zeros and is moved over the range (mremap FIXED
    /// replaces it at once). Private anonymous memory has nothing else to keep; what is lost are
    /// madvise flags and page residency (untouched pages stay zero either way).
    /// </summary>
    private bool RebuildAsOneMapping(SyscallStop s, ulong start, ulong end, int prot)
    {
        ulong length = end - start;
        if (!s.TrySyscall(Mmap, out long fresh, 0, length, (ulong)prot, MapPrivate | MapAnonymous, ulong.MaxValue, 0) || fresh is < 0 and >= -4095) return false;
        Flips++;
        var page = new byte[WxPages.PageSize];
        bool copied = true;
        for (ulong o = 0; o < length && copied; o += WxPages.PageSize)
        {
            int got = s.ReadMemory(start + o, page);
            if (got < page.Length) copied = false;
            else if (page.AsSpan().ContainsAnyExcept((byte)0)) copied = s.Process.Memory.Write((ulong)fresh + o, page, s.Tid);
        }
        if (copied && s.TrySyscall(Mremap, out long moved, (ulong)fresh, length, length, (ulong)(LinuxConstants.MREMAP_MAYMOVE | LinuxConstants.MREMAP_FIXED), start) && (ulong)moved == start) return true;
        s.TrySyscall(Munmap, out _, (ulong)fresh, length);
        return false;
    }

    /// <summary>Every page of [start, end) is managed with the same imaginary protection, and their real ones differ.</summary>
    private static bool OneProgramProtection(WxPages pages, ulong start, ulong end, out int imaginary)
    {
        imaginary = -1;
        int real = -1;
        bool split = false;
        for (ulong a = start; a < end; a += WxPages.PageSize)
        {
            if (!pages.TryGet(a, out int state)) return false;
            if (imaginary < 0) (imaginary, real) = (WxPages.Imaginary(state), WxPages.Real(state));
            else if (WxPages.Imaginary(state) != imaginary) return false;
            else split |= WxPages.Real(state) != real;
        }
        return split;
    }

    /// <summary>Pages the kernel gave <paramref name="given"/> (for a call) get their real protections;
    /// unmanaged ones get <paramref name="unmanaged"/> (default: they keep <paramref name="given"/>).</summary>
    private void RestoreReal(ThreadStop s, WxPages pages, ulong start, ulong end, int given, int? unmanaged = null)
    {
        foreach (var (runStart, runEnd, real) in pages.RealRuns(start, end, unmanaged ?? given))
            if (real != given) RemoteProtect(s, runStart, runEnd, real);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private bool RemoteProtect(ThreadStop s, ulong start, ulong end, int prot)
    {
        Flips++;
        return s.TrySyscall(Mprotect, out long r, start, end - start, (ulong)prot) && r == 0;
    }

    private static bool Any(WxPages pages, ulong start, ulong end)
    {
        for (ulong a = start; a < end; a += WxPages.PageSize)
            if (pages.IsManaged(a)) return true;
        return false;
    }

    private static ulong PageEnd(ulong address) => (address + WxPages.PageSize - 1) & ~(WxPages.PageSize - 1);
}
