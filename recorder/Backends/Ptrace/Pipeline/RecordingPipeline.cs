using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Instructions;
using Ether.Replay.Recorder.Instructions;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

/// <summary>What the instruction at a thread's rip asks of the backend.</summary>
internal enum StepKind
{
    /// <summary>An ordinary instruction: single-step it.</summary>
    Normal,
    /// <summary>syscall / int 0x80 / sysenter: run it to its system-call entry and exit stops.</summary>
    SystemCall,
    /// <summary>The bytes at rip cannot be read or decoded: the step will fault.</summary>
    Unreadable,
}

/// <summary>
/// Turns what a backend observes into trace-writer calls, in the order the log requires for each
/// step S: <c>Instruction(S)</c>, an unpack snapshot (memory as S begins), then once S has run:
/// its memory writes, system-call events and kernel writes, then the registers after S.
/// Owns the per-address-space knowledge (code, written pages, regions) and the decoders.
/// Runs on the tracer thread; the hot path (<see cref="BeginStep"/>, <see cref="CompleteStep"/>)
/// allocates nothing.
/// </summary>
internal sealed class RecordingPipeline
{
    private const int PageSize = 4096;

    private readonly TraceWriter _writer;
    private readonly PtraceRecordOptions _options;
    private readonly MemoryOperands _operands = HostCpu.NewOperands();
    private readonly ReadCheck _reads = new(HostCpu.NewOperands());
    private readonly List<TraceEvent> _pendingEvents = new();
    private readonly FileProvenance _files = new();
    private readonly List<FileEvent> _fileEvents = new();
    private byte[] _value = new byte[64 << 10];

    public RecordingPipeline(TraceWriter writer, PtraceRecordOptions options)
    {
        _writer = writer;
        _options = options;
    }

    public TraceWriter Writer => _writer;

    /// <summary>Pages snapshotted before a first read, and because a read found them changed outside the program.</summary>
    public ReadCheck Reads => _reads;

    // ---- processes and threads -------------------------------------------------------------

    public void ProcessStarted(RecordedProcess process, string how) =>
        _writer.Write(new ProcessStartEvent { Pid = process.Pid, ParentPid = process.ParentPid, How = how });

    public void ThreadStarted(RecordedThread thread, int parentTid) =>
        _writer.Write(new ThreadStartEvent { Pid = thread.Pid, Tid = thread.Tid, ParentTid = parentTid });

    public void ThreadExited(RecordedThread thread, int exitCode) =>
        _writer.Write(new ThreadExitEvent { Pid = thread.Pid, Tid = thread.Tid, ExitCode = exitCode });

    public void ProcessExited(RecordedProcess process, int exitCode, int signal, bool coreDumped) =>
        _writer.Write(new ProcessExitEvent { Pid = process.Pid, ExitCode = exitCode, Signal = signal, CoreDumped = coreDumped });

    /// <summary>
    /// A new program image: exec event, the new region map, and snapshots of what the program starts
    /// with: every executable region, the writable regions of its images (<c>.data</c>, <c>.got</c>: the
    /// file's initialised data) and the initial stack from rsp up (argv, envp, auxv). Other pages (bss,
    /// heap, file mappings) are taken at their first read (<see cref="ReadCheck"/>).
    /// </summary>
    public void Exec(RecordedThread thread, string path, string[] argv)
    {
        var process = thread.Process;
        process.Space = new AddressSpace(process.Memory);
        process.Shadow = new ReadShadow();
        process.Executable = path;
        _writer.Write(new ExecEvent { Pid = process.Pid, Tid = thread.Tid, Path = path, Argv = argv });
        RefreshRegions(thread);
        foreach (var region in process.Space.Regions.Executable)
            WriteSnapshot(thread, region.Start, region.End, "exec");
        // The writable regions of its images (.data, .got: the file's initialised data).
        foreach (var region in process.Space.Regions.Regions)
        {
            bool writable = (region.Protection & (RegionProtection.Write | RegionProtection.Shared)) == RegionProtection.Write;
            if (writable && region.HasFile && (region.Protection & RegionProtection.Execute) == 0)
                WriteSnapshot(thread, region.Start, region.End, "exec");
        }
        // The initial stack (argc, argv, envp, auxv and their strings): what the program's first
        // instruction sees, and what an unpacker rewrites (AT_ENTRY, AT_PHDR) before handing over.
        StackSnapshot(thread, "stack", MaxInitialStackBytes);
        // Which file this image came from (with its content when the trace wrote it).
        foreach (var e in _files.TakeExec(process.Pid))
        {
            e.Tid = thread.Tid;
            _writer.Write(e);
        }
    }

