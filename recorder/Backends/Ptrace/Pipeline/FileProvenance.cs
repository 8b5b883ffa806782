using System.Runtime.InteropServices;
using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

/// <summary>
/// File provenance inside the recorded process tree: which regular files and memfds the traced
/// processes create and write (open/creat with write access, memfd_create, write/pwrite/writev,
/// sendfile/copy_file_range/splice into them, truncate, shared writable mmap, rename, link, chmod),
/// identified by device and inode (stat of /proc/PID/fd/N: the open file itself, whatever its name),
/// across processes; and, at every execve/execveat, which file is run (path, /proc/self/fd/N,
/// AT_EMPTY_PATH descriptor). When that file (or, for an interpreter such as sh or ld.so, a file named
/// in its arguments) was written inside the trace, its whole content is recorded with the exec: the
/// analysis makes it a layer one deeper than its writer's.
/// Runs on the tracer thread; the stats go to /proc from the tracer, so the program sees nothing.
/// </summary>
internal sealed class FileProvenance
{
    /// <summary>Bytes of an exec'd written file kept in the trace; past it, the first bytes and the size.</summary>
    public const int MaxFileBytes = 64 << 20;

    private readonly HashSet<(ulong Device, ulong Inode)> _written = new();
    private readonly Dictionary<int, List<FileEvent>> _pendingExec = new();

    /// <summary>Files written inside the trace so far.</summary>
    public int WrittenFiles => _written.Count;

    /// <summary>Whether the file (device, inode) was written inside the trace.</summary>
    public bool IsWritten(ulong device, ulong inode) => _written.Contains((device, inode));

    /// <summary>A successful call returned: the file events it makes (none for most calls). Which calls
    /// and which arguments come from the system-call table's traits and roles (both ABIs).</summary>
    public void OnExit(RecordedThread thread, long ret, List<FileEvent> events)
    {
        if (ret < 0) return;
        var calls = LinuxSyscallAbi.Of(thread.SyscallAbi).Calls;
        const SyscallTraits Provenance = SyscallTraits.OpensFile | SyscallTraits.CreatesFile | SyscallTraits.WritesFile | SyscallTraits.ResizesFile
                                         | SyscallTraits.MapsFile | SyscallTraits.LinksFile | SyscallTraits.ChangesMode;
        if (!calls.Has(thread.SyscallNumber, Provenance) || calls.Find(thread.SyscallNumber) is not { } call) return;
        var a = thread.SyscallArgs;
        bool i386 = thread.SyscallAbi == SyscallTables.LinuxI386Abi;
        long Arg(int index) => index < 0 ? -1 : i386 ? (int)a[index] : (long)a[index];
        long dirfd = call.TargetDirFd >= 0 ? Arg(call.TargetDirFd) : AtCwd;
        if (call.Has(SyscallTraits.OpensFile))
        {
            // open/openat: flags argument; openat2: the first u64 of its struct open_how.
            int flagsAt = call.IndexOf(SyscallArgKind.OpenFlags), howAt = call.IndexOf(SyscallArgKind.OpenHowIn);
            ulong flags = flagsAt >= 0 ? a[flagsAt] : howAt >= 0 ? ReadU64(thread, a[howAt]) : 0;
            const ulong WriteAccess = 1 | 2, Create = 0x40, Truncate = 0x200;
            if ((flags & (WriteAccess | Create | Truncate)) != 0) Descriptor(thread, FileOps.OpenWrite, (int)ret, -1, 0, events);
        }
        else if (call.Has(SyscallTraits.CreatesFile))
            Descriptor(thread, call.Name == "memfd_create" ? FileOps.Memfd : FileOps.OpenWrite, (int)ret, -1, 0, events);
        else if (call.Has(SyscallTraits.WritesFile))
            Descriptor(thread, FileOps.Write, (int)Arg(call.TargetFd), calls.Offset(call, a) ?? -1, ret, events);
        else if (call.Has(SyscallTraits.ResizesFile))
        {
            if (call.TargetFd >= 0) Descriptor(thread, FileOps.Truncate, (int)Arg(call.TargetFd), -1, 0, events);
            else if (call.TargetPath >= 0) Named(thread, FileOps.Truncate, dirfd, a[call.TargetPath], events, onlyWritten: false);
        }
        else if (call.Has(SyscallTraits.MapsFile))
        {
            // A MAP_SHARED mapping with PROT_WRITE writes the file (i386's old mmap has its arguments in memory: no indexes).
            int protAt = call.IndexOf(SyscallArgKind.Prot), flagsAt = call.IndexOf(SyscallArgKind.MapFlags);
            const ulong MapShared = 1, ProtWrite = 2;
            if (protAt >= 0 && flagsAt >= 0 && (a[flagsAt] & MapShared) != 0 && (a[protAt] & ProtWrite) != 0 && Arg(call.TargetFd) >= 0)
                Descriptor(thread, FileOps.MmapShared, (int)Arg(call.TargetFd), calls.Offset(call, a) ?? -1, (long)a[1], events);
        }
        else if (call.Has(SyscallTraits.LinksFile))
        {
            if (call.TargetPath >= 0)
                Named(thread, call.Name.StartsWith("rename", StringComparison.Ordinal) ? FileOps.Rename : FileOps.Link, dirfd, a[call.TargetPath], events);
        }
        else if (call.Has(SyscallTraits.ChangesMode))
        {
            if (call.TargetFd >= 0) Descriptor(thread, FileOps.Chmod, (int)Arg(call.TargetFd), -1, 0, events, onlyWritten: true);
            else if (call.TargetPath >= 0) Named(thread, FileOps.Chmod, dirfd, a[call.TargetPath], events);
        }
    }

