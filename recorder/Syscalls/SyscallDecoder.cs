using Ether.Replay.Recorder.Syscalls.DecoderInternal;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls;

/// <summary>
/// Turns a Linux system call into the strings strace would print: one string per argument before
/// the call, the arguments again after it when the kernel filled output buffers, and the return
/// value. Reads of target memory are bounded and unreadable pointers print as hex, so a hostile
/// process cannot make decoding fail or run long.
/// </summary>
public sealed class SyscallDecoder
{
    private static readonly Lazy<SyscallDecoder> X86_64 = new(() => new SyscallDecoder(LinuxSyscalls.X86_64, LinuxLayout.X86_64));
    private static readonly Lazy<SyscallDecoder> I386 = new(() => new SyscallDecoder(LinuxSyscalls.I386, LinuxLayout.I386));

    private readonly LinuxCallRenderer _renderer;

    private SyscallDecoder(LinuxSyscallTable calls, LinuxLayout layout) => _renderer = new LinuxCallRenderer(calls, layout);

    /// <summary>The decoder of "linux-x86_64" or "linux-i386"; throws <see cref="ArgumentException"/> for other ABIs.</summary>
    public static SyscallDecoder For(string abi) => abi switch
    {
        SyscallTables.LinuxX86_64Abi => X86_64.Value,
        SyscallTables.LinuxI386Abi => I386.Value,
        _ => throw new ArgumentException($"no argument decoder for system-call ABI '{abi}' (Linux only)", nameof(abi)),
    };

    public string Abi => _renderer.Table.Abi;

    /// <summary>The call's name in this ABI ("read", or "syscall_N" when unknown).</summary>
    public string Name(long nr) => _renderer.Table.Name(nr);

    /// <summary>Arguments as strace prints them when the call starts; output buffers show as pointers.</summary>
    public string[] DecodeEntry(long nr, ReadOnlySpan<ulong> args, ITargetMemory mem) =>
        _renderer.Render(nr, args, mem, exiting: false, ret: 0, out _);

    /// <summary>
    /// All arguments rendered again after the call, or null when nothing prints differently from the
    /// entry (no output arguments, or the call failed so the kernel filled nothing). Input arguments
    /// are read again from memory at this point.
    /// </summary>
    public string[]? DecodeExit(long nr, ReadOnlySpan<ulong> args, long ret, ITargetMemory mem)
    {
        if (_renderer.Spec(nr) is not { HasOutput: true })
            return null;
        var rendered = _renderer.Render(nr, args, mem, exiting: true, ret, out var changed);
        return changed ? rendered : null;
    }

    /// <summary>The return value as strace prints it: "3", "0x7f12...", "-1 ENOENT (No such file or directory)", "?".</summary>
    public string FormatReturn(long nr, long ret) => FormatReturn(nr, [], ret);

    /// <summary>
    /// Like <see cref="FormatReturn(long, long)"/>, with the arguments for the few calls whose result
    /// strace explains from them (fcntl F_GETFL: "0x8002 (flags O_RDWR|O_LARGEFILE)").
    /// </summary>
    public string FormatReturn(long nr, ReadOnlySpan<ulong> args, long ret)
    {
        var style = _renderer.Spec(nr)?.Return ?? SyscallReturn.Decimal;
        if (style == SyscallReturn.None)
            return "?";
        ret = _renderer.Layout.Return(ret);
        if (Errno.IsError(ret))
            return Errno.FormatFailure((int)-ret);
        return style switch
        {
            SyscallReturn.Hex => Hex(_renderer.Layout.Word((ulong)ret)),
            SyscallReturn.Octal => Octal((ulong)ret),
            SyscallReturn.Fcntl when args.Length > 1 => CustomCalls.FcntlReturn(args, ret),
            _ => Dec(ret),
        };
    }

    /// <summary>What strace prints for a call that never returned to user space (the process died).</summary>
    public const string NoReturn = "?";
}
