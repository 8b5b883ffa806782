namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// Which user memory a Linux call fills in, from the kernel's own copy_to_user/put_user calls:
/// derived from the call's row in the system-call table (one size rule per output argument kind,
/// below), except for the few rows marked CustomWrites, whose written memory depends on an
/// operation code (ioctl, prctl, arch_prctl, clone, futex, ptrace, socketcall).
/// </summary>
internal static class KernelWriteRules
{
    /// <summary>UIO_MAXIOV: the kernel rejects longer iovec arrays, so we never walk more.</summary>
    private const int MaxIov = 1024;
    /// <summary>Bound for lengths the target itself stores (socklen_t, optlen): nothing bigger is plausible.</summary>
    private const int MaxReportedLength = 1 << 20;

    public static void Collect(LinuxSyscall call, CallContext c, List<(ulong, long)> w)
    {
        if (Errno.IsError(c.Ret))
        {
            // Interrupted sleeps report the time left; nothing else is written by a failed call.
            if (Errno.IsInterruptedSleep(c.Ret))
                foreach (var arg in call.Args)
                    if (arg.Kind is SyscallArgKind.TimespecRem or SyscallArgKind.Timespec64Rem && !IsDeadline(call, c))
                        Add(w, c.Word(arg.Index), arg.Kind == SyscallArgKind.TimespecRem ? c.Layout.TimespecSize : LinuxLayout.Timespec64Size);
            return;
        }
        if (call.CustomWrites)
        {
            Custom(call.Name, c, w);
            return;
        }
        foreach (var arg in call.Args)
            if (SyscallArgKinds.KernelWrites(arg.Kind))
                Output(arg, c, w);
    }

    /// <summary>clock_nanosleep with TIMER_ABSTIME sleeps until a deadline and reports no time left.</summary>
    private static bool IsDeadline(LinuxSyscall call, CallContext c) =>
        call.IndexOf(SyscallArgKind.TimerFlags) is var flags and >= 0 && (c.Int(flags) & LinuxConstants.TIMER_ABSTIME) != 0;

