namespace Ether.Replay.Recorder.Syscalls;

/// <summary>
/// The recorder's door to one Linux ABI's system-call knowledge: the table's rows by number
/// (names, traits such as ChangesMap and Exec, argument roles), the strace-style decoder and the
/// kernel write set, all derived from <see cref="LinuxSyscalls"/>. A traced thread's calls are
/// x86-64's, or i386's when it enters through int 0x80 / sysenter (compat).
/// </summary>
public sealed class LinuxSyscallAbi
{
    public static readonly LinuxSyscallAbi X86_64 = new(SyscallTables.LinuxX86_64Abi);
    public static readonly LinuxSyscallAbi I386 = new(SyscallTables.LinuxI386Abi);

    private LinuxSyscallAbi(string abi)
    {
        Name = abi;
        Calls = LinuxSyscalls.For(abi);
        Decoder = SyscallDecoder.For(abi);
        Writes = KernelWriteSet.For(abi);
    }

    /// <summary>The ABI name recorded in trace events ("linux-x86_64", "linux-i386").</summary>
    public string Name { get; }
    public LinuxSyscallTable Calls { get; }
    public SyscallDecoder Decoder { get; }
    public KernelWriteSet Writes { get; }

    /// <summary>i386's when the call came through the compat gate, x86-64's otherwise.</summary>
    public static LinuxSyscallAbi Of(bool compat) => compat ? I386 : X86_64;

    /// <summary>The ABI of a recorded ABI name; anything but "linux-i386" is x86-64's (the ptrace backend traces nothing else).</summary>
    public static LinuxSyscallAbi Of(string abi) => abi == SyscallTables.LinuxI386Abi ? I386 : X86_64;

    /// <summary>True when call <paramref name="number"/> has any of <paramref name="traits"/> (one array lookup).</summary>
    public bool Has(long number, SyscallTraits traits) => Calls.Has(number, traits);
}