    /// <summary>
    /// The stack from rsp's page up (at most <paramref name="max"/> bytes past rsp, within its region)
    /// as a snapshot: at exec (reason `stack`: argc, argv, envp, auxv) and at `--mode unpack`'s moments
    /// (`unpack-stack`: the entry state an unpacker hands over). From the page, not rsp: the read
    /// shadow, which learns the bytes too, knows whole pages only.
    /// </summary>
    public void StackSnapshot(RecordedThread thread, string reason, ulong max)
    {
        ulong rsp = thread.Registers.Rsp;
        if (thread.Process.Space.Regions.Find(rsp) is not { } stack) return;
        ulong start = Math.Max(stack.Start, rsp & ~(ulong)(PageSize - 1));
        ulong end = Math.Min(stack.End, rsp + max);
        if (ReadSnapshot(thread, start, end, reason) is not { } snapshot) return;
        _writer.Write(snapshot);
        thread.Process.Shadow.Observe(snapshot.Address, snapshot.Bytes);
    }

    /// <summary>
    /// A page-granular write whose bytes the recorder did not see (`--mode unpack`: the program
    /// writes the page natively after its first write faulted): size without value, so readers know
    /// the range changed but not to what; the next snapshot of it tells.
    /// </summary>
    public void UnseenWrite(RecordedThread thread, ulong address, long size, bool kernel)
    {
        _writer.MemoryWrite(thread.Pid, thread.Tid, address, size, ReadOnlySpan<byte>.Empty, kernel ? MemoryWriteFlags.Kernel : MemoryWriteFlags.None);
        thread.Process.Space.NoteWrite(address, size);
    }

    /// <summary>The initial stack kept at exec: its top (argv and environment strings are rarely more).</summary>
    private const ulong MaxInitialStackBytes = 256 << 10;

    /// <summary>The process's current image (its /proc/PID/exe) is a file the trace wrote (a dropped program it exec'd): its device and inode.</summary>
    public bool RunsWrittenFile(int pid, out ulong device, out ulong inode)
    {
        (device, inode) = (0, 0);
        if (_files.WrittenFiles == 0 || !FileIdentity.Stat($"/proc/{pid}/exe", out var st)) return false;
        (device, inode) = (st.Device, st.Inode);
        return _files.IsWritten(device, inode);
    }

    public void Registers(RecordedThread thread) => _writer.Registers(thread.Pid, thread.Tid, thread.Registers);

    public void Annotate(int pid, int tid, string key, string text) =>
        _writer.Write(new AnnotationEvent { Pid = pid, Tid = tid, Key = key, Text = text });

    // ---- steps ---------------------------------------------------------------------------

