using System.Text;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>Renders one argument of a call from its <see cref="SyscallArg"/> (kind, raw argument, helper argument).</summary>
internal static class ArgRenderer
{
    /// <summary>The argument's text, or null when strace leaves it out (openat's mode without O_CREAT).</summary>
    public static string? Render(SyscallArg spec, ref CallContext c)
    {
        var i = spec.Index;
        var reader = c.Reader;
        switch (spec.Kind)
        {
            case SyscallArgKind.Int: return Dec(c.Int(i));
            case SyscallArgKind.UInt: return UDec(c.UInt(i));
            case SyscallArgKind.Long: return Dec(c.SignedWord(i));
            case SyscallArgKind.ULong: return UDec(c.Word(i));
            case SyscallArgKind.Hex: return Hex(c.Word(i));
            case SyscallArgKind.Addr: return Addr(c.Word(i));
            case SyscallArgKind.Fd or SyscallArgKind.Pid or SyscallArgKind.TimeoutMs: return Dec(c.Int(i));
            case SyscallArgKind.Seconds: return UDec(c.UInt(i));
            case SyscallArgKind.Loff: return Dec(c.Layout.Is64 ? c.SignedWord(i) : (long)((ulong)c.UInt(i + 1) << 32 | c.UInt(i)));
            case SyscallArgKind.DirFd: return c.Int(i) == LinuxConstants.AT_FDCWD ? "AT_FDCWD" : Dec(c.Int(i));
            case SyscallArgKind.Mode: return Octal(c.UInt(i));
            case SyscallArgKind.Signal: return Signal(c.Int(i));
            case SyscallArgKind.PageOffset: return Hex(c.Word(i) * 4096);
            case SyscallArgKind.LlseekOffset: return Dec((long)((ulong)c.UInt(i) << 32 | c.UInt(i + 1)));

            case SyscallArgKind.FilePath: return StringRenderer.Path(reader, c.Word(i));
            case SyscallArgKind.Str: return StringRenderer.CString(reader, c.Word(i));
            case SyscallArgKind.InBuf: return StringRenderer.Buffer(reader, c.Word(i), c.Word(spec.Aux));
            case SyscallArgKind.InIovec: return StringRenderer.Iovec(reader, c.Word(i), c.Word(spec.Aux), null);
            case SyscallArgKind.Argv: return StringRenderer.Argv(reader, c.Word(i));
            case SyscallArgKind.Envp: return StringRenderer.Envp(reader, c.Word(i));

            case SyscallArgKind.OpenFlags: return OpenFlags(c.UInt(i));
            case SyscallArgKind.OpenMode:
                {
                    var flags = c.UInt(spec.Aux);
                    var tmpfile = (ulong)LinuxConstants.O_TMPFILE;
                    return (flags & LinuxConstants.O_CREAT) != 0 || (flags & tmpfile) == tmpfile ? Octal(c.UInt(i)) : null;
                }
            case SyscallArgKind.OFlags: return Flags(LinuxConstants.OpenFlags, c.UInt(i), "O_???");
            case SyscallArgKind.AtFlags: return Flags(LinuxConstants.AtFlags, c.UInt(i), "AT_???");
            case SyscallArgKind.FaccessatFlags: return Flags(LinuxConstants.FaccessatFlags, c.UInt(i), "AT_???");
            case SyscallArgKind.AccessMode: return Flags(LinuxConstants.AccessModes, c.UInt(i), "?_OK");
            case SyscallArgKind.Prot: return Flags(LinuxConstants.MemoryProtections, c.Word(i), "PROT_???");
            case SyscallArgKind.MapFlags: return MapFlags(c.Word(i));
            case SyscallArgKind.MremapFlags: return Flags(LinuxConstants.MremapFlags, c.Word(i), "MREMAP_???");
            case SyscallArgKind.MremapNewAddr:
                return (c.Word(spec.Aux) & (ulong)LinuxConstants.MREMAP_FIXED) != 0 ? Addr(c.Word(i)) : null;
            case SyscallArgKind.MsyncFlags: return Flags(LinuxConstants.MsyncFlags, c.Word(i), "MS_???");
            case SyscallArgKind.Madvise: return XvalInt(LinuxConstants.MadviseAdvice, c.Word(i), "MADV_???");
            case SyscallArgKind.Whence: return XvalInt(LinuxConstants.SeekWhence, c.Word(i), "SEEK_???");
            case SyscallArgKind.RlimitResource: return XvalInt(LinuxConstants.RlimitResources, c.Word(i), "RLIMIT_???");
            case SyscallArgKind.RusageWho: return XvalInt(LinuxConstants.RusageWho, c.Word(i), "RUSAGE_???");
            case SyscallArgKind.ClockId: return XvalInt(LinuxConstants.ClockIds, c.Word(i), "CLOCK_???");
            case SyscallArgKind.TimerFlags: return Flags(LinuxConstants.TimerFlags, c.UInt(i), "TIMER_???");
            case SyscallArgKind.GrndFlags: return Flags(LinuxConstants.GetrandomFlags, c.UInt(i), "GRND_???");
            case SyscallArgKind.MemfdFlags: return Flags(LinuxConstants.MemfdFlags, c.UInt(i), "MFD_???");
            case SyscallArgKind.FlockOp: return Flags(LinuxConstants.FlockOperations, c.UInt(i), "LOCK_???");
            case SyscallArgKind.SigprocmaskHow: return XvalInt(LinuxConstants.SigprocmaskHows, c.Word(i), "SIG_???");
            case SyscallArgKind.WaitOptions: return Flags(LinuxConstants.WaitOptions, c.UInt(i), "W???");
            case SyscallArgKind.StatxFlags: return StatxFlags(c.UInt(i));
            case SyscallArgKind.StatxMask: return Flags(LinuxConstants.StatxMask, c.UInt(i), "STATX_???");
            case SyscallArgKind.SocketFamily: return XvalInt(LinuxConstants.AddressFamilies, c.Word(i), "AF_???");
            case SyscallArgKind.SocketType: return SocketType(c.UInt(i));
            case SyscallArgKind.SocketProtocol:
                {
                    var family = c.Int(spec.Aux);
                    return family == LinuxConstants.AF_INET || family == LinuxConstants.AF_INET6
                        ? XvalInt(LinuxConstants.IpProtocols, c.Word(i), "IPPROTO_???")
                        : Dec(c.Int(i));
                }
            case SyscallArgKind.SocketTypeFlags: return Flags(LinuxConstants.SocketTypeFlags, c.UInt(i), "SOCK_???");
            case SyscallArgKind.MsgFlags: return Flags(LinuxConstants.MessageFlags, c.UInt(i), "MSG_???");
            case SyscallArgKind.ShutdownHow: return XvalInt(LinuxConstants.ShutdownHows, c.Word(i), "SHUT_???");
            case SyscallArgKind.SockoptLevel: return c.Int(i) == LinuxConstants.SOL_SOCKET ? "SOL_SOCKET" : XvalInt(LinuxConstants.IpProtocols, c.Word(i), "SOL_???");
            case SyscallArgKind.SockoptName:
                return c.Int(spec.Aux) == LinuxConstants.SOL_SOCKET
                    ? XvalInt(LinuxConstants.SocketOptionsSolSocket, c.Word(i), "SO_???")
                    : Dec(c.Int(i));
            case SyscallArgKind.ItimerWhich: return XvalInt(LinuxConstants.ItimerWhich, c.Word(i), "ITIMER_???");
            case SyscallArgKind.PtraceRequest: return Xval(LinuxConstants.PtraceRequests, c.SignedWord(i), "PTRACE_???");
            case SyscallArgKind.PrctlOption: return XvalInt(LinuxConstants.PrctlOptions, c.Word(i), "PR_???");
            case SyscallArgKind.FadviseAdvice: return XvalInt(LinuxConstants.FadviseAdvice, c.Word(i), "POSIX_FADV_???");
            case SyscallArgKind.CpuSetIn: return StructRenderer.CpuSet(reader, c.Word(i), (long)Math.Min(c.Word(spec.Aux), 1UL << 20));

            case SyscallArgKind.TimespecIn: return StructRenderer.Timespec(reader, c.Word(i), wide64: false);
            case SyscallArgKind.Timespec64In: return StructRenderer.Timespec(reader, c.Word(i), wide64: true);
            case SyscallArgKind.RlimitIn: return StructRenderer.Rlimit(reader, c.Word(i), wide64: false);
            case SyscallArgKind.Rlimit64In: return StructRenderer.Rlimit(reader, c.Word(i), wide64: true);
            case SyscallArgKind.SigsetIn: return StructRenderer.Sigset(reader, c.Word(i), c.Word(spec.Aux));
            case SyscallArgKind.SigactionIn: return StructRenderer.Sigaction(reader, c.Word(i));
            case SyscallArgKind.SockaddrIn: return SockaddrRenderer.Render(reader, c.Word(i), c.Int(spec.Aux));
            case SyscallArgKind.MsghdrIn: return Msghdr(ref c, c.Word(i), null);
            case SyscallArgKind.SockoptValIn: return StringRenderer.Buffer(reader, c.Word(i), c.UInt(spec.Aux));
            case SyscallArgKind.PollFds: return StructRenderer.PollFds(reader, c.Word(i), c.UInt(spec.Aux));
            // Outputs printed as the pointer (the kernel writes them; see SyscallArgKind's remarks).
            case SyscallArgKind.StatfsOut or SyscallArgKind.TimezoneOut or SyscallArgKind.ItimervalIn or SyscallArgKind.ItimervalOut
                or SyscallArgKind.OffInOut or SyscallArgKind.LoffInOut or SyscallArgKind.MincoreOut or SyscallArgKind.RseqArea:
                return Addr(c.Word(i));
            case SyscallArgKind.Clone3Args:
                {
                    var after = c.Succeeded;
                    if (after)
                        c.RenderedOutput = true;
                    return StructRenderer.Clone3(reader, c.Word(i), c.Word(i + 1), after);
                }
        }
        return RenderOutput(spec, ref c);
    }

