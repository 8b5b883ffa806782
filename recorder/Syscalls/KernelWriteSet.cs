using Ether.Replay.Recorder.Syscalls.DecoderInternal;

namespace Ether.Replay.Recorder.Syscalls;

/// <summary>
/// The user-memory ranges the kernel wrote on a thread's behalf during a completed system call
/// (read's buffer, fstat's struct stat, pipe's two descriptors, ...). The recorder reads those
/// bytes after the call and records them as memory writes flagged Kernel, so replay and "who
/// wrote this" know which memory the kernel filled in. The ranges follow from the output arguments
/// of the call's row in the system-call table (<see cref="LinuxSyscalls"/>).
/// </summary>
/// <remarks>
/// Not covered, because the kernel writes them outside the call: the child's tid for
/// CLONE_CHILD_SETTID (written as the child starts), the tid cleared at thread exit for
/// set_tid_address/CLONE_CHILD_CLEARTID, the rseq area (updated on preemption and migration),
/// io_uring rings and other shared mappings.
/// </remarks>
public sealed class KernelWriteSet
{
    private static readonly Lazy<KernelWriteSet> X86_64 = new(() => new KernelWriteSet(LinuxSyscalls.X86_64, LinuxLayout.X86_64));
    private static readonly Lazy<KernelWriteSet> I386 = new(() => new KernelWriteSet(LinuxSyscalls.I386, LinuxLayout.I386));

    private readonly LinuxSyscallTable _calls;
    private readonly LinuxLayout _layout;

    private KernelWriteSet(LinuxSyscallTable calls, LinuxLayout layout)
    {
        _calls = calls;
        _layout = layout;
    }

    /// <summary>The write set of "linux-x86_64" or "linux-i386"; throws <see cref="ArgumentException"/> for other ABIs.</summary>
    public static KernelWriteSet For(string abi) => abi switch
    {
        SyscallTables.LinuxX86_64Abi => X86_64.Value,
        SyscallTables.LinuxI386Abi => I386.Value,
        _ => throw new ArgumentException($"no kernel write set for system-call ABI '{abi}' (Linux only)", nameof(abi)),
    };

    public string Abi => _calls.Abi;

    /// <summary>
    /// The ranges written by the completed call <paramref name="nr"/>; empty for calls that write no
    /// user memory and for failed calls (except the few that report through memory when interrupted).
    /// Pointers inside target structures (iovecs, msghdr) are read from <paramref name="mem"/>.
    /// </summary>
    public IEnumerable<(ulong Address, long Length)> Writes(long nr, ReadOnlySpan<ulong> args, long ret, ITargetMemory mem)
    {
        var writes = new List<(ulong Address, long Length)>();
        if (_calls.Find(nr) is { } call)
            KernelWriteRules.Collect(call, new CallContext(args, new TargetReader(mem, _layout), exiting: true, ret), writes);
        return writes;
    }
}