    /// <summary>The size rule of each output kind: what the kernel writes through the argument of a call that succeeded.</summary>
    private static void Output(SyscallArg arg, CallContext c, List<(ulong, long)> w)
    {
        var layout = c.Layout;
        var ret = c.Ret;
        var at = c.Word(arg.Index);
        switch (arg.Kind)
        {
            // Buffers of the result's length, at most the buffer's size.
            case SyscallArgKind.OutBuf or SyscallArgKind.OutBufHex or SyscallArgKind.OutCwd
                or SyscallArgKind.DirentsOut or SyscallArgKind.Dirents64Out:
                Add(w, at, Math.Min(ret, Signed(c.Word(arg.Aux))));
                break;
            case SyscallArgKind.OutIovec: Iovecs(c, at, c.Word(arg.Aux), ret, w); break;
            case SyscallArgKind.CpuSetOut: Add(w, at, ret); break;
            case SyscallArgKind.EpollEventsOut: Add(w, at, ret * 12); break; // struct epoll_event is packed: 4 + 8 bytes
            case SyscallArgKind.GidsOut:
                if (c.Int(arg.Aux) > 0) // getgroups(0, list) only counts
                    Add(w, at, ret * layout.IdSize);
                break;
            case SyscallArgKind.Gids32Out:
                if (c.Int(arg.Aux) > 0)
                    Add(w, at, ret * 4);
                break;

            // Structures of a fixed size on each ABI.
            case SyscallArgKind.StatOut: Add(w, at, layout.StatSize); break;
            case SyscallArgKind.Stat64Out: Add(w, at, LinuxLayout.Stat64Size); break;
            case SyscallArgKind.StatxOut: Add(w, at, LinuxLayout.StatxSize); break;
            case SyscallArgKind.StatfsOut: Add(w, at, layout.StatfsSize); break;
            case SyscallArgKind.Statfs64Out: Add(w, at, LinuxLayout.Statfs64Size); break;
            case SyscallArgKind.UtsnameOut: Add(w, at, LinuxLayout.UtsnameSize); break;
            case SyscallArgKind.TimespecOut: Add(w, at, layout.TimespecSize); break;
            case SyscallArgKind.Timespec64Out: Add(w, at, LinuxLayout.Timespec64Size); break;
            case SyscallArgKind.TimevalOut: Add(w, at, layout.TimevalSize); break;
            case SyscallArgKind.TimezoneOut: Add(w, at, 8); break; // struct timezone: two ints
            case SyscallArgKind.TimeOut: Add(w, at, layout.WordSize); break; // time_t
            case SyscallArgKind.ItimervalOut: Add(w, at, layout.ItimervalSize); break;
            case SyscallArgKind.ItimerspecOut: Add(w, at, layout.ItimerspecSize); break;
            case SyscallArgKind.Itimerspec64Out: Add(w, at, 2 * LinuxLayout.Timespec64Size); break;
            case SyscallArgKind.RlimitOut: Add(w, at, layout.RlimitSize); break;
            case SyscallArgKind.Rlimit64Out: Add(w, at, LinuxLayout.Rlimit64Size); break;
            case SyscallArgKind.RusageOut: Add(w, at, layout.RusageSize); break;
            case SyscallArgKind.SysinfoOut: Add(w, at, layout.SysinfoSize); break;
            case SyscallArgKind.TmsOut: Add(w, at, layout.TmsSize); break;
            case SyscallArgKind.SiginfoOut: Add(w, at, LinuxLayout.SiginfoSize); break;
            case SyscallArgKind.SigactionOut: Add(w, at, layout.SigactionSize); break;
            case SyscallArgKind.StackOut: Add(w, at, layout.StackTSize); break;
            case SyscallArgKind.SigsetOut: Add(w, at, Math.Min(Signed(c.Word(arg.Aux)), 128)); break;
            case SyscallArgKind.PipeFds: Add(w, at, 8); break; // int[2]
            case SyscallArgKind.LoffOut or SyscallArgKind.LoffInOut: Add(w, at, 8); break; // loff_t
            case SyscallArgKind.OffInOut: Add(w, at, layout.WordSize); break; // off_t
            case SyscallArgKind.IdOut: Add(w, at, layout.IdSize); break;
            case SyscallArgKind.Id32Out or SyscallArgKind.U32Out: Add(w, at, 4); break;
            case SyscallArgKind.WordOut: Add(w, at, layout.WordSize); break;
            case SyscallArgKind.MincoreOut: Add(w, at, (long)((c.Word(arg.Aux) + 4095) / 4096)); break; // one byte per page
            case SyscallArgKind.RseqArea: Add(w, at, Math.Min(Signed(c.Word(arg.Aux)), 32)); break;
            // Registration writes cpu_id_start/cpu_id; later updates happen asynchronously (see KernelWriteSet).

            // Written only when a child was reaped.
            case SyscallArgKind.WaitStatusOut:
                if (ret > 0) Add(w, at, 4);
                break;
            case SyscallArgKind.WaitRusageOut:
                if (ret > 0) Add(w, at, layout.RusageSize);
                break;

            // Read, then rewritten.
            case SyscallArgKind.PollFds:
                // The kernel stores only revents (offset 6) of each struct pollfd.
                for (ulong i = 0; i < Math.Min(c.Word(arg.Aux), 4096UL); i++)
                    Add(w, at + i * 8 + 6, 2);
                break;
            case SyscallArgKind.FdSet:
                {
                    // fd_set bits are stored in whole longs, as many as nfds needs.
                    var nfds = c.Int(arg.Aux);
                    var bits = layout.WordSize * 8;
                    if (nfds > 0)
                        Add(w, at, (long)((Math.Min(nfds, 1 << 20) + bits - 1) / bits) * layout.WordSize);
                    break;
                }
            case SyscallArgKind.TimevalInOut: Add(w, at, layout.TimevalSize); break;
            case SyscallArgKind.TimespecInOut: Add(w, at, layout.TimespecSize); break;
            case SyscallArgKind.Timespec64InOut: Add(w, at, LinuxLayout.Timespec64Size); break;

            // Structures that point elsewhere.
            case SyscallArgKind.SockaddrOut: SockaddrAndLength(c, at, c.Word(arg.Aux), w); break;
            case SyscallArgKind.SockoptValOut:
                if (c.Reader.TryReadU32(c.Word(arg.Aux), out var optlen))
                    Add(w, at, Math.Min(optlen, MaxReportedLength));
                Add(w, c.Word(arg.Aux), 4);
                break;
            case SyscallArgKind.MsghdrOut: Msghdr(c, at, ret, w); break;
            case SyscallArgKind.MmsghdrOut:
                for (long i = 0; i < Math.Min(ret, MaxIov); i++)
                {
                    var header = at + (ulong)(i * layout.MmsghdrSize);
                    if (!c.Reader.TryReadU32(header + (ulong)layout.MsghdrSize, out var received))
                        break;
                    Msghdr(c, header, received, w);
                    Add(w, header + (ulong)layout.MsghdrSize, 4);
                }
                break;
            case SyscallArgKind.MmsghdrSent:
                for (long i = 0; i < Math.Min(ret, MaxIov); i++)
                    Add(w, at + (ulong)(i * layout.MmsghdrSize + layout.MsghdrSize), 4); // msg_len
                break;
            case SyscallArgKind.IoEventsOut: Add(w, at, ret * 32); break; // struct io_event: four 64-bit fields
            case SyscallArgKind.Clone3Args: Clone3(c, at, c.Word(arg.Index + 1), w); break;

            // TimespecRem/Timespec64Rem: written only when the sleep was interrupted (the failure path).
        }
    }