    /// <summary>Prepares the step from the thread's current registers: fetches (cached) code,
    /// notices an unpack moment, computes the ranges the instruction will write.</summary>
    public StepKind BeginStep(RecordedThread thread)
    {
        ulong rip = thread.Registers.Rip;
        var space = thread.Process.Space;
        int bitness = thread.Registers[Formats.Model.Register.Cs] == 0x23 ? 32 : 64;
        thread.StepRip = rip;
        thread.StepWriteCount = 0;
        thread.StepPending = true;
        ref readonly var entry = ref space.Fetch(rip, bitness);
        thread.StepInstruction = entry.Instruction;
        if (!entry.IsValid)
        {
            thread.StepLength = 0;
            return StepKind.Unreadable;
        }
        thread.StepLength = entry.Length;
        entry.Bytes.CopyTo(thread.StepCode);
        _options.StepProbe?.BeforeStep(_writer.Step + 1, thread, entry.Instruction);

        if (space.IsUnpackMoment(rip, entry.Length))
            thread.StepSnapshot = UnpackSnapshot(thread, rip);

        ref readonly var insn = ref entry.Instruction;
        var mnemonic = insn.Mnemonic;
        if (mnemonic == Mnemonic.Syscall || mnemonic == Mnemonic.Sysenter
            || (mnemonic == Mnemonic.Int && insn.Immediate8 == 0x80))
            return StepKind.SystemCall;

        // Every byte the step reads must be in the trace before it runs.
        if (entry.MayReadMemory && _options.CheckReads) _reads.BeforeStep(insn, thread.Registers, thread.Process.Memory, thread.Process.Shadow, thread.Pid, thread.Tid, thread.StepReadSnapshots);

        if (!entry.MayWriteMemory) return StepKind.Normal;
        int n = _operands.ComputeWrites(insn, thread.Registers, thread.StepWrites);
        // An AVX-512 scatter needs its vector index register, which GETREGS does not give: its
        // writes are left out (such code is rare).
        thread.StepWriteCount = n == MemoryOperands.Unresolved ? 0 : n;
        if (_options.OldValues && thread.StepWriteCount > 0) ReadOldValues(thread);
        return StepKind.Normal;
    }

    /// <summary>The bytes the step is about to overwrite (cheap: the ranges are known, one read each).</summary>
    private static void ReadOldValues(RecordedThread thread)
    {
        int total = 0;
        for (int i = 0; i < thread.StepWriteCount; i++) total += thread.StepWrites[i].Size;
        if (total > thread.StepOldValues.Length) thread.StepOldValues = new byte[Math.Max(total, thread.StepOldValues.Length * 2)];
        int offset = 0;
        for (int i = 0; i < thread.StepWriteCount; i++)
        {
            var range = thread.StepWrites[i];
            thread.StepOldLength[i] = thread.Process.Memory.Read(range.Address, thread.StepOldValues.AsSpan(offset, range.Size));
            offset += range.Size;
        }
    }

    /// <summary>The prepared instruction executed (or was attempted and faulted): log it, and the unpack snapshot.</summary>
    public void CommitInstruction(RecordedThread thread)
    {
        if (!thread.StepPending) return;
        if (thread.StepLength == 0)
        {
            // Nothing could be fetched at rip (unmapped, not executable): the fault is the
            // signal that follows; there is no instruction to log.
            AbandonStep(thread);
            return;
        }
        thread.StepPending = false;
        _writer.Instruction(thread.Pid, thread.Tid, thread.StepRip, thread.StepCode.AsSpan(0, thread.StepLength));
        if (thread.StepSnapshot is { } snapshot)
        {
            thread.StepSnapshot = null;
            _writer.Write(snapshot);
            thread.Process.Shadow.Observe(snapshot.Address, snapshot.Bytes);
        }
        WriteReadSnapshots(thread);
    }

    /// <summary>The pages <see cref="ReadCheck"/> took for the step (already in the shadow: they must reach the trace).</summary>
    private void WriteReadSnapshots(RecordedThread thread)
    {
        foreach (var snapshot in thread.StepReadSnapshots) _writer.Write(snapshot);
        thread.StepReadSnapshots.Clear();
    }

