using System.Text;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// Calls whose printed arguments depend on another argument's value (clone, futex, fcntl, ioctl, ...):
/// the rows the system-call table marks <see cref="SyscallText.Custom"/>, printed by code.
/// </summary>
internal static class CustomCalls
{
    /// <summary>The renderer of each Custom row, and whether it prints something different after the call.</summary>
    public static readonly IReadOnlyDictionary<string, (CustomRenderer Render, bool HasOutput)> Renderers =
        new Dictionary<string, (CustomRenderer, bool)>(StringComparer.Ordinal)
        {
            ["clone"] = (Clone, true),
            ["futex"] = (Futex, false),
            ["futex_time64"] = (FutexTime64, false),
            ["fcntl"] = (Fcntl, false),
            ["fcntl64"] = (Fcntl, false),
            ["ioctl"] = (Ioctl, true),
            ["prctl"] = (Prctl, true),
            ["arch_prctl"] = (ArchPrctl, true),
            ["ptrace"] = (Ptrace, true),
            ["rt_sigreturn"] = (NoArguments, false),
            ["sigreturn"] = (NoArguments, false),
            ["restart_syscall"] = (NoArguments, false),
            ["mmap"] = (LinuxCallRenderer.OldMmap, false), // i386's old mmap; x86-64's mmap is a regular row
            ["socketcall"] = (LinuxCallRenderer.Socketcall, true),
        };

    /// <summary>clone: child_stack=..., flags=...|SIGCHLD, [parent_tid=...,] [tls=...,] [child_tidptr=...].</summary>
    public static void Clone(ref CallContext c, List<string> output)
    {
        // Register order differs: x86-64 clone(flags, stack, ptid, ctid, tls), i386 clone(flags, stack, ptid, tls, ctid).
        var is64 = c.Layout.Is64;
        int tlsIndex = is64 ? 4 : 3, ctidIndex = is64 ? 3 : 4;
        var raw = c.Word(0);
        var flags = raw & ~(ulong)LinuxConstants.CSIGNAL;
        var signal = (int)(raw & (ulong)LinuxConstants.CSIGNAL);
        output.Add("child_stack=" + Addr(c.Word(1)));
        output.Add("flags=" + (flags != 0
            ? Flags(LinuxConstants.CloneFlags, flags, "CLONE_???") + (signal != 0 ? "|" + Signal(signal) : "")
            : Signal(signal)));
        if ((flags & (ulong)(LinuxConstants.CLONE_PARENT_SETTID | LinuxConstants.CLONE_PIDFD)) != 0)
        {
            var ptid = c.Word(2);
            if (c.Succeeded)
            {
                c.RenderedOutput = true;
                output.Add("parent_tid=" + StructRenderer.IntAt(c.Reader, ptid));
            }
            else
            {
                output.Add("parent_tid=" + Addr(ptid));
            }
        }
        if ((flags & (ulong)LinuxConstants.CLONE_SETTLS) != 0)
            output.Add("tls=" + Addr(c.Word(tlsIndex)));
        if ((flags & (ulong)(LinuxConstants.CLONE_CHILD_SETTID | LinuxConstants.CLONE_CHILD_CLEARTID)) != 0)
            output.Add("child_tidptr=" + Addr(c.Word(ctidIndex)));
    }

    public static void Futex(ref CallContext c, List<string> output) => FutexWith(ref c, output, time64: false);

    public static void FutexTime64(ref CallContext c, List<string> output) => FutexWith(ref c, output, time64: true);

    private static void FutexWith(ref CallContext c, List<string> output, bool time64)
    {
        var op = c.UInt(1);
        var isPrivate = (op & LinuxConstants.FUTEX_PRIVATE_FLAG) != 0;
        var realtime = (op & LinuxConstants.FUTEX_CLOCK_REALTIME) != 0;
        var cmd = op & ~(uint)(LinuxConstants.FUTEX_PRIVATE_FLAG | LinuxConstants.FUTEX_CLOCK_REALTIME);
        var cmdName = LinuxConstants.FutexCommands.NameOf(cmd);
        output.Add(Addr(c.Word(0)));
        output.Add(cmdName is null
            ? Hex(op) + " /* FUTEX_??? */"
            : cmdName + (isPrivate ? "_PRIVATE" : "") + (realtime ? "|FUTEX_CLOCK_REALTIME" : ""));
        var reader = c.Reader;
        var val = UDec(c.UInt(2));
        var val2 = UDec(c.UInt(3));
        var timeoutAddress = c.Word(3);
        var uaddr2 = Addr(c.Word(4));
        var val3 = c.UInt(5);
        var bitset = val3 == (uint)LinuxConstants.FUTEX_BITSET_MATCH_ANY ? "FUTEX_BITSET_MATCH_ANY" : Hex(val3);
        string Timeout() => StructRenderer.Timespec(reader, timeoutAddress, time64);
        switch (cmdName)
        {
            case "FUTEX_WAIT": output.Add(val); output.Add(Timeout()); break;
            case "FUTEX_LOCK_PI" or "FUTEX_LOCK_PI2": output.Add(Timeout()); break;
            case "FUTEX_WAIT_BITSET": output.Add(val); output.Add(Timeout()); output.Add(bitset); break;
            case "FUTEX_WAKE_BITSET": output.Add(val); output.Add(bitset); break;
            case "FUTEX_REQUEUE": output.Add(val); output.Add(val2); output.Add(uaddr2); break;
            case "FUTEX_CMP_REQUEUE" or "FUTEX_CMP_REQUEUE_PI":
                output.Add(val); output.Add(val2); output.Add(uaddr2); output.Add(UDec(val3)); break;
            case "FUTEX_WAKE_OP": output.Add(val); output.Add(val2); output.Add(uaddr2); output.Add(Hex(val3)); break;
            case "FUTEX_WAIT_REQUEUE_PI": output.Add(val); output.Add(Timeout()); output.Add(uaddr2); break;
            case "FUTEX_FD" or "FUTEX_WAKE": output.Add(val); break;
            case "FUTEX_UNLOCK_PI" or "FUTEX_TRYLOCK_PI": break;
            default: output.Add(val); output.Add(Addr(timeoutAddress)); output.Add(uaddr2); output.Add(Hex(val3)); break;
        }
    }