    private const long AtCwd = -100;

    /// <summary>execve/execveat entry: identify the file it runs (and interpreter arguments); keep the
    /// content of written ones until the exec succeeds.</summary>
    public void OnExecEntry(RecordedThread thread)
    {
        _pendingExec.Remove(thread.Pid);
        if (LinuxSyscallAbi.Of(thread.SyscallAbi).Calls.Find(thread.SyscallNumber) is not { TargetPath: >= 0 } call) return;
        var a = thread.SyscallArgs;
        bool i386 = thread.SyscallAbi == SyscallTables.LinuxI386Abi;
        bool at = call.TargetDirFd >= 0; // execveat(dirfd, path, argv, envp, flags)
        long dirfd = at ? (i386 ? (int)a[call.TargetDirFd] : (long)a[call.TargetDirFd]) : AtCwd;
        string path = ReadString(thread, a[call.TargetPath]);
        ulong argv = a[call.IndexOf(SyscallArgKind.Argv)];
        int flagsAt = call.IndexOf(SyscallArgKind.AtFlags);
        const ulong AtEmptyPath = 0x1000;
        string? host = at && path.Length == 0 && flagsAt >= 0 && (a[flagsAt] & AtEmptyPath) != 0
            ? $"/proc/{thread.Pid}/fd/{dirfd}"
            : HostPath(thread.Pid, dirfd, path);
        if (host == null) return;
        var list = new List<FileEvent>();
        if (Identify(host, out var id, out long size))
        {
            var e = Event(thread, FileOps.Exec, at && path.Length == 0 ? (int)dirfd : -1, id, Display(thread.Pid, host, path), -1, 0, size);
            if (_written.Contains(id)) e.Bytes = ReadFile(host);
            list.Add(e);
            // An interpreter (a shell, ld.so, python) runs the file named in its arguments.
            var arguments = ReadArgv(thread, argv, pointerSize: i386 ? 4 : 8);
            // Only interpreters run their argument (chmod 700 FILE does not); sh -c CMD FILE: FILE is
            // $0 of the command, which execs it itself if it runs it.
            if (!_written.Contains(id) && IsInterpreter(host) && !arguments.Contains("-c"))
                foreach (string arg in arguments.Skip(1).Where(x => x.Length > 0 && x[0] != '-').Take(3))
                    if (HostPath(thread.Pid, AtCwd, arg) is { } p && Identify(p, out var aid, out long asize) && _written.Contains(aid))
                    {
                        list.Add(new FileEvent { Pid = thread.Pid, Tid = thread.Tid, Op = FileOps.ExecArgument, Call = thread.SyscallName, Device = aid.Device, Inode = aid.Inode, Path = Display(thread.Pid, p, arg), Size = asize, Bytes = ReadFile(p) });
                        break;
                    }
        }
        _pendingExec[thread.Pid] = list;
    }

    /// <summary>Shells, ld.so and script interpreters: programs that run the file named in their arguments.</summary>
    private static bool IsInterpreter(string host)
    {
        string name = Path.GetFileName(new FileInfo(host).LinkTarget ?? host);
        return name is "sh" or "bash" or "dash" or "zsh" or "ksh" or "mksh" or "busybox" or "perl" or "ruby" or "node" or "lua"
               || name.StartsWith("python", StringComparison.Ordinal) || name.StartsWith("ld-", StringComparison.Ordinal);
    }

    /// <summary>The exec succeeded (the new image's events are written): the file events of its entry.</summary>
    public IReadOnlyList<FileEvent> TakeExec(int pid) => _pendingExec.Remove(pid, out var list) ? list : [];

    // ---- helpers -------------------------------------------------------------------------------

