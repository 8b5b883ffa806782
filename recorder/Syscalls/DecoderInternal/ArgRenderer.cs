using System.Text;
using Ether.Replay.Formats.Abi;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>Renders one argument of a call from its <see cref="ArgSpec"/>.</summary>
internal static class ArgRenderer
{
    private const int EINTR = 4;
    private const int ERESTART_RESTARTBLOCK = 516; // kernel-internal, seen by tracers

    /// <summary>The argument's text, or null when strace leaves it out (openat's mode without O_CREAT).</summary>
    public static string? Render(ArgSpec spec, ref CallContext c)
    {
        var i = spec.Index;
        var reader = c.Reader;
        switch (spec.Kind)
        {
            case ArgKind.Int: return Dec(c.Int(i));
            case ArgKind.UInt: return UDec(c.UInt(i));
            case ArgKind.Long: return Dec(c.SignedWord(i));
            case ArgKind.ULong: return UDec(c.Word(i));
            case ArgKind.Hex: return Hex(c.Word(i));
            case ArgKind.Addr: return Addr(c.Word(i));
            case ArgKind.Fd: return Dec(c.Int(i));
            case ArgKind.DirFd: return c.Int(i) == LinuxConstants.AT_FDCWD ? "AT_FDCWD" : Dec(c.Int(i));
            case ArgKind.Mode: return Octal(c.UInt(i));
            case ArgKind.Signal: return Signal(c.Int(i));
            case ArgKind.PageOffset: return Hex(c.Word(i) * 4096);
            case ArgKind.LlseekOffset: return Dec((long)((ulong)c.UInt(i) << 32 | c.UInt(i + 1)));

            case ArgKind.FilePath: return StringRenderer.Path(reader, c.Word(i));
            case ArgKind.Str: return StringRenderer.CString(reader, c.Word(i));
            case ArgKind.InBuf: return StringRenderer.Buffer(reader, c.Word(i), c.Word(spec.Aux));
            case ArgKind.InIovec: return StringRenderer.Iovec(reader, c.Word(i), c.Word(spec.Aux), null);
            case ArgKind.Argv: return StringRenderer.Argv(reader, c.Word(i));
            case ArgKind.Envp: return StringRenderer.Envp(reader, c.Word(i));

            case ArgKind.OpenFlags: return OpenFlags(c.UInt(i));
            case ArgKind.OpenMode:
                {
                    var flags = c.UInt(spec.Aux);
                    var tmpfile = (ulong)LinuxConstants.O_TMPFILE;
                    return (flags & LinuxConstants.O_CREAT) != 0 || (flags & tmpfile) == tmpfile ? Octal(c.UInt(i)) : null;
                }
            case ArgKind.OFlags: return Flags(LinuxConstants.OpenFlags, c.UInt(i), "O_???");
            case ArgKind.AtFlags: return Flags(LinuxConstants.AtFlags, c.UInt(i), "AT_???");
            case ArgKind.FaccessatFlags: return Flags(LinuxConstants.FaccessatFlags, c.UInt(i), "AT_???");
            case ArgKind.AccessMode: return Flags(LinuxConstants.AccessModes, c.UInt(i), "?_OK");
            case ArgKind.Prot: return Flags(LinuxConstants.MemoryProtections, c.Word(i), "PROT_???");
            case ArgKind.MapFlags: return MapFlags(c.Word(i));
            case ArgKind.MremapFlags: return Flags(LinuxConstants.MremapFlags, c.Word(i), "MREMAP_???");
            case ArgKind.MremapNewAddr:
                return (c.Word(spec.Aux) & 2) != 0 ? Addr(c.Word(i)) : null; // MREMAP_FIXED
            case ArgKind.MsyncFlags: return Flags(LinuxConstants.MsyncFlags, c.Word(i), "MS_???");
            case ArgKind.Madvise: return XvalInt(LinuxConstants.MadviseAdvice, c.Word(i), "MADV_???");
            case ArgKind.Whence: return XvalInt(LinuxConstants.SeekWhence, c.Word(i), "SEEK_???");
            case ArgKind.RlimitResource: return XvalInt(LinuxConstants.RlimitResources, c.Word(i), "RLIMIT_???");
            case ArgKind.RusageWho: return XvalInt(LinuxConstants.RusageWho, c.Word(i), "RUSAGE_???");
            case ArgKind.ClockId: return XvalInt(LinuxConstants.ClockIds, c.Word(i), "CLOCK_???");
            case ArgKind.TimerFlags: return Flags(LinuxConstants.TimerFlags, c.UInt(i), "TIMER_???");
            case ArgKind.GrndFlags: return Flags(LinuxConstants.GetrandomFlags, c.UInt(i), "GRND_???");
            case ArgKind.MemfdFlags: return Flags(LinuxConstants.MemfdFlags, c.UInt(i), "MFD_???");
            case ArgKind.FlockOp: return Flags(LinuxConstants.FlockOperations, c.UInt(i), "LOCK_???");
            case ArgKind.SigprocmaskHow: return XvalInt(LinuxConstants.SigprocmaskHows, c.Word(i), "SIG_???");
            case ArgKind.WaitOptions: return Flags(LinuxConstants.WaitOptions, c.UInt(i), "W???");
            case ArgKind.StatxFlags: return StatxFlags(c.UInt(i));
            case ArgKind.StatxMask: return Flags(LinuxConstants.StatxMask, c.UInt(i), "STATX_???");
            case ArgKind.SocketFamily: return XvalInt(LinuxConstants.AddressFamilies, c.Word(i), "AF_???");
            case ArgKind.SocketType: return SocketType(c.UInt(i));
            case ArgKind.SocketProtocol:
                {
                    var family = c.Int(spec.Aux);
                    return family == LinuxConstants.AF_INET || family == LinuxConstants.AF_INET6
                        ? XvalInt(LinuxConstants.IpProtocols, c.Word(i), "IPPROTO_???")
                        : Dec(c.Int(i));
                }
            case ArgKind.SocketTypeFlags: return Flags(LinuxConstants.SocketTypeFlags, c.UInt(i), "SOCK_???");
            case ArgKind.MsgFlags: return Flags(LinuxConstants.MessageFlags, c.UInt(i), "MSG_???");
            case ArgKind.ShutdownHow: return XvalInt(LinuxConstants.ShutdownHows, c.Word(i), "SHUT_???");
            case ArgKind.SockoptLevel: return c.Int(i) == LinuxConstants.SOL_SOCKET ? "SOL_SOCKET" : XvalInt(LinuxConstants.IpProtocols, c.Word(i), "SOL_???");
            case ArgKind.SockoptName:
                return c.Int(spec.Aux) == LinuxConstants.SOL_SOCKET
                    ? XvalInt(LinuxConstants.SocketOptionsSolSocket, c.Word(i), "SO_???")
                    : Dec(c.Int(i));
            case ArgKind.ItimerWhich: return XvalInt(LinuxConstants.ItimerWhich, c.Word(i), "ITIMER_???");
            case ArgKind.PtraceRequest: return Xval(LinuxConstants.PtraceRequests, c.SignedWord(i), "PTRACE_???");
            case ArgKind.PrctlOption: return XvalInt(LinuxConstants.PrctlOptions, c.Word(i), "PR_???");
            case ArgKind.FadviseAdvice: return XvalInt(LinuxConstants.FadviseAdvice, c.Word(i), "POSIX_FADV_???");
            case ArgKind.CpuSetIn: return StructRenderer.CpuSet(reader, c.Word(i), (long)Math.Min(c.Word(spec.Aux), 1UL << 20));

            case ArgKind.TimespecIn: return StructRenderer.Timespec(reader, c.Word(i), wide64: false);
            case ArgKind.Timespec64In: return StructRenderer.Timespec(reader, c.Word(i), wide64: true);
            case ArgKind.RlimitIn: return StructRenderer.Rlimit(reader, c.Word(i), wide64: false);
            case ArgKind.Rlimit64In: return StructRenderer.Rlimit(reader, c.Word(i), wide64: true);
            case ArgKind.SigsetIn: return StructRenderer.Sigset(reader, c.Word(i), c.Word(spec.Aux));
            case ArgKind.SigactionIn: return StructRenderer.Sigaction(reader, c.Word(i));
            case ArgKind.SockaddrIn: return SockaddrRenderer.Render(reader, c.Word(i), c.Int(spec.Aux));
            case ArgKind.MsghdrIn: return Msghdr(ref c, c.Word(i), null);
            case ArgKind.SockoptValIn: return StringRenderer.Buffer(reader, c.Word(i), c.UInt(spec.Aux));
            case ArgKind.PollFds: return StructRenderer.PollFds(reader, c.Word(i), c.UInt(spec.Aux));
            case ArgKind.Clone3Args:
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
    private static string RenderOutput(ArgSpec spec, ref CallContext c)
    {
        var i = spec.Index;
        var address = c.Word(i);
        var reader = c.Reader;
        var filled = spec.Kind switch
        {
            ArgKind.TimespecRem => c.Exiting && (c.Ret == -EINTR || c.Ret == -ERESTART_RESTARTBLOCK),
            ArgKind.WaitStatusOut or ArgKind.WaitRusageOut => c.Succeeded && c.Ret > 0,
            _ => c.Succeeded,
        };
        if (!filled || address == 0)
            return Addr(address);
        c.RenderedOutput = true;
        var ret = c.Ret;
        return spec.Kind switch
        {
            ArgKind.OutBuf => StringRenderer.Buffer(reader, address, Clamp(ret, c.Word(spec.Aux))),
            ArgKind.OutBufHex => StringRenderer.Buffer(reader, address, Clamp(ret, c.Word(spec.Aux)), hexAll: true),
            ArgKind.OutCwd => ret > 0 ? StringRenderer.Terminated(reader, address, (int)Math.Min(ret, PathMax)) : Addr(address),
            ArgKind.OutIovec => StringRenderer.Iovec(reader, address, c.Word(spec.Aux), (ulong)Math.Max(ret, 0)),
            ArgKind.StatOut => StructRenderer.Stat(reader, address),
            ArgKind.Stat64Out => StructRenderer.Stat64(reader, address),
            ArgKind.StatxOut => StructRenderer.Statx(reader, address),
            ArgKind.UtsnameOut => StructRenderer.Utsname(reader, address),
            ArgKind.TimespecOut or ArgKind.TimespecRem => StructRenderer.Timespec(reader, address, wide64: false),
            ArgKind.Timespec64Out => StructRenderer.Timespec(reader, address, wide64: true),
            ArgKind.TimevalOut => StructRenderer.Timeval(reader, address),
            ArgKind.RlimitOut => StructRenderer.Rlimit(reader, address, wide64: false),
            ArgKind.Rlimit64Out => StructRenderer.Rlimit(reader, address, wide64: true),
            ArgKind.RusageOut or ArgKind.WaitRusageOut => StructRenderer.Rusage(reader, address),
            ArgKind.WaitStatusOut => reader.TryReadU32(address, out var status) ? StructRenderer.WaitStatus((int)status) : Addr(address),
            ArgKind.PipeFds => StructRenderer.PipeFds(reader, address),
            ArgKind.LoffOut => StructRenderer.LongAt(reader, address),
            ArgKind.SysinfoOut => StructRenderer.Sysinfo(reader, address),
            ArgKind.TmsOut => StructRenderer.Tms(reader, address),
            ArgKind.DirentsOut => StructRenderer.Dirents(reader, address, (long)Clamp(ret, c.Word(i + 1)), dirent64: false),
            ArgKind.Dirents64Out => StructRenderer.Dirents(reader, address, (long)Clamp(ret, c.Word(i + 1)), dirent64: true),
            ArgKind.SigsetOut => StructRenderer.Sigset(reader, address, c.Word(spec.Aux)),
            ArgKind.SigactionOut => StructRenderer.Sigaction(reader, address),
            ArgKind.SockaddrOut => reader.TryReadU32(c.Word(spec.Aux), out var length)
                ? SockaddrRenderer.Render(reader, address, length)
                : Addr(address),
            ArgKind.SocklenOut => StructRenderer.IntAt(reader, address),
            ArgKind.GidsOut => StructRenderer.Ids(reader, address, Math.Min(ret, c.Int(i - 1)), 4),
            ArgKind.Gids16Out => StructRenderer.Ids(reader, address, Math.Min(ret, c.Int(i - 1)), 2),
            ArgKind.CpuSetOut => StructRenderer.CpuSet(reader, address, ret),
            ArgKind.MsghdrOut => Msghdr(ref c, address, (ulong)Math.Max(ret, 0)),
            ArgKind.SockoptValOut => reader.TryReadU32(c.Word(spec.Aux), out var optlen)
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