    public static void Fcntl(ref CallContext c, List<string> output)
    {
        var cmd = c.Int(1);
        output.Add(Dec(c.Int(0)));
        output.Add(XvalInt(LinuxConstants.FcntlCommands, c.Word(1), "F_???"));
        var arg = FcntlArgument(ref c, cmd);
        if (arg is not null)
            output.Add(arg);
    }

    private static string? FcntlArgument(ref CallContext c, int cmd)
    {
        var name = LinuxConstants.FcntlCommands.NameOf(cmd);
        return name switch
        {
            "F_GETFD" or "F_GETFL" or "F_GETOWN" or "F_GETSIG" or "F_GETLEASE" or "F_GETPIPE_SZ" or "F_GET_SEALS" => null,
            "F_SETFD" => Flags(LinuxConstants.FdFlags, c.UInt(2), "FD_???"),
            "F_SETFL" => ArgRenderer.OpenFlags(c.UInt(2)),
            "F_DUPFD" or "F_DUPFD_CLOEXEC" or "F_SETOWN" or "F_SETPIPE_SZ" or "F_SETLEASE" => Dec(c.Int(2)),
            "F_SETSIG" => Signal(c.Int(2)),
            "F_GETLK" or "F_SETLK" or "F_SETLKW" or "F_OFD_GETLK" or "F_OFD_SETLK" or "F_OFD_SETLKW"
                or "F_GETOWN_EX" or "F_SETOWN_EX" => Addr(c.Word(2)),
            _ => Hex(c.Word(2)),
        };
    }

    /// <summary>The "(flags ...)" strace adds to the results of F_GETFL and F_GETFD.</summary>
    public static string FcntlReturn(ReadOnlySpan<ulong> args, long ret)
    {
        var cmd = args.Length > 1 ? (int)(uint)args[1] : -1;
        if (cmd == LinuxConstants.F_GETFL)
            return Hex((ulong)ret) + " (flags " + ArgRenderer.OpenFlags((uint)ret) + ")";
        if (cmd == LinuxConstants.F_GETFD && ret != 0)
            return Hex((ulong)ret) + " (flags " + Flags(LinuxConstants.FdFlags, (ulong)ret, "FD_???") + ")";
        return Dec(ret);
    }

    public static void Ioctl(ref CallContext c, List<string> output)
    {
        var request = c.UInt(1);
        var name = LinuxConstants.IoctlRequests.NameOf(request);
        output.Add(Dec(c.Int(0)));
        output.Add(name ?? IocText(request));
        var arg = c.Word(2);
        var reader = c.Reader;
        switch (name)
        {
            case "FIOCLEX" or "FIONCLEX" or "TIOCNOTTY" or "TIOCEXCL" or "TIOCNXCL" or "TIOCCBRK" or "TIOCSBRK":
                return;
            case "TIOCGWINSZ":
                output.Add(Filled(ref c) ? StructRenderer.Winsize(reader, arg) : Addr(arg));
                return;
            case "TIOCSWINSZ":
                output.Add(StructRenderer.Winsize(reader, arg));
                return;
            case "FIONREAD" or "TIOCINQ" or "TIOCOUTQ" or "TIOCGPGRP" or "TIOCGSID" or "TIOCGPTN":
                output.Add(Filled(ref c) ? StructRenderer.IntAt(reader, arg) : Addr(arg));
                return;
            case "FIONBIO" or "FIOASYNC" or "TIOCSPGRP" or "TIOCSPTLCK":
                output.Add(StructRenderer.IntAt(reader, arg));
                return;
            default:
                // A pointer or a number depending on the request; strace shows unknown ones in hex.
                output.Add(Hex(arg));
                return;
        }
    }