    private void Descriptor(RecordedThread thread, string op, int fd, long offset, long length, List<FileEvent> events, bool onlyWritten = false)
    {
        if (fd < 0) return;
        string host = $"/proc/{thread.Pid}/fd/{fd}";
        if (!Identify(host, out var id, out long size)) return; // not a regular file (pipe, socket, tty)
        if (onlyWritten && !_written.Contains(id)) return;
        if (FileOps.Writes(op)) _written.Add(id);
        events.Add(Event(thread, op, fd, id, Link(host) ?? host, offset, length, size));
    }

    private void Named(RecordedThread thread, string op, long dirfd, ulong pathAddress, List<FileEvent> events, bool onlyWritten = true)
    {
        string path = ReadString(thread, pathAddress);
        if (HostPath(thread.Pid, dirfd, path) is not { } host || !Identify(host, out var id, out long size)) return;
        if (onlyWritten && !_written.Contains(id)) return; // renames and links of files the trace did not write say nothing
        if (FileOps.Writes(op)) _written.Add(id);
        events.Add(Event(thread, op, -1, id, Display(thread.Pid, host, path), -1, 0, size));
    }

    private static FileEvent Event(RecordedThread thread, string op, int fd, (ulong Device, ulong Inode) id, string path, long offset, long length, long size) =>
        new()
        {
            Pid = thread.Pid, Tid = thread.Tid, Op = op, Call = thread.SyscallName, Fd = fd, Device = id.Device, Inode = id.Inode,
            Path = path, Offset = offset, Length = length, Size = size,
        };

    /// <summary>The tracer's path to what the program names: /proc/self → /proc/PID, relative paths through its cwd or dirfd.</summary>
    private static string? HostPath(int pid, long dirfd, string path)
    {
        if (path.Length == 0) return null;
        if (path.StartsWith("/proc/self/", StringComparison.Ordinal)) return $"/proc/{pid}/{path["/proc/self/".Length..]}";
        if (path.StartsWith("/proc/thread-self/", StringComparison.Ordinal)) return $"/proc/{pid}/{path["/proc/thread-self/".Length..]}";
        if (path[0] == '/') return $"/proc/{pid}/root{path}";
        return dirfd == -100 ? $"/proc/{pid}/cwd/{path}" : $"/proc/{pid}/fd/{dirfd}/{path}";
    }

    /// <summary>What the trace shows as the file's path: the program's own words, or what the fd link names.</summary>
    private static string Display(int pid, string host, string path) =>
        path.Length > 0 && path[0] == '/' && !path.StartsWith("/proc/", StringComparison.Ordinal) ? path : Link(host) ?? path;

    private static string? Link(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static bool Identify(string path, out (ulong Device, ulong Inode) id, out long size)
    {
        id = default;
        size = 0;
        if (!FileIdentity.Stat(path, out var st) || !st.IsRegular) return false;
        id = (st.Device, st.Inode);
        size = st.Size;
        return true;
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[(int)Math.Min(f.Length, MaxFileBytes)];
            int n = 0, got;
            while (n < buffer.Length && (got = f.Read(buffer, n, buffer.Length - n)) > 0) n += got;
            return n == buffer.Length ? buffer : buffer[..n];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static ulong ReadU64(RecordedThread thread, ulong address)
    {
        Span<byte> b = stackalloc byte[8];
        return thread.Process.Memory.Read(address, b) == 8 ? BitConverter.ToUInt64(b) : 0;
    }

    private static string ReadString(RecordedThread thread, ulong address)
    {
        if (address == 0) return "";
        Span<byte> b = stackalloc byte[4096];
        int n = thread.Process.Memory.Read(address, b);
        if (n <= 0) return "";
        int end = b[..n].IndexOf((byte)0);
        return Encoding.UTF8.GetString(b[..(end < 0 ? n : end)]);
    }

    private static List<string> ReadArgv(RecordedThread thread, ulong argv, int pointerSize)
    {
        var args = new List<string>();
        for (int i = 0; i < 5 && argv != 0; i++)
        {
            ulong p = ReadU64(thread, argv + (ulong)(i * pointerSize));
            if (pointerSize == 4) p &= 0xffff_ffff;
            if (p == 0) break;
            args.Add(ReadString(thread, p));
        }
        return args;
    }
}

/// <summary>stat(2) of a path from the tracer: device, inode, type and size.</summary>
internal static partial class FileIdentity
{
    public readonly record struct Status(ulong Device, ulong Inode, uint Mode, long Size)
    {
        public bool IsRegular => (Mode & 0xF000) == 0x8000;
    }

    public static unsafe bool Stat(string path, out Status status)
    {
        byte* st = stackalloc byte[256]; // struct stat is 144 bytes on x86-64
        if (StatNative(path, st) != 0)
        {
            status = default;
            return false;
        }
        status = new Status(*(ulong*)st, *(ulong*)(st + 8), *(uint*)(st + 24), *(long*)(st + 48));
        return true;
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int StatNative(string path, byte* buffer);
}
