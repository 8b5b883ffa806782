namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>The frame types of docs/xen-agent-protocol.md; Unknown ones are skipped and counted.</summary>
public enum AgentFrameType { Unknown, Hello, Process, Switch, Syscall, SyscallReturn, Step, MemoryWrite, Unpack, Stall, End }

/// <summary>
/// One ether-agent frame, decoded into typed fields. A reader reuses one instance for every frame
/// (the single-step stream is one frame per guest instruction), so fields not present in the
/// current frame keep their cleared defaults; <see cref="Has"/> says which keys were present.
/// </summary>
public sealed class AgentFrame
{
    public AgentFrameType Type;
    public string TypeName = "";
    public ulong Seq;
    public ulong Vcpu;
    public ulong Cr3;
    public ulong Rip;

    /// <summary>General registers in the trace model's slots (cr3 raw); Cr0/Cr4/Efer beside them.</summary>
    public RegisterFile Registers;
    public ulong Cr0, Cr4, Efer;

    public byte[] Insn = new byte[16];
    public int InsnLength;

    // step: what the instruction reads (reads_at/reads) and pages the recorder lacks (pages_at/pages)
    public const int MaxReads = 16;
    public const int MaxReadBytes = 4096;
    public ulong[] ReadAt = new ulong[MaxReads];
    public byte[][] ReadBytes = Enumerable.Range(0, MaxReads).Select(_ => new byte[MaxReadBytes]).ToArray();
    public int[] ReadLength = new int[MaxReads];
    public int ReadCount, ReadAtCount;
    public ulong[] ReadPageAt = new ulong[MaxReads];
    public byte[][] ReadPages = Enumerable.Range(0, MaxReads).Select(_ => new byte[MaxReadBytes]).ToArray();
    public int[] ReadPageLength = new int[MaxReads];
    public int ReadPageCount, ReadPageAtCount;

    // syscall / syscall_return
    public string Mechanism = "";
    public ulong Number;
    public bool NumberKnown;
    public ulong[] Args = new ulong[32];
    public int ArgCount;
    public string ArgsSource = "";
    /// <summary>How many of Args the call takes, when the guest said so (arg_count).</summary>
    public int ArgCountFromGuest;
    public bool ArgCountKnown;
    public string? Name;
    public string? ObjectName;
    public int ObjectNameArg = -1;
    public ulong Ret;
    public ulong? EntrySeq;
    /// <summary>Linux guests: what each argument pointed at when the call began (arg_memory; empty when not a readable pointer).</summary>
    public byte[][] ArgMemory = Enumerable.Range(0, 32).Select(_ => new byte[256]).ToArray();
    public int[] ArgMemoryLength = new int[32];
    public int ArgMemoryCount;

    // memory_write / unpack
    public ulong Address;
    public ulong Gfn;
    public ulong Size;
    public byte[] Bytes = new byte[4096];
    public int BytesLength;
    public ulong Layer;
    public ulong WriteRip;
    public byte[] Page = new byte[4096];
    public int PageLength;

    // process / switch
    public ulong Pid;
    public string ProcessName = "";
    public ulong Eprocess;
    public bool Target;
    public ulong From, To;

    // stall / end
    public ulong WaitedMs;
    public ulong FrameSeq;
    public string Reason = "";
    public Dictionary<string, string> Counters = new();

    // hello
    public ulong Protocol;
    public string Agent = "";
    public string Backend = "";
    public ulong Domain;
    public ulong Vcpus;
    public ulong GuestWordSize;
    public string GuestOs = "";
    public string Hypervisor = "";
    public bool EtherSyscallEvent;
    /// <summary>Where memory writes come from: "page-access" (EPT), "steps" (derived, SVM) or "none".</summary>
    public string WritesFrom = "";
    /// <summary>"steps" when step frames carry what each instruction reads; "none" or empty (older agents) otherwise.</summary>
    public string ReadsFrom = "";
    public Dictionary<string, string> Options = new();

    public bool HasRegisters;

    public void Clear()
    {
        Type = AgentFrameType.Unknown;
        TypeName = "";
        Seq = Vcpu = Cr3 = Rip = 0;
        Registers = default;
        Cr0 = Cr4 = Efer = 0;
        InsnLength = 0;
        ReadCount = ReadAtCount = ReadPageCount = ReadPageAtCount = 0;
        Mechanism = ArgsSource = "";
        Number = 0;
        NumberKnown = false;
        ArgCount = 0;
        ArgCountFromGuest = 0;
        ArgCountKnown = false;
        Name = ObjectName = null;
        ObjectNameArg = -1;
        Ret = 0;
        EntrySeq = null;
        ArgMemoryCount = 0;
        Address = Gfn = Size = Layer = WriteRip = 0;
        BytesLength = PageLength = 0;
        Pid = Eprocess = From = To = 0;
        ProcessName = "";
        Target = false;
        WaitedMs = FrameSeq = 0;
        Reason = "";
        WritesFrom = ReadsFrom = "";
        HasRegisters = false;
    }

    public ReadOnlySpan<byte> InsnBytes => Insn.AsSpan(0, InsnLength);
    public ReadOnlySpan<ulong> ArgValues => Args.AsSpan(0, ArgCount);
    public ReadOnlySpan<byte> WrittenBytes => Bytes.AsSpan(0, BytesLength);
    public ReadOnlySpan<byte> PageBytes => Page.AsSpan(0, PageLength);
    /// <summary>The step frame carries memory the instruction reads (an agent with reads_from "steps").</summary>
    public bool HasReads => Math.Min(ReadCount, ReadAtCount) > 0 || Math.Min(ReadPageCount, ReadPageAtCount) > 0;
}
