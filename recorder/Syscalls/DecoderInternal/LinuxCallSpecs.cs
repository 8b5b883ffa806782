using static Ether.Replay.Recorder.Syscalls.DecoderInternal.ArgKind;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// How strace prints each Linux call we decode, by name. The same names cover x86-64 and i386
/// (a name absent from an ABI's table is simply unused there); i386-only calls are listed too.
/// Calls not listed here print their six raw arguments in hex.
/// </summary>
internal static class LinuxCallSpecs
{
    public static IReadOnlyDictionary<string, CallSpec> Common { get; } = Build(i386: false);
    public static IReadOnlyDictionary<string, CallSpec> I386 { get; } = Build(i386: true);

    private static CallSpec Call(string name, params ArgSpec[] args) => new(name, ReturnStyle.Decimal, args);
    private static CallSpec Call(string name, ReturnStyle ret, params ArgSpec[] args) => new(name, ret, args);
    private static CallSpec Custom(string name, ReturnStyle ret, CustomRenderer renderer, bool hasOutput = false) =>
        new(name, ret, [], renderer, hasOutput);
    private static ArgSpec At(ArgKind kind, int index, int aux = -1) => new(kind, (sbyte)index, (sbyte)aux);

    private static Dictionary<string, CallSpec> Build(bool i386)
    {
        var specs = new List<CallSpec>
        {
            // Files and descriptors
            Call("read", Fd, OutBuf, ULong),
            Call("write", Fd, InBuf, ULong),
            Call("pread64", Fd, OutBuf, ULong, Long),
            Call("pwrite64", Fd, InBuf, ULong, Long),
            Call("readv", Fd, OutIovec, ULong),
            Call("writev", Fd, InIovec, ULong),
            Call("preadv", Fd, OutIovec, ULong, Long),
            Call("pwritev", Fd, InIovec, ULong, Long),
            Call("preadv2", Fd, OutIovec, ULong, Long, At(Hex, 5)),
            Call("pwritev2", Fd, InIovec, ULong, Long, At(Hex, 5)),
            Call("open", FilePath, OpenFlags, OpenMode),
            Call("openat", DirFd, FilePath, OpenFlags, OpenMode),
            Call("creat", FilePath, Mode),
            Call("close", Fd),
            Call("close_range", Fd, Fd, Hex),
            Call("lseek", Fd, Long, Whence),
            Call("_llseek", Fd, At(LlseekOffset, 1), At(LoffOut, 3), At(Whence, 4)),
            Call("dup", Fd),
            Call("dup2", Fd, Fd),
            Call("dup3", Fd, Fd, OFlags),
            Call("pipe", PipeFds),
            Call("pipe2", PipeFds, OFlags),
            Call("fsync", Fd),
            Call("fdatasync", Fd),
            Call("ftruncate", Fd, Long),
            Call("truncate", FilePath, Long),
            Call("flock", Fd, FlockOp),
            Call("getdents", Fd, DirentsOut, UInt),
            Call("getdents64", Fd, Dirents64Out, UInt),
            Call("sendfile", Fd, Fd, Addr, ULong),
            Call("sendfile64", Fd, Fd, Addr, ULong),
            Call("memfd_create", Str, MemfdFlags),
            Custom("fcntl", ReturnStyle.Fcntl, CustomCalls.Fcntl),
            Custom("fcntl64", ReturnStyle.Fcntl, CustomCalls.Fcntl),
            Custom("ioctl", ReturnStyle.Decimal, CustomCalls.Ioctl, hasOutput: true),

            // Paths and metadata
            Call("stat", FilePath, StatOut),
            Call("lstat", FilePath, StatOut),
            Call("fstat", Fd, StatOut),
            Call("newfstatat", DirFd, FilePath, StatOut, AtFlags),
            Call("stat64", FilePath, Stat64Out),
            Call("lstat64", FilePath, Stat64Out),
            Call("fstat64", Fd, Stat64Out),
            Call("fstatat64", DirFd, FilePath, Stat64Out, AtFlags),
            Call("statx", DirFd, FilePath, StatxFlags, StatxMask, StatxOut),
            Call("statfs", FilePath, Addr),
            Call("fstatfs", Fd, Addr),
            Call("access", FilePath, AccessMode),
            Call("faccessat", DirFd, FilePath, AccessMode),
            Call("faccessat2", DirFd, FilePath, AccessMode, FaccessatFlags),
            Call("readlink", FilePath, OutBuf, ULong),
            Call("readlinkat", DirFd, FilePath, OutBuf, ULong),
            Call("getcwd", OutCwd, ULong),
            Call("chdir", FilePath),
            Call("fchdir", Fd),
            Call("chroot", FilePath),
            Call("mkdir", FilePath, Mode),
            Call("mkdirat", DirFd, FilePath, Mode),
            Call("rmdir", FilePath),
            Call("unlink", FilePath),
            Call("unlinkat", DirFd, FilePath, AtFlags),
            Call("rename", FilePath, FilePath),
            Call("renameat", DirFd, FilePath, DirFd, FilePath),
            Call("renameat2", DirFd, FilePath, DirFd, FilePath, Hex),
            Call("link", FilePath, FilePath),
            Call("linkat", DirFd, FilePath, DirFd, FilePath, AtFlags),
            Call("symlink", FilePath, FilePath),
            Call("symlinkat", FilePath, DirFd, FilePath),
            Call("chmod", FilePath, Mode),
            Call("fchmod", Fd, Mode),
            Call("fchmodat", DirFd, FilePath, Mode),
            Call("chown", FilePath, Int, Int),
            Call("lchown", FilePath, Int, Int),
            Call("fchown", Fd, Int, Int),
            Call("chown32", FilePath, Int, Int),
            Call("lchown32", FilePath, Int, Int),
            Call("fchown32", Fd, Int, Int),
            Call("fchownat", DirFd, FilePath, Int, Int, AtFlags),
            Call("umask", ReturnStyle.Octal, Mode),
            Call("getxattr", FilePath, Str, OutBuf, ULong),
            Call("lgetxattr", FilePath, Str, OutBuf, ULong),
            Call("fgetxattr", Fd, Str, OutBuf, ULong),

            // Memory
            Call("brk", ReturnStyle.Hex, Addr),
            Call("mmap2", ReturnStyle.Hex, Addr, ULong, Prot, MapFlags, Fd, PageOffset),
            Call("munmap", Addr, ULong),
            Call("mprotect", Addr, ULong, Prot),
            Call("pkey_mprotect", Addr, ULong, Prot, Int),
            Call("mremap", ReturnStyle.Hex, Addr, ULong, ULong, MremapFlags, At(MremapNewAddr, 4, 3)),
            Call("madvise", Addr, ULong, Madvise),
            Call("msync", Addr, ULong, MsyncFlags),
            Call("mlock", Addr, ULong),
            Call("munlock", Addr, ULong),
            Call("mincore", Addr, ULong, Addr),

            // Processes and threads
            Call("execve", FilePath, Argv, Envp),
            Call("execveat", DirFd, FilePath, Argv, Envp, AtFlags),
            Call("exit", ReturnStyle.None, Int),
            Call("exit_group", ReturnStyle.None, Int),
            Custom("clone", ReturnStyle.Decimal, CustomCalls.Clone, hasOutput: true),
            Call("clone3", Clone3Args, ULong),
            Call("fork"),
            Call("vfork"),
            Call("wait4", Int, WaitStatusOut, WaitOptions, WaitRusageOut),
            Call("waitpid", Int, WaitStatusOut, WaitOptions),
            Call("kill", Int, Signal),
            Call("tkill", Int, Signal),
            Call("tgkill", Int, Int, Signal),
            Call("set_tid_address", Addr),
            Call("set_robust_list", Addr, ULong),
            Call("rseq", Addr, Hex, Hex, Hex),
            Custom("futex", ReturnStyle.Decimal, CustomCalls.Futex),
            Custom("futex_time64", ReturnStyle.Decimal, CustomCalls.FutexTime64),
            Custom("arch_prctl", ReturnStyle.Decimal, CustomCalls.ArchPrctl, hasOutput: true),
            Custom("prctl", ReturnStyle.Decimal, CustomCalls.Prctl, hasOutput: true),
            Custom("ptrace", ReturnStyle.Decimal, CustomCalls.Ptrace, hasOutput: true),
            Call("set_thread_area", Addr),
            Call("get_thread_area", Addr),
            Call("prlimit64", Int, RlimitResource, Rlimit64In, Rlimit64Out),
            Call("getrlimit", RlimitResource, RlimitOut),
            Call("ugetrlimit", RlimitResource, RlimitOut),
            Call("setrlimit", RlimitResource, RlimitIn),
            Call("getrusage", RusageWho, RusageOut),
            Call("sysinfo", SysinfoOut),
            Call("times", TmsOut),
            Call("uname", UtsnameOut),
            Call("getrandom", OutBufHex, ULong, GrndFlags),
            Call("sched_yield"),
            Call("pause"),
            Call("alarm", UInt),
            Call("setsid"),
            Call("setpgid", Int, Int),
            Call("getpgid", Int),
            Call("getsid", Int),
            Call("sync"),
            Call("fadvise64", Fd, Long, Long, FadviseAdvice),
            Call("sched_getaffinity", Int, ULong, CpuSetOut),
            Call("sched_setaffinity", Int, ULong, At(CpuSetIn, 2, 1)),
            Call("getgroups32", Int, GidsOut),

            // Signals
            Call("rt_sigaction", Signal, SigactionIn, SigactionOut, ULong),
            Call("rt_sigprocmask", SigprocmaskHow, At(SigsetIn, 1, 3), At(SigsetOut, 2, 3), ULong),
            Call("rt_sigsuspend", At(SigsetIn, 0, 1), ULong),
            Call("rt_sigpending", At(SigsetOut, 0, 1), ULong),
            Custom("rt_sigreturn", ReturnStyle.Decimal, CustomCalls.NoArguments),
            Custom("sigreturn", ReturnStyle.Decimal, CustomCalls.NoArguments),
            Custom("restart_syscall", ReturnStyle.Decimal, CustomCalls.NoArguments),

            // Time
            Call("clock_gettime", ClockId, TimespecOut),
            Call("clock_getres", ClockId, TimespecOut),
            Call("clock_gettime64", ClockId, Timespec64Out),
            Call("clock_getres_time64", ClockId, Timespec64Out),
            Call("gettimeofday", TimevalOut, Addr),
            Call("nanosleep", TimespecIn, TimespecRem),
            Call("clock_nanosleep", ClockId, TimerFlags, TimespecIn, TimespecRem),
            Call("getitimer", ItimerWhich, Addr),
            Call("setitimer", ItimerWhich, Addr, Addr),

            // Sockets
            Call("socket", SocketFamily, SocketType, SocketProtocol),
            Call("socketpair", SocketFamily, SocketType, SocketProtocol, PipeFds),
            Call("connect", Fd, SockaddrIn, UInt),
            Call("bind", Fd, SockaddrIn, UInt),
            Call("listen", Fd, Int),
            Call("accept", Fd, SockaddrOut, SocklenOut),
            Call("accept4", Fd, SockaddrOut, SocklenOut, SocketTypeFlags),
            Call("getsockname", Fd, SockaddrOut, SocklenOut),
            Call("getpeername", Fd, SockaddrOut, SocklenOut),
            Call("sendto", Fd, InBuf, ULong, MsgFlags, At(SockaddrIn, 4, 5), At(UInt, 5)),
            Call("recvfrom", Fd, OutBuf, ULong, MsgFlags, At(SockaddrOut, 4, 5), At(SocklenOut, 5)),
            Call("send", Fd, InBuf, ULong, MsgFlags),
            Call("recv", Fd, OutBuf, ULong, MsgFlags),
            Call("sendmsg", Fd, MsghdrIn, MsgFlags),
            Call("recvmsg", Fd, MsghdrOut, MsgFlags),
            Call("shutdown", Fd, ShutdownHow),
            Call("setsockopt", Fd, SockoptLevel, SockoptName, SockoptValIn, UInt),
            Call("getsockopt", Fd, SockoptLevel, SockoptName, SockoptValOut, SocklenOut),
            Call("poll", PollFds, UInt, Int),
        };

        // Calls without arguments that return an id.
        foreach (var name in new[] { "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
                     "getpgrp", "getuid32", "geteuid32", "getgid32", "getegid32" })
            specs.Add(Call(name));
        foreach (var name in new[] { "setuid", "setgid", "setuid32", "setgid32" })
            specs.Add(Call(name, Int));

        // getgroups: 32-bit ids on x86-64, the old 16-bit ids on i386 (getgroups32 has 32-bit ones).
        specs.Add(Call("getgroups", Int, i386 ? Gids16Out : GidsOut));

        // mmap: x86-64 passes six registers; i386's old mmap passes a pointer to them.
        specs.Add(i386
            ? Custom("mmap", ReturnStyle.Hex, LinuxCallRenderer.OldMmap)
            : Call("mmap", ReturnStyle.Hex, Addr, ULong, Prot, MapFlags, Fd, Hex));
        if (i386)
            specs.Add(Custom("socketcall", ReturnStyle.Decimal, LinuxCallRenderer.Socketcall, hasOutput: true));

        return specs.ToDictionary(s => s.Name, StringComparer.Ordinal);
    }
}
