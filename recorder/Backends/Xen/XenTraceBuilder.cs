using Ether.Replay.Formats.Instructions;
using Ether.Replay.Formats.Log;

namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>How the recording was asked for, beyond what the agent's hello frame says.</summary>
public sealed record XenTraceSettings
{
    /// <summary>The user's `--guest` name (winxp-sp2, win7-sp1, win10-22h2, linux, ...): picks the system-call table.</summary>
    public required string Guest { get; init; }
    public IReadOnlyDictionary<string, string> ExtraParameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Turns ether-agent frames (docs/xen-agent-protocol.md) into an ordinary .etrace, so every
/// analysis, the export and the TUI work on Xen traces unchanged. The trace writer is created when
/// the hello frame arrives, because the header needs what it says.
/// </summary>
public sealed class XenTraceBuilder : IDisposable
{
    private readonly Func<TraceHeader, TraceWriter> _createWriter;
    private readonly XenTraceSettings _settings;
    private readonly XenAddressSpaces _spaces = new();
    private readonly Dictionary<ulong, (int Pid, int Tid, ulong Rip)> _lastStep = new();
    private readonly Dictionary<ulong, string> _pendingAbi = new();
    private readonly Dictionary<ulong, int> _userThread = new();
    private TraceWriter? _writer;
    private string _abi = "";
    private string _abi32 = "";
    private string _abi64 = "";
    private int _wordBits = 64;
    /// <summary>The hello frame, kept until the first event frame: the header needs the guest's width,
    /// which the hello of an agent attached to a guest that has not run yet (still in its 32-bit
    /// boot code) gets wrong, and the first frame with registers gets right.</summary>
    private Hello? _hello;

    private sealed record Hello(ulong Seq, string Agent, string Backend, ulong Domain, ulong Vcpus, ulong GuestWordSize,
        string Hypervisor, bool EtherSyscallEvent, string WritesFrom, string ReadsFrom, Dictionary<string, string> Options);
    /// <summary>The traced process (a `process` frame with target=true): trace-level notes are filed under it.</summary>
    private int _targetPid;
    private AgentFrame? _pendingUnpack;
    /// <summary>The traced program called exit/exit_group: a guest that ends next ended with it.</summary>
    private bool _exitCalled;
    private readonly AgentFrame _spare = new();
    private readonly FrameInstructionDecoder _decoder = new();
    /// <summary>What the trace holds of each address space's memory (per pid), checked at every step
    /// that carries what it reads. XSAVE reads are sized as the replay sizes them for a header
    /// without xsave_size (the guest's area is not known here).</summary>
    private readonly Dictionary<int, ReadShadow> _shadows = new();
    private readonly ReadCheck _readCheck = new(new MemoryOperands(MemoryOperands.MinimumXsaveArea));
    private readonly StepMemoryView _stepMemory = new();
    private readonly List<RegionSnapshotEvent> _readSnapshots = new();

    public XenTraceBuilder(Func<TraceHeader, TraceWriter> createWriter, XenTraceSettings settings)
    {
        _createWriter = createWriter;
        _settings = settings;
    }

    public TraceWriter? Writer => _writer;
    /// <summary>The hello frame arrived (the trace file is written from the first event frame on).</summary>
    public bool Started => _hello != null || _writer != null;

    /// <summary>Writes the header now if the hello came but no event frame yet (a stream that ends there).</summary>
    public void OpenIfStarted()
    {
        if (_writer == null && _hello != null) CreateWriter(null);
    }
    public long UnknownFrames { get; private set; }
    public long Frames { get; private set; }
    public string? EndReason { get; private set; }
    public long Stalls { get; private set; }
    /// <summary>Snapshots written because a step read bytes the trace did not hold (reason read), or held
    /// different ones (reason changed).</summary>
    public long ReadSnapshots => _readCheck.FirstReads;
    public long ChangedSnapshots => _readCheck.Changes;

