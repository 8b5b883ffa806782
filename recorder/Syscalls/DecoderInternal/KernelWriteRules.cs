using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>Which user memory each Linux call fills in, from the kernel's own copy_to_user/put_user calls.</summary>
internal static class KernelWriteRules
{
    private const int EINTR = 4;
    private const int ERESTART_RESTARTBLOCK = 516;
    /// <summary>UIO_MAXIOV: the kernel rejects longer iovec arrays, so we never walk more.</summary>
    private const int MaxIov = 1024;
    /// <summary>Bound for lengths the target itself stores (socklen_t, optlen): nothing bigger is plausible.</summary>
    private const int MaxReportedLength = 1 << 20;

    public static void Collect(string name, CallContext c, List<(ulong, long)> w)
    {
        var ret = c.Ret;
        var layout = c.Layout;
        if (Errno.IsError(ret))
        {
            // Interrupted sleeps report the time left; nothing else is written by a failed call.
            var interrupted = ret == -EINTR || ret == -ERESTART_RESTARTBLOCK;
            if (interrupted && name == "nanosleep")
                Add(w, c.Word(1), layout.TimespecSize);
            else if (interrupted && name == "clock_nanosleep" && (c.Int(1) & 1) == 0) // not TIMER_ABSTIME
                Add(w, c.Word(3), layout.TimespecSize);
            else if (interrupted && name == "clock_nanosleep_time64" && (c.Int(1) & 1) == 0)
                Add(w, c.Word(3), LinuxLayout.Timespec64Size);
            return;
        }

        switch (name)
        {
            case "read" or "pread64" or "getdents" or "getdents64" or "readlink":
                Add(w, c.Word(1), Math.Min(ret, Signed(c.Word(2)))); // (fd or path, buf, size)
                break;
            case "getrandom" or "getcwd":
                Add(w, c.Word(0), Math.Min(ret, Signed(c.Word(1)))); // (buf, size, ...)
                break;
            case "readlinkat":
                Add(w, c.Word(2), Math.Min(ret, Signed(c.Word(3))));
                break;
            case "readv" or "preadv" or "preadv2":
                Iovecs(c, c.Word(1), c.Word(2), ret, w);
                break;
            case "process_vm_readv":
                Iovecs(c, c.Word(1), c.Word(2), ret, w);
                break;
            case "recvfrom" or "recv":
                Add(w, c.Word(1), Math.Min(ret, Signed(c.Word(2))));
                if (name == "recvfrom")
                    SockaddrAndLength(c, c.Word(4), c.Word(5), w);
                break;
            case "recvmsg":
                Msghdr(c, c.Word(1), ret, w);
                break;
            case "recvmmsg" or "recvmmsg_time64":
                for (long i = 0; i < Math.Min(ret, MaxIov); i++)
                {
                    var header = c.Word(1) + (ulong)(i * layout.MmsghdrSize);
                    if (!c.Reader.TryReadU32(header + (ulong)layout.MsghdrSize, out var received))
                        break;
                    Msghdr(c, header, received, w);
                    Add(w, header + (ulong)layout.MsghdrSize, 4);
                }
                break;
            case "accept" or "accept4" or "getsockname" or "getpeername":
                SockaddrAndLength(c, c.Word(1), c.Word(2), w);
                break;
            case "getsockopt":
                if (c.Reader.TryReadU32(c.Word(4), out var optlen))
                    Add(w, c.Word(3), Math.Min(optlen, MaxReportedLength));
                Add(w, c.Word(4), 4);
                break;
            case "socketpair":
                Add(w, c.Word(3), 8);
                break;
            case "pipe" or "pipe2":
                Add(w, c.Word(0), 8);
                break;
            case "stat" or "lstat" or "fstat":
                Add(w, c.Word(1), layout.StatSize);
                break;
            case "newfstatat":
                Add(w, c.Word(2), layout.StatSize);
                break;
            case "stat64" or "lstat64" or "fstat64":
                Add(w, c.Word(1), LinuxLayout.Stat64Size);
                break;
            case "fstatat64":
                Add(w, c.Word(2), LinuxLayout.Stat64Size);
                break;
            case "statx":
                Add(w, c.Word(4), LinuxLayout.StatxSize);
                break;
            case "statfs" or "fstatfs":
                Add(w, c.Word(1), layout.StatfsSize);
                break;
            case "statfs64" or "fstatfs64":
                Add(w, c.Word(2), LinuxLayout.Statfs64Size);
                break;
            case "uname":
                Add(w, c.Word(0), LinuxLayout.UtsnameSize);
                break;
            case "clock_gettime" or "clock_getres":
                Add(w, c.Word(1), layout.TimespecSize);
                break;
            case "clock_gettime64" or "clock_getres_time64":
                Add(w, c.Word(1), LinuxLayout.Timespec64Size);
                break;
            case "gettimeofday":
                Add(w, c.Word(0), layout.TimevalSize);
                Add(w, c.Word(1), 8); // struct timezone
                break;
            case "time":
                Add(w, c.Word(0), layout.WordSize);
                break;
            case "wait4":
                if (ret > 0)
                {
                    Add(w, c.Word(1), 4);
                    Add(w, c.Word(3), layout.RusageSize);
                }
                break;
            case "waitpid":
                if (ret > 0)
                    Add(w, c.Word(1), 4);
                break;
            case "waitid":
                Add(w, c.Word(2), LinuxLayout.SiginfoSize);
                Add(w, c.Word(4), layout.RusageSize);
                break;
            case "rt_sigaction":
                Add(w, c.Word(2), layout.SigactionSize);
                break;
            case "rt_sigprocmask":
                Add(w, c.Word(2), Math.Min(Signed(c.Word(3)), 128));
                break;
            case "rt_sigpending":
                Add(w, c.Word(0), Math.Min(Signed(c.Word(1)), 128));
                break;
            case "rt_sigtimedwait" or "rt_sigtimedwait_time64":
                Add(w, c.Word(1), LinuxLayout.SiginfoSize);
                break;
            case "sigaltstack":
                Add(w, c.Word(1), layout.StackTSize);
                break;
            case "prlimit64":
                Add(w, c.Word(3), LinuxLayout.Rlimit64Size);
                break;
            case "getrlimit" or "ugetrlimit":
                Add(w, c.Word(1), layout.RlimitSize);
                break;
            case "getrusage":
                Add(w, c.Word(1), layout.RusageSize);
                break;
            case "sysinfo":
                Add(w, c.Word(0), layout.SysinfoSize);
                break;
            case "times":
                Add(w, c.Word(0), layout.TmsSize);
                break;
            case "getresuid" or "getresgid":
                // x86-64's are 32-bit ids; i386's unsuffixed ones use the old 16-bit ids.
                for (var i = 0; i < 3; i++)
                    Add(w, c.Word(i), layout.Is64 ? 4 : 2);
                break;
            case "getresuid32" or "getresgid32":
                for (var i = 0; i < 3; i++)
                    Add(w, c.Word(i), 4);
                break;
            case "getgroups":
                if (c.Int(0) > 0)
                    Add(w, c.Word(1), ret * (layout.Is64 ? 4 : 2));
                break;
            case "getgroups32":
                if (c.Int(0) > 0)
                    Add(w, c.Word(1), ret * 4);
                break;
            case "sched_getaffinity":
                Add(w, c.Word(2), ret);
                break;
            case "getitimer":
                Add(w, c.Word(1), layout.ItimervalSize);
                break;
            case "setitimer":
                Add(w, c.Word(2), layout.ItimervalSize);
                break;
            case "timer_gettime" or "timerfd_gettime":
                Add(w, c.Word(1), layout.ItimerspecSize);
                break;
            case "timer_settime" or "timerfd_settime":
                Add(w, c.Word(3), layout.ItimerspecSize);
                break;
            case "epoll_wait" or "epoll_pwait" or "epoll_pwait2":
                Add(w, c.Word(1), ret * 12); // struct epoll_event is packed: 4 + 8 bytes
                break;
            case "poll" or "ppoll" or "ppoll_time64":
                // The kernel stores only revents (offset 6) of each struct pollfd.
                for (ulong i = 0; i < Math.Min(c.Word(1), 4096UL); i++)
                    Add(w, c.Word(0) + i * 8 + 6, 2);
                break;
            case "select" or "_newselect" or "pselect6" or "pselect6_time64":
                FdSets(c, w, name);
                break;
            case "ioctl":
                Ioctl(c, w);
                break;
            case "arch_prctl":
                if (c.Int(0) == LinuxConstants.ARCH_GET_FS || c.Int(0) == LinuxConstants.ARCH_GET_GS)
                    Add(w, c.Word(1), 8);
                break;
            case "prctl":
                if (c.Int(0) == LinuxConstants.PR_GET_NAME)
                    Add(w, c.Word(1), 16); // TASK_COMM_LEN
                break;
            case "clone":
                if (ret > 0 && (c.Word(0) & (ulong)(LinuxConstants.CLONE_PARENT_SETTID | LinuxConstants.CLONE_PIDFD)) != 0)
                    Add(w, c.Word(2), 4);
                break;
            case "clone3":
                Clone3(c, w);
                break;
            case "futex" or "futex_time64":
                Futex(c, w);
                break;
            case "ptrace":
                Ptrace(c, w);
                break;
            case "getxattr" or "lgetxattr" or "fgetxattr":
                if (c.Word(3) > 0)
                    Add(w, c.Word(2), ret);
                break;
            case "listxattr" or "llistxattr" or "flistxattr":
                if (c.Word(2) > 0)
                    Add(w, c.Word(1), ret);
                break;
            case "sendfile":
                Add(w, c.Word(2), layout.Is64 ? 8 : 4);
                break;
            case "sendfile64":
                Add(w, c.Word(2), 8);
                break;
            case "splice" or "copy_file_range":
                Add(w, c.Word(1), 8);
                Add(w, c.Word(3), 8);
                break;
            case "_llseek":
                Add(w, c.Word(3), 8);
                break;
            case "mincore":
                Add(w, c.Word(2), (long)((c.Word(1) + 4095) / 4096));
                break;
            case "get_robust_list":
                Add(w, c.Word(1), layout.WordSize);
                Add(w, c.Word(2), layout.WordSize);
                break;
            case "getcpu":
                Add(w, c.Word(0), 4);
                Add(w, c.Word(1), 4);
                break;
            case "rseq":
                // Registration writes cpu_id_start/cpu_id; later updates happen asynchronously (see remarks).
                Add(w, c.Word(0), Math.Min(Signed(c.Word(1)), 32));
                break;
            case "socketcall":
                Socketcall(c, w);
                break;
        }
    }