    private static bool Filled(ref CallContext c)
    {
        if (!c.Succeeded)
            return false;
        c.RenderedOutput = true;
        return true;
    }

    /// <summary>strace's rendering of an unknown ioctl: _IOC(_IOC_READ, 0x54, 0x2a, 0x2c).</summary>
    public static string IocText(uint request)
    {
        var dir = request >> 30;
        var dirText = dir switch
        {
            0 => "_IOC_NONE",
            1 => "_IOC_WRITE",
            2 => "_IOC_READ",
            _ => "_IOC_READ|_IOC_WRITE",
        };
        return $"_IOC({dirText}, {Hex((request >> 8) & 0xff)}, {Hex(request & 0xff)}, {Hex((request >> 16) & 0x3fff)})";
    }

    public static void Prctl(ref CallContext c, List<string> output)
    {
        var option = LinuxConstants.PrctlOptions.NameOf(c.Int(0));
        output.Add(XvalInt(LinuxConstants.PrctlOptions, c.Word(0), "PR_???"));
        var reader = c.Reader;
        switch (option)
        {
            case "PR_SET_NAME":
                output.Add(StringRenderer.Terminated(reader, c.Word(1), 15));
                return;
            case "PR_GET_NAME":
                output.Add(Filled(ref c) ? StringRenderer.Terminated(reader, c.Word(1), 15) : Addr(c.Word(1)));
                return;
            case "PR_SET_PDEATHSIG":
                output.Add(Signal(c.Int(1)));
                return;
            case "PR_SET_DUMPABLE" or "PR_SET_KEEPCAPS" or "PR_SET_NO_NEW_PRIVS" or "PR_SET_CHILD_SUBREAPER"
                or "PR_SET_PTRACER" or "PR_SET_TIMERSLACK" or "PR_SET_THP_DISABLE":
                output.Add(Dec(c.SignedWord(1)));
                return;
            case "PR_GET_DUMPABLE" or "PR_GET_KEEPCAPS" or "PR_GET_SECCOMP" or "PR_GET_NO_NEW_PRIVS"
                or "PR_GET_TIMERSLACK" or "PR_GET_THP_DISABLE" or "PR_GET_IO_FLUSHER":
                return;
            default:
                for (var i = 1; i <= 4; i++)
                    output.Add(Hex(c.Word(i)));
                return;
        }
    }

    public static void ArchPrctl(ref CallContext c, List<string> output)
    {
        var code = c.Int(0);
        output.Add(XvalInt(LinuxConstants.ArchPrctlCodes, c.Word(0), "ARCH_???"));
        var arg = c.Word(1);
        if (code == LinuxConstants.ARCH_GET_FS || code == LinuxConstants.ARCH_GET_GS)
            output.Add(Filled(ref c) ? StructRenderer.HexWordAt(c.Reader, arg) : Addr(arg));
        else if (code == LinuxConstants.ARCH_GET_CPUID)
            return;
        else if (LinuxConstants.ArchPrctlCodes.NameOf(code) is not null)
            output.Add(Hex(arg));
        else
            output.Add(Addr(arg));
    }

    public static void Ptrace(ref CallContext c, List<string> output)
    {
        var request = LinuxConstants.PtraceRequests.NameOf(c.SignedWord(0));
        output.Add(Xval(LinuxConstants.PtraceRequests, c.SignedWord(0), "PTRACE_???"));
        switch (request)
        {
            case "PTRACE_TRACEME":
                return;
            case "PTRACE_ATTACH" or "PTRACE_INTERRUPT" or "PTRACE_KILL" or "PTRACE_LISTEN":
                output.Add(Dec(c.Int(1)));
                return;
            case "PTRACE_PEEKTEXT" or "PTRACE_PEEKDATA" or "PTRACE_PEEKUSR":
                output.Add(Dec(c.Int(1)));
                output.Add(Addr(c.Word(2)));
                output.Add(Filled(ref c) ? StructRenderer.HexWordAt(c.Reader, c.Word(3)) : Addr(c.Word(3)));
                return;
            case "PTRACE_CONT" or "PTRACE_SYSCALL" or "PTRACE_SINGLESTEP" or "PTRACE_DETACH" or "PTRACE_SYSEMU"
                or "PTRACE_SYSEMU_SINGLESTEP" or "PTRACE_SINGLEBLOCK":
                output.Add(Dec(c.Int(1)));
                output.Add(Addr(c.Word(2)));
                output.Add(Signal(c.Int(3)));
                return;
            default:
                output.Add(Dec(c.Int(1)));
                output.Add(Addr(c.Word(2)));
                output.Add(Hex(c.Word(3)));
                return;
        }
    }

    /// <summary>Calls that print no arguments at all (rt_sigreturn reads its frame from the stack).</summary>
    public static void NoArguments(ref CallContext c, List<string> output)
    {
    }
}