    /// <summary>The calls whose written memory depends on an operation code.</summary>
    private static void Custom(string name, CallContext c, List<(ulong, long)> w)
    {
        var ret = c.Ret;
        switch (name)
        {
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
            case "futex" or "futex_time64":
                Futex(c, w);
                break;
            case "ptrace":
                Ptrace(c, w);
                break;
            case "socketcall":
                Socketcall(c, w);
                break;
            case "select": // i386's old select(struct sel_arg_struct *): n, inp, outp, exp, tvp
                if (ReadU32s(c, c.Word(0), 5) is { } words)
                    Collect(LinuxSyscalls.I386.Find("_newselect")!, new CallContext(words, c.Reader, exiting: true, c.Ret), w);
                break;
            default:
                throw new InvalidOperationException($"system-call table: {name} has CustomWrites but no write rule here");
        }
    }

    /// <summary>The calls the rules above compute by code (a test checks the table marks exactly these).</summary>
    public static readonly IReadOnlySet<string> CustomNames =
        new HashSet<string>(StringComparer.Ordinal) { "ioctl", "arch_prctl", "prctl", "clone", "futex", "futex_time64", "ptrace", "socketcall", "select" };

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

    private static void Clone3(CallContext c, ulong args, ulong size, List<(ulong, long)> w)
    {
        if (c.Ret <= 0 || size < 64 || !c.Reader.TryReadU64(args, out var flags))
            return;
        if ((flags & (ulong)LinuxConstants.CLONE_PIDFD) != 0 && c.Reader.TryReadU64(args + 8, out var pidfd))
            Add(w, pidfd, 4);
        if ((flags & (ulong)LinuxConstants.CLONE_PARENT_SETTID) != 0 && c.Reader.TryReadU64(args + 24, out var parentTid))
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

    /// <summary>i386 socketcall: the rules of the call it reaches, applied to the arguments read from the array.</summary>
    private static void Socketcall(CallContext c, List<(ulong, long)> w)
    {
        if (LinuxCallRenderer.SocketcallTarget(c.Int(0)) is not { } direct)
            return;
        // Words past an unreadable one stay 0, as the kernel's copy would have failed there.
        var words = new ulong[6];
        for (var i = 0; i < words.Length && c.Reader.TryReadU32(c.Word(1) + (ulong)(i * 4), out var word); i++)
            words[i] = word;
        Collect(direct, new CallContext(words, c.Reader, exiting: true, c.Ret), w);
    }

    /// <summary>An i386 argument block of <paramref name="count"/> 32-bit words, or null when any is unreadable.</summary>
    private static ulong[]? ReadU32s(CallContext c, ulong address, int count)
    {
        var words = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            if (!c.Reader.TryReadU32(address + (ulong)(i * 4), out var word))
                return null;
            words[i] = word;
        }
        return words;
    }
}
