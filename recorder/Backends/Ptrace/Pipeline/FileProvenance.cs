using System.Runtime.InteropServices;
using System.Text;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Syscalls;

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

    /// <summary>A successful call returned: the file events it makes (none for most calls).</summary>
    public void OnExit(RecordedThread thread, long ret, List<FileEvent> events)
    {
        if (thread.SyscallAbi != Formats.Abi.SyscallTables.LinuxX86_64Abi || ret < 0) return;
        var a = thread.SyscallArgs;
        int pid = thread.Pid;
        switch (thread.SyscallNumber)
        {
            case 2 or 257 or 437: // open(path, flags), openat(dirfd, path, flags), openat2(dirfd, path, how)
            {
                ulong flags = thread.SyscallNumber switch { 2 => a[1], 257 => a[2], _ => ReadU64(thread, a[2]) };
                const ulong WriteAccess = 1 | 2, Create = 0x40, Truncate = 0x200;
                if ((flags & (WriteAccess | Create | Truncate)) != 0) Descriptor(thread, FileOps.OpenWrite, (int)ret, -1, 0, events);
                break;
            }
            case 85: Descriptor(thread, FileOps.OpenWrite, (int)ret, -1, 0, events); break;          // creat
            case 319: Descriptor(thread, FileOps.Memfd, (int)ret, -1, 0, events); break;             // memfd_create
            case 1 or 20: Descriptor(thread, FileOps.Write, (int)a[0], -1, ret, events); break;       // write, writev
            case 18: Descriptor(thread, FileOps.Write, (int)a[0], (long)a[3], ret, events); break;    // pwrite64(fd, buf, n, off)
            case 296 or 328: Descriptor(thread, FileOps.Write, (int)a[0], (long)a[3], ret, events); break; // pwritev(2)(fd, iov, n, off)
            case 40: Descriptor(thread, FileOps.Write, (int)a[0], -1, ret, events); break;            // sendfile(out, in, ...)
            case 326 or 275: Descriptor(thread, FileOps.Write, (int)a[2], -1, ret, events); break;    // copy_file_range, splice(in, off, out, ...)
            case 77 or 285: Descriptor(thread, FileOps.Truncate, (int)a[0], -1, 0, events); break;    // ftruncate, fallocate
            case 76: Named(thread, FileOps.Truncate, -100, a[0], events, onlyWritten: false); break;   // truncate(path)
            case 9 when (a[3] & 1) != 0 && (a[2] & 2) != 0 && (long)a[4] >= 0:                     // mmap(MAP_SHARED, PROT_WRITE, fd)
                Descriptor(thread, FileOps.MmapShared, (int)a[4], (long)a[5], (long)a[1], events);
                break;
            case 82: Named(thread, FileOps.Rename, -100, a[1], events); break;                        // rename(old, new)
            case 264 or 316: Named(thread, FileOps.Rename, (long)a[2], a[3], events); break;          // renameat(2)(od, old, nd, new)
            case 86: Named(thread, FileOps.Link, -100, a[1], events); break;                          // link(old, new)
            case 265: Named(thread, FileOps.Link, (long)a[2], a[3], events); break;                   // linkat(od, old, nd, new, flags)
            case 90: Named(thread, FileOps.Chmod, -100, a[0], events); break;                         // chmod(path, mode)
            case 268 or 452: Named(thread, FileOps.Chmod, (long)a[0], a[1], events); break;           // fchmodat(2)
            case 91: Descriptor(thread, FileOps.Chmod, (int)a[0], -1, 0, events, onlyWritten: true); break; // fchmod
        }
        _ = pid;
    }

    /// <summary>execve/execveat entry: identify the file it runs (and interpreter arguments); keep the
    /// content of written ones until the exec succeeds.</summary>
    public void OnExecEntry(RecordedThread thread)
    {
        _pendingExec.Remove(thread.Pid);
        if (thread.SyscallAbi != Formats.Abi.SyscallTables.LinuxX86_64Abi) return;
        var a = thread.SyscallArgs;
        bool at = thread.SyscallNumber == 322;
        long dirfd = at ? (long)a[0] : -100;
        string path = ReadString(thread, at ? a[1] : a[0]);
        ulong argv = at ? a[2] : a[1];
        const ulong AtEmptyPath = 0x1000;
        string? host = at && path.Length == 0 && (a[4] & AtEmptyPath) != 0
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
            var arguments = ReadArgv(thread, argv);
            // Only interpreters run their argument (chmod 700 FILE does not); sh -c CMD FILE: FILE is
            // $0 of the command, which execs it itself if it runs it.
            if (!_written.Contains(id) && IsInterpreter(host) && !arguments.Contains("-c"))
                foreach (string arg in arguments.Skip(1).Where(x => x.Length > 0 && x[0] != '-').Take(3))
                    if (HostPath(thread.Pid, -100, arg) is { } p && Identify(p, out var aid, out long asize) && _written.Contains(aid))
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

    private static List<string> ReadArgv(RecordedThread thread, ulong argv)
    {
        var args = new List<string>();
        for (int i = 0; i < 5 && argv != 0; i++)
        {
            ulong p = ReadU64(thread, argv + (ulong)i * 8);
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
