namespace Ether.Replay.Formats.Model;

// Events that are rare next to instructions: written one by one as MessagePack arrays.

public sealed class SyscallEntryEvent : TraceEvent
{
    public override EventKind Kind => EventKind.SyscallEntry;
    /// <summary>Which table the number belongs to: "linux-x86_64", "linux-i386", "nt-winxp-sp2-x86", ...</summary>
    public string Abi { get; set; } = "";
    public long Number { get; set; }
    public string Name { get; set; } = "";
    /// <summary>Raw argument registers as the call saw them (6 for Linux).</summary>
    public ulong[] Args { get; set; } = [];
    /// <summary>Arguments rendered strace-style, one string per argument; empty when not decoded.</summary>
    public string[] Decoded { get; set; } = [];
}

public sealed class SyscallExitEvent : TraceEvent
{
    public override EventKind Kind => EventKind.SyscallExit;
    public string Abi { get; set; } = "";
    public long Number { get; set; }
    public string Name { get; set; } = "";
    public long Return { get; set; }
    /// <summary>Error number (Linux errno, Windows NTSTATUS) when the call failed, else 0.</summary>
    public long Errno { get; set; }
    /// <summary>Arguments re-rendered after the call (output buffers filled); empty when unchanged.</summary>
    public string[] Decoded { get; set; } = [];
}

[Flags]
public enum RegionProtection : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
    Shared = 8,
}

public sealed class RegionMapEvent : TraceEvent
{
    public override EventKind Kind => EventKind.RegionMap;
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public RegionProtection Protection { get; set; }
    public ulong FileOffset { get; set; }
    /// <summary>Backing file or pseudo-name ("[heap]", "[stack]"); empty for anonymous memory.</summary>
    public string Name { get; set; } = "";
}

public sealed class RegionUnmapEvent : TraceEvent
{
    public override EventKind Kind => EventKind.RegionUnmap;
    public ulong Start { get; set; }
    public ulong End { get; set; }
}

public sealed class RegionProtectEvent : TraceEvent
{
    public override EventKind Kind => EventKind.RegionProtect;
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public RegionProtection Protection { get; set; }
}

public sealed class RegionSnapshotEvent : TraceEvent
{
    public override EventKind Kind => EventKind.RegionSnapshot;
    public ulong Address { get; set; }
    /// <summary>Why it was taken: "exec", "unpack", "signal", "request".</summary>
    public string Reason { get; set; } = "";
    public byte[] Bytes { get; set; } = [];
}

public sealed class ProcessStartEvent : TraceEvent
{
    public override EventKind Kind => EventKind.ProcessStart;
    public int ParentPid { get; set; }
    /// <summary>"spawn" for the target itself, else "fork", "vfork" or "clone".</summary>
    public string How { get; set; } = "";
}

public sealed class ProcessExitEvent : TraceEvent
{
    public override EventKind Kind => EventKind.ProcessExit;
    public int ExitCode { get; set; }
    /// <summary>Signal that killed the process, 0 when it exited.</summary>
    public int Signal { get; set; }
    public bool CoreDumped { get; set; }
}

public sealed class ExecEvent : TraceEvent
{
    public override EventKind Kind => EventKind.Exec;
    public string Path { get; set; } = "";
    public string[] Argv { get; set; } = [];
}

public sealed class ThreadStartEvent : TraceEvent
{
    public override EventKind Kind => EventKind.ThreadStart;
    public int ParentTid { get; set; }
}

public sealed class ThreadExitEvent : TraceEvent
{
    public override EventKind Kind => EventKind.ThreadExit;
    public int ExitCode { get; set; }
}

public sealed class SignalEvent : TraceEvent
{
    public override EventKind Kind => EventKind.Signal;
    public int Signo { get; set; }
    public string Name { get; set; } = "";
    public int Code { get; set; }
    public ulong Address { get; set; }
    /// <summary>"delivered", "suppressed" (the recorder did not pass it on) or "kill".</summary>
    public string Disposition { get; set; } = "";
}

public sealed class AnnotationEvent : TraceEvent
{
    public override EventKind Kind => EventKind.Annotation;
    public string Key { get; set; } = "";
    public string Text { get; set; } = "";
}