    /// <summary>The single step finished with <paramref name="after"/>: instruction, its memory writes, registers.</summary>
    public void CompleteStep(RecordedThread thread, in RegisterFile after)
    {
        CommitInstruction(thread);
        var memory = thread.Process.Memory;
        var space = thread.Process.Space;
        bool old = _options.OldValues;
        int oldOffset = 0;
        for (int i = 0; i < thread.StepWriteCount; i++)
        {
            var range = thread.StepWrites[i];
            if (range.Size > _value.Length) _value = new byte[Math.Max(range.Size, _value.Length * 2)];
            var value = _value.AsSpan(0, range.Size);
            int got = memory.Read(range.Address, value);
            if (old && thread.StepOldLength[i] == range.Size && got == range.Size)
                _writer.MemoryWrite(thread.Pid, thread.Tid, range.Address, range.Size, value, MemoryWriteFlags.HasOldValue,
                    thread.StepOldValues.AsSpan(oldOffset, range.Size));
            else
                _writer.MemoryWrite(thread.Pid, thread.Tid, range.Address, range.Size, value[..got]);
            oldOffset += range.Size;
            space.NoteWrite(range.Address, range.Size);
            thread.Process.Shadow.Write(range.Address, value[..got], range.Size);
        }
        thread.StepWriteCount = 0;
        thread.Registers = after;
        _writer.Registers(thread.Pid, thread.Tid, after);
    }

    /// <summary>The prepared instruction did not run (a signal came first, or the thread died).</summary>
    public void AbandonStep(RecordedThread thread)
    {
        if (!thread.StepPending) return;
        thread.StepPending = false;
        thread.StepWriteCount = 0;
        // Memory as it is now: still true, and the shadow already counts on these pages being in the trace.
        WriteReadSnapshots(thread);
        if (thread.StepSnapshot != null)
        {
            thread.StepSnapshot = null;
            thread.Process.Space.Rearm(thread.StepRip, thread.StepLength);
        }
    }

    /// <summary>Advances the step clock in syscalls mode (one tick per system-call entry).</summary>
    public void Tick() => _writer.Tick();

    // ---- system calls -------------------------------------------------------------------------

    public void SyscallEntry(RecordedThread thread, bool compat, long number, ReadOnlySpan<ulong> args)
    {
        thread.InSyscall = true;
        var calls = LinuxSyscallAbi.Of(compat);
        thread.SyscallAbi = calls.Name;
        thread.SyscallNumber = number;
        thread.SyscallName = calls.Calls.Name(number);
        args.CopyTo(thread.SyscallArgs);
        if (calls.Has(number, SyscallTraits.Exec)) _files.OnExecEntry(thread);
        _writer.Write(new SyscallEntryEvent
        {
            Pid = thread.Pid, Tid = thread.Tid, Abi = thread.SyscallAbi, Number = number, Name = thread.SyscallName,
            Args = args.ToArray(), Decoded = calls.Decoder.DecodeEntry(number, args, thread.Process.Memory),
        });
    }

    /// <summary>The call returned <paramref name="ret"/>; <paramref name="after"/> are the registers at the exit stop.</summary>
    public void SyscallExit(RecordedThread thread, long ret, in RegisterFile after)
    {
        long errno = ret is < 0 and >= -4095 ? -ret : 0;
        var calls = LinuxSyscallAbi.Of(thread.SyscallAbi);
        _writer.Write(new SyscallExitEvent
        {
            Pid = thread.Pid, Tid = thread.Tid, Abi = thread.SyscallAbi, Number = thread.SyscallNumber, Name = thread.SyscallName,
            Return = ret, Errno = errno, Decoded = calls.Decoder.DecodeExit(thread.SyscallNumber, thread.SyscallArgs, ret, thread.Process.Memory) ?? [],
        });
        thread.InSyscall = false;
        if (errno == 0)
        {
            _fileEvents.Clear();
            _files.OnExit(thread, ret, _fileEvents);
            foreach (var e in _fileEvents) _writer.Write(e);
        }
        // Failed calls too: an interrupted sleep reports the time left (the write set is empty for other failures).
        RecordKernelWrites(thread, calls, ret);
        if (errno == 0 && calls.Has(thread.SyscallNumber, SyscallTraits.ChangesMap))
        {
            var (freshStart, freshEnd) = FreshRange(thread, ret);
            RefreshRegions(thread, snapshotNewCode: true, freshStart, freshEnd);
        }
        thread.Registers = after;
        _writer.Registers(thread.Pid, thread.Tid, after);
    }