    public void Add(AgentFrame f)
    {
        Frames++;
        if (f.Type == AgentFrameType.Hello)
        {
            Start(f);
            return;
        }
        if (_writer == null && _hello != null) CreateWriter(f);
        var w = _writer ?? throw new AgentProtocolException($"agent frame {f.Seq} ({f.TypeName}) came before the hello frame");
        if (_pendingUnpack != null && !(f.Type == AgentFrameType.Step && f.Vcpu == _pendingUnpack.Vcpu && f.Rip == _pendingUnpack.Rip))
            FlushUnpack(w);
        switch (f.Type)
        {
            case AgentFrameType.Process: Process(w, f); break;
            case AgentFrameType.Switch:
                w.Write(new AnnotationEvent { Pid = _spaces.Pid(f.To), Key = "switch", Text = $"vcpu {f.Vcpu}: address space 0x{f.From:x} -> 0x{f.To:x} (scheduler at 0x{f.Rip:x})" });
                break;
            case AgentFrameType.Step: Step(w, f); break;
            case AgentFrameType.Syscall: Syscall(w, f); break;
            case AgentFrameType.SyscallReturn: SyscallReturn(w, f); break;
            case AgentFrameType.MemoryWrite: MemoryWrite(w, f); break;
            case AgentFrameType.Unpack: HoldUnpack(f); break;
            case AgentFrameType.Stall:
                Stalls++;
                w.Write(new AnnotationEvent { Pid = _targetPid, Key = "stall", Text = $"vcpu {f.Vcpu} was let run after {f.WaitedMs} ms waiting for the recorder (from frame {f.FrameSeq} on, the guest ran ahead of the trace)" });
                break;
            case AgentFrameType.End:
                EndReason = f.Reason;
                w.Write(new AnnotationEvent { Pid = _targetPid, Key = "agent-end", Text = $"{f.Reason}; {string.Join(", ", f.Counters.Select(c => $"{c.Key}={c.Value}"))}" });
                break;
            default:
                UnknownFrames++;
                break;
        }
    }

    /// <summary>Ends the trace: the stop reason follows the agent's end frame (or its absence). Returns what it wrote.</summary>
    public (StopReason Reason, string Detail) Close(StopReason? overrideReason = null, string detail = "")
    {
        if (_writer == null && _hello != null) CreateWriter(null);
        if (_writer == null) return (StopReason.Unknown, detail);
        if (_pendingUnpack != null) FlushUnpack(_writer);
        var reason = overrideReason ?? EndReason switch
        {
            "replay-finished" => StopReason.Exited,
            "signal" => StopReason.Interrupted,
            "domain-gone" => _exitCalled ? StopReason.Exited : StopReason.TargetCrashed,
            "max-events" => StopReason.MaxSteps,
            "error" => StopReason.RecorderError,
            null => StopReason.RecorderError,
            _ => StopReason.Closed,
        };
        if (detail.Length == 0)
            detail = EndReason == null ? "the agent's stream ended without an end frame"
                : EndReason == "domain-gone" && _exitCalled ? "agent: domain-gone (after the traced program's exit_group)"
                : $"agent: {EndReason}";
        _writer.Close(reason, detail);
        return (reason, detail);
    }

    public void Dispose() => _writer?.Dispose();

    private void Start(AgentFrame f)
    {
        if (_writer != null || _hello != null) throw new AgentProtocolException($"a second hello frame (seq {f.Seq})");
        if (f.Protocol != 1) throw new AgentProtocolException($"agent speaks protocol {f.Protocol}; this recorder reads protocol 1");
        bool has32 = GuestAbis.TryResolve(_settings.Guest, 32, out var a32, out var error32);
        bool has64 = GuestAbis.TryResolve(_settings.Guest, 64, out var a64, out var error64);
        if (!has32 && !has64) throw new AgentProtocolException(error64);
        _abi32 = has32 ? a32 : a64;
        _abi64 = has64 ? a64 : a32;
        _hello = new Hello(f.Seq, f.Agent, f.Backend, f.Domain, f.Vcpus, f.GuestWordSize, f.Hypervisor, f.EtherSyscallEvent,
            f.WritesFrom, f.ReadsFrom, new Dictionary<string, string>(f.Options));
    }