    /// <summary>Output arguments: the pointer until the kernel has filled them.</summary>
    private static string RenderOutput(SyscallArg spec, ref CallContext c)
    {
        var i = spec.Index;
        var address = c.Word(i);
        if (!CallSpec.IsPrintedAfterCall(spec.Kind))
            return Addr(address); // no renderer for its contents yet
        var reader = c.Reader;
        var filled = spec.Kind switch
        {
            SyscallArgKind.TimespecRem => c.Exiting && Errno.IsInterruptedSleep(c.Ret),
            SyscallArgKind.WaitStatusOut or SyscallArgKind.WaitRusageOut => c.Succeeded && c.Ret > 0,
            _ => c.Succeeded,
        };
        if (!filled || address == 0)
            return Addr(address);
        c.RenderedOutput = true;
        var ret = c.Ret;
        return spec.Kind switch
        {
            SyscallArgKind.OutBuf => StringRenderer.Buffer(reader, address, Clamp(ret, c.Word(spec.Aux))),
            SyscallArgKind.OutBufHex => StringRenderer.Buffer(reader, address, Clamp(ret, c.Word(spec.Aux)), hexAll: true),
            SyscallArgKind.OutCwd => ret > 0 ? StringRenderer.Terminated(reader, address, (int)Math.Min(ret, PathMax)) : Addr(address),
            SyscallArgKind.OutIovec => StringRenderer.Iovec(reader, address, c.Word(spec.Aux), (ulong)Math.Max(ret, 0)),
            SyscallArgKind.StatOut => StructRenderer.Stat(reader, address),
            SyscallArgKind.Stat64Out => StructRenderer.Stat64(reader, address),
            SyscallArgKind.StatxOut => StructRenderer.Statx(reader, address),
            SyscallArgKind.UtsnameOut => StructRenderer.Utsname(reader, address),
            SyscallArgKind.TimespecOut or SyscallArgKind.TimespecRem => StructRenderer.Timespec(reader, address, wide64: false),
            SyscallArgKind.Timespec64Out => StructRenderer.Timespec(reader, address, wide64: true),
            SyscallArgKind.TimevalOut => StructRenderer.Timeval(reader, address),
            SyscallArgKind.RlimitOut => StructRenderer.Rlimit(reader, address, wide64: false),
            SyscallArgKind.Rlimit64Out => StructRenderer.Rlimit(reader, address, wide64: true),
            SyscallArgKind.RusageOut or SyscallArgKind.WaitRusageOut => StructRenderer.Rusage(reader, address),
            SyscallArgKind.WaitStatusOut => reader.TryReadU32(address, out var status) ? StructRenderer.WaitStatus((int)status) : Addr(address),
            SyscallArgKind.PipeFds => StructRenderer.PipeFds(reader, address),
            SyscallArgKind.LoffOut => StructRenderer.LongAt(reader, address),
            SyscallArgKind.SysinfoOut => StructRenderer.Sysinfo(reader, address),
            SyscallArgKind.TmsOut => StructRenderer.Tms(reader, address),
            SyscallArgKind.DirentsOut => StructRenderer.Dirents(reader, address, (long)Clamp(ret, c.Word(spec.Aux)), dirent64: false),
            SyscallArgKind.Dirents64Out => StructRenderer.Dirents(reader, address, (long)Clamp(ret, c.Word(spec.Aux)), dirent64: true),
            SyscallArgKind.SigsetOut => StructRenderer.Sigset(reader, address, c.Word(spec.Aux)),
            SyscallArgKind.SigactionOut => StructRenderer.Sigaction(reader, address),
            SyscallArgKind.SockaddrOut => reader.TryReadU32(c.Word(spec.Aux), out var length)
                ? SockaddrRenderer.Render(reader, address, length)
                : Addr(address),
            SyscallArgKind.SocklenOut => StructRenderer.IntAt(reader, address),
            SyscallArgKind.GidsOut => StructRenderer.Ids(reader, address, Math.Min(ret, c.Int(spec.Aux)), c.Layout.IdSize),
            SyscallArgKind.Gids32Out => StructRenderer.Ids(reader, address, Math.Min(ret, c.Int(spec.Aux)), 4),
            SyscallArgKind.CpuSetOut => StructRenderer.CpuSet(reader, address, ret),
            SyscallArgKind.MsghdrOut => Msghdr(ref c, address, (ulong)Math.Max(ret, 0)),
            SyscallArgKind.SockoptValOut => reader.TryReadU32(c.Word(spec.Aux), out var optlen)
                ? StringRenderer.Buffer(reader, address, optlen)
                : Addr(address),
            _ => Addr(address),
        };
    }