    /// <summary>A call that never returns to its thread (exit, exit_group, a successful execve's old image).</summary>
    public void SyscallAbandoned(RecordedThread thread) => thread.InSyscall = false;

    private void RecordKernelWrites(RecordedThread thread, LinuxSyscallAbi calls, long ret)
    {
        var memory = thread.Process.Memory;
        var space = thread.Process.Space;
        foreach (var range in calls.Writes.Writes(thread.SyscallNumber, thread.SyscallArgs, ret, memory))
        {
            if (range.Length <= 0) continue;
            int keep = (int)Math.Min(range.Length, 16 << 20);
            if (keep > _value.Length) _value = new byte[Math.Max(keep, _value.Length * 2)];
            var value = _value.AsSpan(0, keep);
            int got = memory.Read(range.Address, value);
            _writer.MemoryWrite(thread.Pid, thread.Tid, range.Address, range.Length, value[..got], MemoryWriteFlags.Kernel);
            space.NoteWrite(range.Address, range.Length);
            thread.Process.Shadow.Write(range.Address, value[..got], range.Length);
        }
    }

    // ---- signals ---------------------------------------------------------------------------

    public void Signal(RecordedThread thread, int signo, string name, int code, ulong address, string disposition) =>
        _writer.Write(new SignalEvent
        {
            Pid = thread.Pid, Tid = thread.Tid, Signo = signo, Name = name, Code = code, Address = address, Disposition = disposition,
        });

    /// <summary>The kernel pushed a signal frame (siginfo, ucontext, FPU state) between the two stack pointers.</summary>
    public void SignalFrame(RecordedThread thread, ulong oldRsp, ulong newRsp, int fallbackSize)
    {
        // The frame sits below the interrupted rsp minus the 128-byte red zone; on an alternate
        // signal stack it is unrelated to the old rsp, and we take the frame's known size instead.
        const ulong RedZone = 128;
        ulong top = oldRsp - RedZone;
        long size = top > newRsp && top - newRsp <= 64 << 10 ? (long)(top - newRsp) : fallbackSize;
        if (size <= 0) return;
        if (size > _value.Length) _value = new byte[Math.Max(size, _value.Length * 2)];
        var value = _value.AsSpan(0, (int)size);
        int got = thread.Process.Memory.Read(newRsp, value);
        _writer.MemoryWrite(thread.Pid, thread.Tid, newRsp, size, value[..got], MemoryWriteFlags.Kernel);
        thread.Process.Space.NoteWrite(newRsp, size);
        thread.Process.Shadow.Write(newRsp, value[..got], size);
    }

    // ---- regions and snapshots ----------------------------------------------------------------

    /// <summary>The range an mmap or mremap just filled with new contents (zeros or a file), else empty.</summary>
    private static (ulong Start, ulong End) FreshRange(RecordedThread thread, long ret)
    {
        bool i386 = thread.SyscallAbi == Formats.Abi.SyscallTables.LinuxI386Abi;
        ulong length = (i386, thread.SyscallNumber) switch
        {
            (false, 9) or (true, 90) or (true, 192) => thread.SyscallArgs[1], // mmap(addr, length, ...), mmap2
            (false, 25) or (true, 163) => thread.SyscallArgs[2],              // mremap(old, old_size, new_size, ...)
            _ => 0,
        };
        if (length == 0 || ret is < 0 and >= -4095) return (0, 0);
        ulong start = (ulong)ret;
        return (start, start + ((length + PageSize - 1) & ~(ulong)(PageSize - 1)));
    }