    /// <summary>Writes the header: the guest's width from the first frame's registers (EFER.LMA), else the hello's.</summary>
    private void CreateWriter(AgentFrame? first)
    {
        var hello = _hello!;
        _wordBits = first is { HasRegisters: true } ? ((first.Efer & EferLma) != 0 ? 64 : 32) : hello.GuestWordSize == 4 ? 32 : 64;
        if (!GuestAbis.TryResolve(_settings.Guest, _wordBits, out _abi, out var error))
        {
            if (_wordBits == 64 && _abi32 == _abi64) (_wordBits, _abi) = (32, _abi32);   // a 32-bit-only guest profile (XP)
            else throw new AgentProtocolException(error);
        }
        var parameters = new Dictionary<string, string>
        {
            ["guest"] = _settings.Guest,
            ["abi"] = _abi,
            ["agent"] = hello.Agent,
            ["agent_backend"] = hello.Backend,
            ["domain"] = hello.Domain.ToString(),
            ["vcpus"] = hello.Vcpus.ToString(),
            ["hypervisor"] = hello.Hypervisor,
            ["ether_syscall_event"] = hello.EtherSyscallEvent ? "yes" : "no",
        };
        if (hello.WritesFrom.Length > 0) parameters["writes_from"] = hello.WritesFrom;
        if (hello.ReadsFrom.Length > 0) parameters["reads_from"] = hello.ReadsFrom;
        foreach (var (k, v) in hello.Options) if (v.Length > 0) parameters["agent_" + k] = v;
        foreach (var (k, v) in _settings.ExtraParameters) parameters[k] = v;
        hello.Options.TryGetValue("process", out var process);
        _writer = _createWriter(TraceHeaders.Create("xen", parameters,
            string.IsNullOrEmpty(process) ? $"xen domain {hello.Domain}" : process,
            architecture: _wordBits == 32 ? "x86" : "x86_64"));
    }

    private void Process(TraceWriter w, AgentFrame f)
    {
        _spaces.Name(f.Cr3, f.Pid);
        int pid = _spaces.Pid(f.Cr3);
        if (f.Target) _targetPid = pid;
        // The process may have started long before the agent attached: "attach" says it was found, not born.
        w.Write(new ProcessStartEvent { Pid = pid, How = "attach" });
        w.Write(new ExecEvent { Pid = pid, Path = f.ProcessName, Argv = [f.ProcessName] });
        w.Write(new AnnotationEvent
        {
            Pid = pid, Key = "process",
            Text = $"{f.ProcessName} pid {f.Pid} cr3 0x{f.Cr3:x} EPROCESS 0x{f.Eprocess:x}{(f.Target ? " (traced)" : "")}",
        });
    }

    /// <summary>In kernel mode fs points at the processor block, not the thread: kernel-mode events
    /// belong to the thread that last ran in user mode on that vCPU.</summary>
    private (int Pid, int Tid) Who(AgentFrame f)
    {
        int pid = _spaces.Pid(f.Cr3);
        bool user = !f.HasRegisters || (f.Registers[Register.Cs] & 3) == 3;
        if (user)
        {
            int tid = XenAddressSpaces.Tid(f.Registers[Register.FsBase], f.Vcpu);
            _userThread[f.Vcpu] = tid;
            return (pid, tid);
        }
        return (pid, _userThread.TryGetValue(f.Vcpu, out int last) ? last : XenAddressSpaces.Tid(0, f.Vcpu));
    }

    /// <summary>A step frame shows the vCPU about to run `insn` with `regs`: those registers are the
    /// state after the previous step, so they are written before the instruction opens its step.</summary>
    private void Step(TraceWriter w, AgentFrame f)
    {
        var (pid, tid) = Who(f);
        if (f.HasRegisters) w.Registers(pid, tid, f.Registers);
        if (!_decoder.TryDecode(f.InsnBytes, Bitness(f), out var insn, f.Rip))
        {
            w.Tick();
            w.Write(new AnnotationEvent { Pid = pid, Tid = tid, Key = "unreadable-code", Text = $"vcpu {f.Vcpu} stepped at 0x{f.Rip:x}, whose bytes the agent could not read" });
        }
        else
        {
            w.Instruction(pid, tid, f.Rip, f.InsnBytes[..insn.Length]);
            if (f.HasReads && f.HasRegisters) CheckReads(w, f, insn, pid, tid);
        }
        _lastStep[f.Vcpu] = (pid, tid, f.Rip);
        if (_pendingUnpack != null) FlushUnpack(w);
    }