    private static ulong Clamp(long ret, ulong size) => ret <= 0 ? 0 : Math.Min((ulong)ret, size);

    public static string OpenFlags(uint flags)
    {
        var sb = new StringBuilder();
        sb.Append(LinuxConstants.OpenAccessModes.NameOf(flags & LinuxConstants.O_ACCMODE));
        ulong rest = flags & ~(uint)LinuxConstants.O_ACCMODE;
        if (rest != 0)
        {
            var flagsText = new StringBuilder();
            AppendFlags(flagsText, LinuxConstants.OpenFlags, ref rest);
            if (rest != 0)
                flagsText.Append(flagsText.Length > 0 ? "|" : "").Append(Hex(rest));
            sb.Append('|').Append(flagsText);
        }
        return sb.ToString();
    }

    /// <summary>mmap flags: the MAP_TYPE field, the flags, and huge page sizes as N&lt;&lt;MAP_HUGE_SHIFT.</summary>
    public static string MapFlags(ulong flags)
    {
        var type = flags & (ulong)LinuxConstants.MAP_TYPE;
        var sb = new StringBuilder();
        var typeName = LinuxConstants.MapTypes.NameOf((long)type);
        if (typeName is not null)
            sb.Append(typeName);
        else if (type != 0)
            sb.Append(Hex(type)).Append(" /* MAP_??? */");
        var rest = flags & ~(ulong)LinuxConstants.MAP_TYPE;
        var hugeShift = (int)LinuxConstants.MAP_HUGE_SHIFT;
        var huge = (rest >> hugeShift) & (ulong)LinuxConstants.MAP_HUGE_MASK;
        rest &= ~((ulong)LinuxConstants.MAP_HUGE_MASK << hugeShift);
        var named = new StringBuilder();
        AppendFlags(named, LinuxConstants.MapFlags, ref rest);
        if (named.Length > 0)
            sb.Append(sb.Length > 0 ? "|" : "").Append(named);
        if (huge != 0)
            sb.Append(sb.Length > 0 ? "|" : "").Append(UDec(huge)).Append("<<MAP_HUGE_SHIFT");
        if (rest != 0)
            sb.Append(sb.Length > 0 ? "|" : "").Append(Hex(rest));
        return sb.Length > 0 ? sb.ToString() : "0";
    }