    private static long Signed(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;

    private static void Add(List<(ulong, long)> w, ulong address, long length)
    {
        if (address != 0 && length > 0)
            w.Add((address, length));
    }

    /// <summary>Spreads <paramref name="total"/> bytes over an iovec array, as the kernel fills it.</summary>
    private static void Iovecs(CallContext c, ulong iov, ulong count, long total, List<(ulong, long)> w)
    {
        var layout = c.Layout;
        var size = layout.IovecSize;
        var entries = (int)Math.Min(count, (ulong)MaxIov);
        var array = c.Reader.ReadUpTo(iov, (long)entries * size, MaxIov * 16);
        for (var i = 0; i + size <= array.Length && total > 0; i += size)
        {
            var @base = layout.Is64 ? BitConverter.ToUInt64(array, i) : BitConverter.ToUInt32(array, i);
            var length = layout.Is64 ? BitConverter.ToUInt64(array, i + 8) : BitConverter.ToUInt32(array, i + 4);
            var take = Math.Min(Signed(length), total);
            Add(w, @base, take);
            total -= take;
        }
    }

    /// <summary>
    /// A returned socket address and its length word. The kernel stores min(buffer, actual) bytes but
    /// leaves only the actual length behind, so the range is capped at sockaddr_storage.
    /// </summary>
    private static void SockaddrAndLength(CallContext c, ulong address, ulong lengthPointer, List<(ulong, long)> w)
    {
        if (address == 0 || lengthPointer == 0)
            return;
        if (c.Reader.TryReadU32(lengthPointer, out var length))
            Add(w, address, Math.Min(length, LinuxLayout.SockaddrMax));
        Add(w, lengthPointer, 4);
    }

    private static void Msghdr(CallContext c, ulong header, long received, List<(ulong, long)> w)
    {
        var layout = c.Layout;
        var reader = c.Reader;
        if (!reader.TryReadWord(header + (ulong)layout.MsgNameOffset, out var name)
            || !reader.TryReadU32(header + (ulong)layout.MsgNamelenOffset, out var namelen)
            || !reader.TryReadWord(header + (ulong)layout.MsgIovOffset, out var iov)
            || !reader.TryReadWord(header + (ulong)layout.MsgIovlenOffset, out var iovlen)
            || !reader.TryReadWord(header + (ulong)layout.MsgControlOffset, out var control)
            || !reader.TryReadWord(header + (ulong)layout.MsgControllenOffset, out var controllen))
            return;
        Iovecs(c, iov, iovlen, received, w);
        if (name != 0)
            Add(w, name, Math.Min(namelen, LinuxLayout.SockaddrMax));
        if (control != 0)
            Add(w, control, Math.Min(Signed(controllen), MaxReportedLength));
        // The kernel writes back msg_namelen, msg_controllen and msg_flags.
        Add(w, header + (ulong)layout.MsgNamelenOffset, 4);
        Add(w, header + (ulong)layout.MsgControllenOffset, layout.WordSize);
        Add(w, header + (ulong)layout.MsgFlagsOffset, 4);
    }

    private static void FdSets(CallContext c, List<(ulong, long)> w, string name)
    {
        var layout = c.Layout;
        var nfds = c.Int(0);
        if (nfds <= 0)
            return;
        // fd_set bits are stored in whole longs.
        var bits = layout.WordSize * 8;
        var bytes = (long)((Math.Min(nfds, 1 << 20) + bits - 1) / bits) * layout.WordSize;
        for (var i = 1; i <= 3; i++)
            Add(w, c.Word(i), bytes);
        var timeoutSize = name switch
        {
            "pselect6" => layout.TimespecSize,
            "pselect6_time64" => LinuxLayout.Timespec64Size,
            _ => layout.TimevalSize,
        };
        Add(w, c.Word(4), timeoutSize);
    }

    private static void Ioctl(CallContext c, List<(ulong, long)> w)
    {
        var request = c.UInt(1);
        var arg = c.Word(2);
        if (request == LinuxConstants.TCGETS)
            Add(w, arg, 36); // the kernel's struct termios: four tcflag_t, c_line, c_cc[19]
        else if (request == LinuxConstants.TIOCGWINSZ)
            Add(w, arg, 8);
        else if (request == LinuxConstants.FIONREAD || request == LinuxConstants.TIOCOUTQ
                 || request == LinuxConstants.TIOCGPGRP || request == LinuxConstants.TIOCGSID)
            Add(w, arg, 4);
        else if ((request >> 30 & 2) != 0) // _IOC_READ: the kernel copies (request >> 16) & 0x3fff bytes out
            Add(w, arg, (request >> 16) & 0x3fff);
    }

    private static void Clone3(CallContext c, List<(ulong, long)> w)
    {
        if (c.Ret <= 0 || c.Word(1) < 64 || !c.Reader.TryReadU64(c.Word(0), out var flags))
            return;
        if ((flags & (ulong)LinuxConstants.CLONE_PIDFD) != 0 && c.Reader.TryReadU64(c.Word(0) + 8, out var pidfd))
            Add(w, pidfd, 4);
        if ((flags & (ulong)LinuxConstants.CLONE_PARENT_SETTID) != 0 && c.Reader.TryReadU64(c.Word(0) + 24, out var parentTid))
            Add(w, parentTid, 4);
    }

    private static void Futex(CallContext c, List<(ulong, long)> w)
    {
        var cmd = c.Int(1) & (int)LinuxConstants.FUTEX_CMD_MASK;
        switch (LinuxConstants.FutexCommands.NameOf(cmd))
        {
            case "FUTEX_WAKE_OP": // atomically updates *uaddr2
            case "FUTEX_WAIT_REQUEUE_PI" or "FUTEX_CMP_REQUEUE_PI": // takes the PI lock at uaddr2
                Add(w, c.Word(4), 4);
                break;
            case "FUTEX_LOCK_PI" or "FUTEX_LOCK_PI2" or "FUTEX_TRYLOCK_PI" or "FUTEX_UNLOCK_PI":
                Add(w, c.Word(0), 4);
                break;
        }
    }

    private static void Ptrace(CallContext c, List<(ulong, long)> w)
    {
        var layout = c.Layout;
        var data = c.Word(3);
        switch (LinuxConstants.PtraceRequests.NameOf(c.SignedWord(0)))
        {
            case "PTRACE_PEEKTEXT" or "PTRACE_PEEKDATA" or "PTRACE_PEEKUSR" or "PTRACE_GETEVENTMSG":
                Add(w, data, layout.WordSize);
                break;
            case "PTRACE_GETSIGINFO":
                Add(w, data, LinuxLayout.SiginfoSize);
                break;
            case "PTRACE_GETREGS":
                Add(w, data, layout.UserRegsSize);
                break;
            case "PTRACE_GETFPREGS":
                Add(w, data, layout.UserFpregsSize);
                break;
            case "PTRACE_GETREGSET":
                // data is a struct iovec; the kernel fills iov_base and shrinks iov_len to what it wrote.
                if (c.Reader.TryReadWord(data, out var @base) && c.Reader.TryReadWord(data + (ulong)layout.WordSize, out var length))
                {
                    Add(w, @base, Math.Min(Signed(length), MaxReportedLength));
                    Add(w, data + (ulong)layout.WordSize, layout.WordSize);
                }
                break;
        }
    }

    /// <summary>i386 socketcall: the same rules applied to the arguments read from the array.</summary>
    private static void Socketcall(CallContext c, List<(ulong, long)> w)
    {
        var name = LinuxConstants.SocketcallCalls.NameOf(c.Int(0)) switch
        {
            "SYS_RECV" => "recv",
            "SYS_RECVFROM" => "recvfrom",
            "SYS_RECVMSG" => "recvmsg",
            "SYS_RECVMMSG" => "recvmmsg",
            "SYS_ACCEPT" => "accept",
            "SYS_ACCEPT4" => "accept4",
            "SYS_GETSOCKNAME" => "getsockname",
            "SYS_GETPEERNAME" => "getpeername",
            "SYS_GETSOCKOPT" => "getsockopt",
            "SYS_SOCKETPAIR" => "socketpair",
            _ => null,
        };
        if (name is null)
            return;
        var words = new ulong[6];
        for (var i = 0; i < words.Length; i++)
            if (!c.Reader.TryReadU32(c.Word(1) + (ulong)(i * 4), out var word))
                break;
            else
                words[i] = word;
        Collect(name, new CallContext(words, c.Reader, exiting: true, c.Ret), w);
    }
}