    /// <summary>Every byte the step reads must be in the trace: what the frame carries (the agent read it
    /// before the instruction ran) against what the trace holds; snapshots right after the instruction.</summary>
    private void CheckReads(TraceWriter w, AgentFrame f, in Iced.Intel.Instruction insn, int pid, int tid)
    {
        _stepMemory.Frame = f;
        _readCheck.BeforeStep(insn, f.Registers, _stepMemory, Shadow(pid), pid, tid, _readSnapshots);
        foreach (var snapshot in _readSnapshots) w.Write(snapshot);
        _readSnapshots.Clear();
    }

    private ReadShadow Shadow(int pid)
    {
        if (!_shadows.TryGetValue(pid, out var shadow)) _shadows[pid] = shadow = new ReadShadow();
        return shadow;
    }

    private void Syscall(TraceWriter w, AgentFrame f)
    {
        var (pid, tid) = Who(f);
        // Inside a single-step stretch the syscall instruction is already this step; otherwise
        // the call gets a step of its own.
        if (!(_lastStep.TryGetValue(f.Vcpu, out var last) && last.Rip == f.Rip && last.Pid == pid)) w.Tick();
        if (f.HasRegisters) w.Registers(pid, tid, f.Registers);
        string abi = AbiOf(f);
        _pendingAbi[f.Seq] = abi;
        int count = f.ArgCountKnown ? Math.Min(f.ArgCount, f.ArgCountFromGuest) : f.ArgCount;
        var args = f.ArgValues[..count].ToArray();
        string name = f.Name ?? SyscallTables.Find(abi).Name((long)f.Number);
        if (abi.StartsWith("linux-", StringComparison.Ordinal) && name is "exit_group" or "exit") _exitCalled = true;
        w.Write(new SyscallEntryEvent
        {
            Pid = pid, Tid = tid, Abi = abi, Number = (long)f.Number,
            Name = name,
            Args = args,
            Decoded = Render(abi, args, f),
        });
    }

    private void SyscallReturn(TraceWriter w, AgentFrame f)
    {
        var (pid, tid) = Who(f);
        if (f.HasRegisters) w.Registers(pid, tid, f.Registers);
        string abi = f.EntrySeq is { } seq && _pendingAbi.Remove(seq, out var a) ? a : AbiOf(f);
        long number = f.NumberKnown ? (long)f.Number : -1;
        bool nt = abi.StartsWith("nt-", StringComparison.Ordinal);
        // A 32-bit Linux call returns in EAX: -ENOENT is 0xFFFFFFFE in the 64-bit register the frame carries.
        bool linux32 = abi == _abi32 && _abi32 != _abi64 && abi.StartsWith("linux-", StringComparison.Ordinal);
        long ret = nt ? (long)(uint)f.Ret : linux32 ? (int)(uint)f.Ret : (long)f.Ret;
        long errno = nt
            ? ((uint)f.Ret >= 0xC000_0000u ? (long)(uint)f.Ret : 0)
            : (ret is < 0 and >= -4095 ? -ret : 0);
        w.Write(new SyscallExitEvent
        {
            Pid = pid, Tid = tid, Abi = abi, Number = number,
            Name = f.Name ?? (number >= 0 ? SyscallTables.Find(abi).Name(number) : "?"),
            Return = ret, Errno = errno,
        });
    }