    /// <summary>statx flags: the sync type first (AT_STATX_SYNC_AS_STAT is 0 and always printed), then AT_* flags.</summary>
    public static string StatxFlags(uint flags)
    {
        var syncType = flags & (uint)LinuxConstants.AT_STATX_SYNC_TYPE;
        var sb = new StringBuilder(LinuxConstants.StatxSyncTypes.NameOf(syncType) ?? Hex(syncType));
        ulong rest = flags & ~(uint)LinuxConstants.AT_STATX_SYNC_TYPE;
        var named = new StringBuilder();
        AppendFlags(named, LinuxConstants.AtFlags, ref rest);
        if (named.Length > 0)
            sb.Append('|').Append(named);
        if (rest != 0)
            sb.Append('|').Append(Hex(rest));
        return sb.ToString();
    }

    /// <summary>socket type: SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK.</summary>
    public static string SocketType(uint type)
    {
        const uint typeMask = 0xf; // SOCK_TYPE_MASK, kernel-internal (include/linux/net.h)
        var sb = new StringBuilder(XvalInt(LinuxConstants.SocketTypes, type & typeMask, "SOCK_???"));
        ulong rest = type & ~typeMask;
        if (rest != 0)
        {
            var named = new StringBuilder();
            AppendFlags(named, LinuxConstants.SocketTypeFlags, ref rest);
            if (named.Length > 0)
                sb.Append('|').Append(named);
            if (rest != 0)
                sb.Append('|').Append(Hex(rest));
        }
        return sb.ToString();
    }

