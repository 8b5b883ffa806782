using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// Kernel structures rendered the way strace abbreviates them by default ("{st_mode=S_IFREG|0644,
/// st_size=832, ...}"). Each reads its structure once, all or nothing, and prints the pointer when
/// the structure is not fully readable.
/// </summary>
internal static class StructRenderer
{
    private static ulong U64(byte[] b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));
    private static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
    private static ushort U16(byte[] b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at));
    private static long SWord(byte[] b, int at, bool is64) => is64 ? (long)U64(b, at) : (int)U32(b, at);
    private static ulong UWord(byte[] b, int at, bool is64) => is64 ? U64(b, at) : U32(b, at);

    /// <summary>strace's print_symbolic_mode_t: "S_IFREG|0644", "S_IFCHR|S_ISUID|0755", "0644".</summary>
    public static string SymbolicMode(uint mode)
    {
        var type = mode & (uint)LinuxConstants.S_IFMT;
        var typeName = type == 0 ? "" : LinuxConstants.FileTypes.NameOf(type);
        if (typeName is null)
            return Octal(mode);
        var sb = new StringBuilder(typeName);
        if (sb.Length > 0)
            sb.Append('|');
        foreach (var special in LinuxConstants.ModeSpecialBits.Entries)
            if ((mode & special.Value) != 0)
                sb.Append(special.Name).Append('|');
        const uint specialBits = 0xe00; // S_ISUID|S_ISGID|S_ISVTX
        sb.Append(Octal(mode & ~((uint)LinuxConstants.S_IFMT | specialBits)));
        return sb.ToString();
    }

    /// <summary>glibc's major()/minor() of a Linux dev_t: makedev(0x1, 0x3).</summary>
    public static string Device(ulong dev)
    {
        var major = (uint)(((dev >> 8) & 0xfff) | ((dev >> 32) & 0xfffff000));
        var minor = (uint)((dev & 0xff) | ((dev >> 12) & 0xffffff00));
        return $"makedev({Hex(major)}, {Hex(minor)})";
    }

    private static string StatBody(uint mode, ulong rdev, ulong size)
    {
        var type = mode & (uint)LinuxConstants.S_IFMT;
        var tail = type == (uint)LinuxConstants.S_IFCHR || type == (uint)LinuxConstants.S_IFBLK
            ? "st_rdev=" + Device(rdev)
            : "st_size=" + UDec(size);
        return "{st_mode=" + SymbolicMode(mode) + ", " + tail + ", ...}";
    }

    /// <summary>struct stat of the ABI (x86-64 kernel stat, or i386's 64-byte struct stat).</summary>
    public static string Stat(in TargetReader reader, ulong address)
    {
        var layout = reader.Layout;
        if (reader.ReadStruct(address, layout.StatSize) is not { } b)
            return Addr(address);
        return layout.Is64
            ? StatBody(U32(b, 24), U64(b, 40), U64(b, 48))   // st_mode@24, st_rdev@40, st_size@48
            : StatBody(U16(b, 8), U32(b, 16), U32(b, 20));   // st_mode@8 (u16), st_rdev@16, st_size@20
    }

    /// <summary>i386 struct stat64: st_mode@16, st_rdev@32, st_size@44.</summary>
    public static string Stat64(in TargetReader reader, ulong address) =>
        reader.ReadStruct(address, LinuxLayout.Stat64Size) is { } b
            ? StatBody(U32(b, 16), U64(b, 32), U64(b, 44))
            : Addr(address);

    public static string Statx(in TargetReader reader, ulong address)
    {
        if (reader.ReadStruct(address, LinuxLayout.StatxSize) is not { } b)
            return Addr(address);
        // stx_mask@0 u32, stx_attributes@8 u64, stx_mode@28 u16, stx_size@40 u64
        return "{stx_mask=" + Flags(LinuxConstants.StatxMask, U32(b, 0), "STATX_???")
               + ", stx_attributes=" + Flags(LinuxConstants.StatxAttributes, U64(b, 8), "STATX_ATTR_???")
               + ", stx_mode=" + SymbolicMode(U16(b, 28))
               + ", stx_size=" + UDec(U64(b, 40)) + ", ...}";
    }

    public static string Utsname(in TargetReader reader, ulong address)
    {
        if (reader.ReadStruct(address, LinuxLayout.UtsnameSize) is not { } b)
            return Addr(address);
        return "{sysname=" + StringRenderer.CharArray(b.AsSpan(0, 65))
               + ", nodename=" + StringRenderer.CharArray(b.AsSpan(65, 65)) + ", ...}";
    }

    /// <summary>struct timespec with native longs, or the 64-bit __kernel_timespec.</summary>
    public static string Timespec(in TargetReader reader, ulong address, bool wide64)
    {
        var is64 = wide64 || reader.Layout.Is64;
        if (reader.ReadStruct(address, is64 ? 16 : 8) is not { } b)
            return Addr(address);
        return $"{{tv_sec={Dec(SWord(b, 0, is64))}, tv_nsec={Dec(SWord(b, is64 ? 8 : 4, is64))}}}";
    }

    public static string Timeval(in TargetReader reader, ulong address)
    {
        var is64 = reader.Layout.Is64;
        if (reader.ReadStruct(address, reader.Layout.TimevalSize) is not { } b)
            return Addr(address);
        return TimevalFields(b, 0, is64);
    }

    private static string TimevalFields(byte[] b, int at, bool is64) =>
        $"{{tv_sec={Dec(SWord(b, at, is64))}, tv_usec={Dec(SWord(b, at + (is64 ? 8 : 4), is64))}}}";

    /// <summary>strace's rlimit values: RLIM64_INFINITY / RLIM_INFINITY, "8192*1024" for multiples of 1 KiB.</summary>
    private static string RlimitValue(ulong value, bool wide)
    {
        if (wide && value == ulong.MaxValue)
            return "RLIM64_INFINITY";
        if (!wide && value == uint.MaxValue)
            return "RLIM_INFINITY";
        return value > 1024 && value % 1024 == 0 ? UDec(value / 1024) + "*1024" : UDec(value);
    }

    /// <summary>struct rlimit of the ABI (native longs) or struct rlimit64.</summary>
    public static string Rlimit(in TargetReader reader, ulong address, bool wide64)
    {
        var wide = wide64 || reader.Layout.Is64;
        if (reader.ReadStruct(address, wide ? 16 : 8) is not { } b)
            return Addr(address);
        var cur = wide ? U64(b, 0) : U32(b, 0);
        var max = wide ? U64(b, 8) : U32(b, 4);
        return $"{{rlim_cur={RlimitValue(cur, wide)}, rlim_max={RlimitValue(max, wide)}}}";
    }

    public static string Rusage(in TargetReader reader, ulong address)
    {
        var layout = reader.Layout;
        if (reader.ReadStruct(address, layout.RusageSize) is not { } b)
            return Addr(address);
        return "{ru_utime=" + TimevalFields(b, 0, layout.Is64) + ", ru_stime="
               + TimevalFields(b, layout.TimevalSize, layout.Is64) + ", ...}";
    }

    public static string Sysinfo(in TargetReader reader, ulong address)
    {
        var layout = reader.Layout;
        if (reader.ReadStruct(address, layout.SysinfoSize) is not { } b)
            return Addr(address);
        var w = layout.WordSize;
        var is64 = layout.Is64;
        ulong At(int index) => UWord(b, index * w, is64);
        // uptime, loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap (longs 0..9),
        // procs (u16), then totalhigh, freehigh (longs) and mem_unit (u32), aligned.
        var procsAt = 10 * w;
        var highAt = is64 ? 88 : 44;
        return $"{{uptime={Dec(SWord(b, 0, is64))}, loads=[{UDec(At(1))}, {UDec(At(2))}, {UDec(At(3))}], "
               + $"totalram={UDec(At(4))}, freeram={UDec(At(5))}, sharedram={UDec(At(6))}, bufferram={UDec(At(7))}, "
               + $"totalswap={UDec(At(8))}, freeswap={UDec(At(9))}, procs={U16(b, procsAt)}, "
               + $"totalhigh={UDec(UWord(b, highAt, is64))}, freehigh={UDec(UWord(b, highAt + w, is64))}, "
               + $"mem_unit={U32(b, highAt + 2 * w)}}}";
    }

    public static string Tms(in TargetReader reader, ulong address)
    {
        var layout = reader.Layout;
        if (reader.ReadStruct(address, layout.TmsSize) is not { } b)
            return Addr(address);
        var w = layout.WordSize;
        return $"{{tms_utime={Dec(SWord(b, 0, layout.Is64))}, tms_stime={Dec(SWord(b, w, layout.Is64))}, "
               + $"tms_cutime={Dec(SWord(b, 2 * w, layout.Is64))}, tms_cstime={Dec(SWord(b, 3 * w, layout.Is64))}}}";
    }

    /// <summary>
    /// A signal mask the way strace prints it: [INT QUIT], and ~[...] listing the signals NOT in the
    /// mask when at least two thirds are set.
    /// </summary>
    public static string SigMask(ulong mask, int bytes)
    {
        var words = (Math.Min(bytes, 8) + 3) / 4;
        var bits = words * 32;
        if (bits < 64)
            mask &= (1UL << bits) - 1;
        var sb = new StringBuilder();
        if (BitOperations.PopCount(mask) >= bits * 2 / 3)
        {
            mask = ~mask;
            if (bits < 64)
                mask &= (1UL << bits) - 1;
            sb.Append('~');
        }
        sb.Append('[');
        var first = true;
        for (var bit = 0; bit < bits; bit++)
        {
            if ((mask & (1UL << bit)) == 0)
                continue;
            if (!first)
                sb.Append(' ');
            first = false;
            var signal = bit + 1;
            sb.Append(Signals.Name(signal) is { } name ? name[3..] : signal.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }

    /// <summary>A sigset_t of <paramref name="size"/> bytes in memory (strace reads at most 8 on x86).</summary>
    public static string Sigset(in TargetReader reader, ulong address, ulong size)
    {
        if (address == 0)
            return "NULL";
        if (size == 0 || size > 128)
            return Addr(address);
        var bytes = (int)Math.Min(size, 8);
        Span<byte> b = stackalloc byte[8];
        if (!reader.TryRead(address, b[..bytes]))
            return Addr(address);
        return SigMask(BinaryPrimitives.ReadUInt64LittleEndian(b), bytes);
    }

    /// <summary>The kernel's struct sigaction of rt_sigaction.</summary>
    public static string Sigaction(in TargetReader reader, ulong address)
    {
        var layout = reader.Layout;
        if (address == 0)
            return "NULL";
        if (reader.ReadStruct(address, layout.SigactionSize) is not { } b)
            return Addr(address);
        var w = layout.WordSize;
        var handler = UWord(b, 0, layout.Is64);
        var flags = UWord(b, w, layout.Is64);
        var restorer = UWord(b, 2 * w, layout.Is64);
        var mask = U64(b, 3 * w);
        var handlerText = handler == (ulong)LinuxConstants.SIG_DFL ? "SIG_DFL"
            : handler == (ulong)LinuxConstants.SIG_IGN ? "SIG_IGN"
            : handler == layout.Word(ulong.MaxValue) ? "SIG_ERR"
            : Addr(handler);
        var sb = new StringBuilder("{sa_handler=").Append(handlerText)
            .Append(", sa_mask=").Append(SigMask(mask, 8))
            .Append(", sa_flags=").Append(Flags(LinuxConstants.SigactionFlags, flags, "SA_???"));
        if ((flags & (ulong)LinuxConstants.SA_RESTORER) != 0)
            sb.Append(", sa_restorer=").Append(Addr(restorer));
        return sb.Append('}').ToString();
    }

    /// <summary>A wait status: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}].</summary>
    public static string WaitStatus(int status)
    {
        string text;
        var rest = status;
        if ((status & 0xff) == 0x7f)
        {
            var sig = (status >> 8) & 0xff;
            text = $"{{WIFSTOPPED(s) && WSTOPSIG(s) == {Signal(sig & 0x7f)}{((sig & 0x80) != 0 ? " | 0x80" : "")}}}";
            rest &= ~((sig << 8) | 0x7f);
        }
        else if ((status & 0x7f) != 0 && (status & 0x7f) != 0x7f)
        {
            var sig = status & 0x7f;
            var core = (status & 0x80) != 0;
            text = $"{{WIFSIGNALED(s) && WTERMSIG(s) == {Signal(sig)}{(core ? " && WCOREDUMP(s)" : "")}}}";
            rest &= ~(sig | 0x80);
        }
        else if ((status & 0x7f) == 0)
        {
            var code = (status >> 8) & 0xff;
            text = $"{{WIFEXITED(s) && WEXITSTATUS(s) == {code}}}";
            rest &= ~(code << 8);
        }
        else if (status == 0xffff)
        {
            text = "{WIFCONTINUED(s)}";
            rest = 0;
        }
        else
        {
            return "[" + Hex((uint)status) + "]";
        }
        if (rest != 0)
        {
            var eventCode = (uint)rest >> 16;
            if (eventCode != 0)
            {
                text += $"|{Hex(eventCode)}<<16";
                rest &= 0xffff;
            }
            if (rest != 0)
                text += "|" + Hex((uint)rest);
        }
        return "[" + text + "]";
    }

    /// <summary>getdents/getdents64 after the call: the pointer and /* N entries */.</summary>
    public static string Dirents(in TargetReader reader, ulong address, long length, bool dirent64)
    {
        // d_reclen sits after d_ino and d_off: two 8-byte fields for dirent64 and x86-64's
        // linux_dirent, two 4-byte fields for i386's linux_dirent.
        var reclenAt = dirent64 || reader.Layout.Is64 ? 16 : 8;
        const int cap = 1 << 20;
        var bytes = reader.ReadUpTo(address, length, cap);
        if (bytes.Length < Math.Min(length, cap))
            return Addr(address);
        var count = 0;
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (offset + reclenAt + 2 > bytes.Length)
                return Addr(address);
            var reclen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + reclenAt));
            if (reclen == 0)
                return Addr(address);
            offset += reclen;
            count++;
        }
        return $"{Addr(address)} /* {count} entries */";
    }

    public static string PollFds(in TargetReader reader, ulong address, ulong count)
    {
        if (address == 0)
            return "NULL";
        var sb = new StringBuilder("[");
        Span<byte> b = stackalloc byte[8];
        for (ulong i = 0; i < count; i++)
        {
            if (i >= MaxStrlen)
            {
                sb.Append(", ").Append(More);
                break;
            }
            if (!reader.TryRead(address + i * 8, b))
            {
                if (i == 0)
                    return Addr(address);
                sb.Append(", ").Append(More);
                break;
            }
            if (i > 0)
                sb.Append(", ");
            var fd = BinaryPrimitives.ReadInt32LittleEndian(b);
            var events = BinaryPrimitives.ReadUInt16LittleEndian(b[4..]);
            sb.Append("{fd=").Append(fd).Append(", events=").Append(Flags(LinuxConstants.PollEvents, events, "POLL???")).Append('}');
        }
        return sb.Append(']').ToString();
    }

    /// <summary>clone3's struct clone_args as strace prints it before the call.</summary>
    public static string Clone3(in TargetReader reader, ulong address, ulong size, bool after)
    {
        const int minSize = 64; // up to and including tls
        var fetch = (int)Math.Min(size, 88);
        if (fetch < minSize || reader.ReadStruct(address, fetch) is not { } b)
            return Addr(address);
        var flags = U64(b, 0);
        var sb = new StringBuilder("{flags=").Append(Flags(LinuxConstants.Clone3Flags, flags, "CLONE_???"));
        if ((flags & (ulong)LinuxConstants.CLONE_PIDFD) != 0)
            sb.Append(", pidfd=").Append(Addr(U64(b, 8)));
        if ((flags & (ulong)(LinuxConstants.CLONE_CHILD_SETTID | LinuxConstants.CLONE_CHILD_CLEARTID)) != 0)
            sb.Append(", child_tid=").Append(Addr(U64(b, 16)));
        if ((flags & (ulong)LinuxConstants.CLONE_PARENT_SETTID) != 0)
            sb.Append(", parent_tid=").Append(Addr(U64(b, 24)));
        var exitSignal = U64(b, 32);
        sb.Append(", exit_signal=").Append(exitSignal < int.MaxValue ? Signal((long)exitSignal) : UDec(exitSignal));
        sb.Append(", stack=").Append(Addr(U64(b, 40)));
        sb.Append(", stack_size=").Append(Hex(U64(b, 48)));
        if ((flags & (ulong)LinuxConstants.CLONE_SETTLS) != 0)
            sb.Append(", tls=").Append(Addr(U64(b, 56)));
        sb.Append('}');
        if (after)
        {
            var changed = new List<string>();
            if ((flags & (ulong)LinuxConstants.CLONE_PIDFD) != 0)
                changed.Add("pidfd=" + IntAt(reader, U64(b, 8)));
            if ((flags & (ulong)LinuxConstants.CLONE_PARENT_SETTID) != 0)
                changed.Add("parent_tid=" + IntAt(reader, U64(b, 24)));
            if (changed.Count > 0)
                sb.Append(" => {").Append(string.Join(", ", changed)).Append('}');
        }
        return sb.ToString();
    }

    /// <summary>An int the kernel stored at a pointer: [N], or the pointer when unreadable.</summary>
    public static string IntAt(in TargetReader reader, ulong address)
    {
        if (address == 0)
            return "NULL";
        return reader.TryReadU32(address, out var value) ? "[" + Dec((int)value) + "]" : Addr(address);
    }

    /// <summary>A 64-bit value the kernel stored at a pointer (loff_t): [N].</summary>
    public static string LongAt(in TargetReader reader, ulong address)
    {
        if (address == 0)
            return "NULL";
        return reader.TryReadU64(address, out var value) ? "[" + Dec((long)value) + "]" : Addr(address);
    }

    /// <summary>An unsigned long the kernel stored at a pointer, in hex: [0x7f...].</summary>
    public static string HexWordAt(in TargetReader reader, ulong address)
    {
        if (address == 0)
            return "NULL";
        return reader.TryReadWord(address, out var value) ? "[" + Hex(value) + "]" : Addr(address);
    }

    /// <summary>An array of uids/gids: [0, 4, 27], at most 32 shown.</summary>
    public static string Ids(in TargetReader reader, ulong address, long count, int size)
    {
        if (count <= 0)
            return "[]";
        var shown = (int)Math.Min(count, MaxStrlen);
        var bytes = reader.ReadUpTo(address, shown * size, MaxStrlen * 4);
        if (bytes.Length < shown * size)
            return Addr(address);
        var ids = new List<string>(shown + 1);
        for (var i = 0; i < shown; i++)
            ids.Add(size == 4 ? UDec(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4))) : UDec(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2))));
        if (count > shown)
            ids.Add(More);
        return "[" + string.Join(", ", ids) + "]";
    }

    /// <summary>A CPU mask as strace prints it: the numbers of the set CPUs, [0 1 3].</summary>
    public static string CpuSet(in TargetReader reader, ulong address, long bytes)
    {
        if (address == 0)
            return "NULL";
        var mask = reader.ReadUpTo(address, bytes, 1 << 16);
        if (mask.Length < Math.Min(bytes, 1 << 16))
            return Addr(address);
        var cpus = new List<string>();
        for (var i = 0; i < mask.Length * 8 && cpus.Count <= 1024; i++)
            if ((mask[i / 8] & (1 << (i % 8))) != 0)
                cpus.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return "[" + string.Join(' ', cpus) + "]";
    }

    public static string PipeFds(in TargetReader reader, ulong address)
    {
        Span<byte> b = stackalloc byte[8];
        if (address == 0 || !reader.TryRead(address, b))
            return Addr(address);
        return $"[{BinaryPrimitives.ReadInt32LittleEndian(b)}, {BinaryPrimitives.ReadInt32LittleEndian(b[4..])}]";
    }

    public static string Winsize(in TargetReader reader, ulong address)
    {
        Span<byte> b = stackalloc byte[8];
        if (address == 0 || !reader.TryRead(address, b))
            return Addr(address);
        return $"{{ws_row={BinaryPrimitives.ReadUInt16LittleEndian(b)}, ws_col={BinaryPrimitives.ReadUInt16LittleEndian(b[2..])}, "
               + $"ws_xpixel={BinaryPrimitives.ReadUInt16LittleEndian(b[4..])}, ws_ypixel={BinaryPrimitives.ReadUInt16LittleEndian(b[6..])}}}";
    }
}