    private void MemoryWrite(TraceWriter w, AgentFrame f)
    {
        var (pid, tid) = Who(f);
        if (_lastStep.TryGetValue(f.Vcpu, out var last) && last.Rip == f.Rip) (pid, tid) = (last.Pid, last.Tid);
        // Protocol 1 reports no access width: the writing instruction's memory operand gives it.
        int size = f.Size > 0 ? (int)Math.Min(f.Size, (ulong)f.BytesLength) : WriteWidth(f.InsnBytes, Bitness(f));
        size = Math.Clamp(size, 1, Math.Max(f.BytesLength, 1));
        if (f.BytesLength == 0) return;
        w.MemoryWrite(pid, tid, f.Address, f.WrittenBytes[..size]);
        Shadow(pid).Write(f.Address, f.WrittenBytes[..size], size);
    }

    private void HoldUnpack(AgentFrame f)
    {
        // The page's first fetch is reported before the step that executes it: keep the snapshot
        // until that instruction's event so it lands at "the first executed step there".
        _pendingUnpack = _spare;
        Copy(f, _spare);
    }

    private void FlushUnpack(TraceWriter w)
    {
        var f = _pendingUnpack!;
        _pendingUnpack = null;
        var (pid, tid) = Who(f);
        if (f.PageLength > 0)
        {
            w.Write(new RegionSnapshotEvent { Pid = pid, Tid = tid, Address = f.Address, Reason = "unpack", Bytes = f.PageBytes.ToArray() });
            Shadow(pid).Observe(f.Address, f.PageBytes);
        }
        w.Write(new AnnotationEvent
        {
            Pid = pid, Tid = tid, Key = "unpack",
            Text = $"layer {f.Layer}: page 0x{f.Address:x} entered at 0x{f.Rip:x}, written since it last ran (first by 0x{f.WriteRip:x})",
        });
    }

    private static void Copy(AgentFrame from, AgentFrame to)
    {
        to.Clear();
        to.Type = from.Type;
        to.Seq = from.Seq;
        to.Vcpu = from.Vcpu;
        to.Cr3 = from.Cr3;
        to.Rip = from.Rip;
        to.Registers = from.Registers;
        to.HasRegisters = from.HasRegisters;
        to.Address = from.Address;
        to.Layer = from.Layer;
        to.WriteRip = from.WriteRip;
        from.PageBytes.CopyTo(to.Page);
        to.PageLength = from.PageLength;
    }

    /// <summary>The table of the calling code: 64-bit code's syscall uses the 64-bit one; sysenter and 32-bit
    /// (compat) code the 32-bit one.</summary>
    private string AbiOf(AgentFrame f) =>
        f.Mechanism is "sysenter" or "sysexit" || (f.HasRegisters && Bitness(f) == 32) || _wordBits == 32 ? _abi32 : _abi64;

    private const ulong EferLma = 1UL << 10;

    /// <summary>Linux calls as strace prints them (paths and buffers from arg_memory); others as hex,
    /// with a Windows OBJECT_ATTRIBUTES name where the agent read one.</summary>
    private static string[] Render(string abi, ulong[] args, AgentFrame f)
    {
        if (abi is SyscallTables.LinuxX86_64Abi or SyscallTables.LinuxI386Abi)
            return SyscallDecoder.For(abi).DecodeEntry((long)f.Number, args, new ArgMemoryView(f));
        var decoded = new string[args.Length];
        for (int i = 0; i < args.Length; i++)
            decoded[i] = i == f.ObjectNameArg && f.ObjectName != null
                ? $"{{ObjectName=\"{f.ObjectName}\"}}"
                : $"0x{args[i]:x}";
        return decoded;
    }

    /// <summary>The width of the code a frame shows: long mode (EFER.LMA) and not a compat code segment (0x23 on Linux and Windows).</summary>
    private int Bitness(AgentFrame f) =>
        f.HasRegisters ? ((f.Efer & EferLma) != 0 && f.Registers[Register.Cs] != 0x23 ? 64 : 32)
        : _wordBits;

    private int WriteWidth(ReadOnlySpan<byte> bytes, int bitness) =>
        _decoder.TryDecode(bytes, bitness, out var insn) ? _decoder.WriteWidth(insn) : 0;
}