    /// <summary>struct msghdr: {msg_name=..., msg_namelen=N, msg_iov=[...], msg_iovlen=N, msg_controllen=N, msg_flags=...}.</summary>
    private static string Msghdr(ref CallContext c, ulong address, ulong? dataSize)
    {
        var reader = c.Reader;
        var layout = reader.Layout;
        if (address == 0)
            return "NULL";
        if (reader.ReadStruct(address, layout.MsghdrSize) is not { } b)
            return Addr(address);
        ulong Word(int at) => layout.Is64 ? BitConverter.ToUInt64(b, at) : BitConverter.ToUInt32(b, at);
        var name = Word(layout.MsgNameOffset);
        var namelen = BitConverter.ToUInt32(b, layout.MsgNamelenOffset);
        var iov = Word(layout.MsgIovOffset);
        var iovlen = Word(layout.MsgIovlenOffset);
        var control = Word(layout.MsgControlOffset);
        var controllen = Word(layout.MsgControllenOffset);
        var flags = BitConverter.ToUInt32(b, layout.MsgFlagsOffset);
        var sb = new StringBuilder("{msg_name=")
            .Append(name == 0 ? "NULL" : SockaddrRenderer.Render(reader, name, namelen))
            .Append(", msg_namelen=").Append(namelen)
            .Append(", msg_iov=").Append(StringRenderer.Iovec(reader, iov, iovlen, dataSize))
            .Append(", msg_iovlen=").Append(UDec(iovlen));
        if (control != 0)
            sb.Append(", msg_control=").Append(Addr(control));
        sb.Append(", msg_controllen=").Append(UDec(controllen))
            .Append(", msg_flags=").Append(Flags(LinuxConstants.MessageFlags, flags, "MSG_???"))
            .Append('}');
        return sb.ToString();
    }
}
