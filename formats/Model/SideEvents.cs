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
    /// <summary>The backing file's device (glibc makedev encoding, as stat's st_dev); 0 when none or unknown.</summary>
    public ulong Device { get; set; }
    /// <summary>The backing file's inode; 0 when none or unknown. With <see cref="Device"/>: which file, whatever its name.</summary>
    public ulong Inode { get; set; }
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

/// <summary>
/// A traced process created, wrote or executed a regular file (or memfd): file provenance inside the
/// recorded process tree. Files are identified by device and inode (as fstat reports them), so a
/// renamed, linked, unlinked or /proc/self/fd-reached file stays the same file.
/// </summary>
public sealed class FileEvent : TraceEvent
{
    public override EventKind Kind => EventKind.File;
    /// <summary>What happened: see <see cref="FileOps"/>.</summary>
    public string Op { get; set; } = "";
    /// <summary>The system call (name) that did it.</summary>
    public string Call { get; set; } = "";
    /// <summary>The descriptor used (-1 when the call named a path).</summary>
    public int Fd { get; set; } = -1;
    public ulong Device { get; set; }
    public ulong Inode { get; set; }
    /// <summary>The file's path as /proc/PID/fd shows it ("/memfd:name (deleted)" for a memfd).</summary>
    public string Path { get; set; } = "";
    /// <summary>Where a write went (-1: the descriptor's position, not known) and how many bytes it wrote.</summary>
    public long Offset { get; set; } = -1;
    public long Length { get; set; }
    /// <summary>The file's size after the call.</summary>
    public long Size { get; set; }
    /// <summary>For exec (and exec-argument) of a file written in the trace: its whole content at that moment.</summary>
    public byte[] Bytes { get; set; } = [];
}

/// <summary>The values of <see cref="FileEvent.Op"/>.</summary>
public static class FileOps
{
    /// <summary>open/openat/creat with write access, O_CREAT or O_TRUNC.</summary>
    public const string OpenWrite = "open-write";
    /// <summary>memfd_create.</summary>
    public const string Memfd = "memfd";
    /// <summary>write, pwrite64, writev, pwritev(2), sendfile, copy_file_range, splice into the file.</summary>
    public const string Write = "write";
    /// <summary>ftruncate, truncate, fallocate.</summary>
    public const string Truncate = "truncate";
    /// <summary>A shared writable mmap of the file.</summary>
    public const string MmapShared = "mmap-shared";
    /// <summary>rename/renameat(2) of the file (Path is the new name).</summary>
    public const string Rename = "rename";
    /// <summary>link/linkat of the file (Path is the new name).</summary>
    public const string Link = "link";
    /// <summary>chmod/fchmod/fchmodat of a file written in the trace.</summary>
    public const string Chmod = "chmod";
    /// <summary>execve/execveat of the file (a script: the interpreter runs it). Bytes: its content when the trace wrote it.</summary>
    public const string Exec = "exec";
    /// <summary>A file written in the trace named as an argument of an exec'd interpreter (sh script, ld.so program).</summary>
    public const string ExecArgument = "exec-argument";

    /// <summary>Ops that change the file's contents (or create it): they make it a file written in the trace.</summary>
    public static bool Writes(string op) => op is OpenWrite or Memfd or Write or Truncate or MmapShared;
}