    private void RefreshRegions(RecordedThread thread, bool snapshotNewCode = false, ulong freshStart = 0, ulong freshEnd = 0)
    {
        var process = thread.Process;
        _pendingEvents.Clear();
        process.Space.RefreshRegions(process.Pid, _pendingEvents, freshStart, freshEnd);
        foreach (var e in _pendingEvents)
        {
            e.Pid = process.Pid;
            e.Tid = thread.Tid;
            _writer.Write(e);
            // New contents (a file, zeros) or none: the trace no longer holds what was there.
            if (e is RegionMapEvent m) process.Shadow.Forget(m.Start, m.End);
            else if (e is RegionUnmapEvent u) process.Shadow.Forget(u.Start, u.End);
        }
        if (!snapshotNewCode) return;
        // A file that became executable after exec (dlopen of a dropped library, a memfd, a file
        // deleted once mapped): keep its bytes so the trace can be disassembled without the file,
        // which may be gone when the analyst looks. System libraries are left out (1-2 MB each,
        // on disk anyway; the instructions that ran carry their bytes in the trace).
        foreach (var e in _pendingEvents)
        {
            (ulong start, ulong end, RegionProtection p) = e switch
            {
                RegionMapEvent m => (m.Start, m.End, m.Protection),
                RegionProtectEvent r => (r.Start, r.End, r.Protection),
                _ => (0UL, 0UL, RegionProtection.None),
            };
            if ((p & RegionProtection.Execute) == 0) continue;
            if (process.Space.Regions.Find(start) is { HasFile: true } region && !IsSystemFile(region.Name))
                WriteSnapshot(thread, start, end, "map");
        }
    }

    private static bool IsSystemFile(string name) =>
        !name.EndsWith(" (deleted)", StringComparison.Ordinal)
        && (name.StartsWith("/usr/", StringComparison.Ordinal) || name.StartsWith("/lib", StringComparison.Ordinal)
            || name.StartsWith("/bin/", StringComparison.Ordinal) || name.StartsWith("/sbin/", StringComparison.Ordinal));

    private RegionSnapshotEvent? UnpackSnapshot(RecordedThread thread, ulong rip)
    {
        var space = thread.Process.Space;
        var region = space.Regions.Find(rip);
        if (region is null)
        {
            RefreshRegions(thread);
            region = space.Regions.Find(rip);
        }
        ulong start = region?.Start ?? rip & ~(ulong)(PageSize - 1);
        ulong end = region?.End ?? start + PageSize;
        ClampAround(rip, ref start, ref end, (ulong)_options.MaxSnapshotBytes);
        return ReadSnapshot(thread, start, end, "unpack");
    }

    private static void ClampAround(ulong rip, ref ulong start, ref ulong end, ulong max)
    {
        if (end - start <= max) return;
        ulong page = rip & ~(ulong)(PageSize - 1);
        ulong from = page - start > max / 2 ? page - max / 2 : start;
        start = from;
        end = Math.Min(end, from + max);
    }

    /// <summary>A snapshot of [start, end) now (clamped to the largest snapshot kept).</summary>
    public void Snapshot(RecordedThread thread, ulong start, ulong end, string reason) => WriteSnapshot(thread, start, end, reason);

    private void WriteSnapshot(RecordedThread thread, ulong start, ulong end, string reason)
    {
        ClampAround(start, ref start, ref end, (ulong)_options.MaxSnapshotBytes);
        if (ReadSnapshot(thread, start, end, reason) is not { } snapshot) return;
        _writer.Write(snapshot);
        thread.Process.Shadow.Observe(snapshot.Address, snapshot.Bytes);
    }

    private static RegionSnapshotEvent? ReadSnapshot(RecordedThread thread, ulong start, ulong end, string reason)
    {
        var bytes = new byte[end - start];
        if (thread.Process.Memory.ReadSparse(start, bytes) == 0) return null; // e.g. [vsyscall]: execute-only
        return new RegionSnapshotEvent { Pid = thread.Pid, Tid = thread.Tid, Address = start, Reason = reason, Bytes = bytes };
    }
}
