using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;
using Ether.Replay.Recorder.Syscalls;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// The recorder's one door to system-call knowledge: names (generated tables), strace-style
/// decoded arguments (<see cref="SyscallDecoder"/>) and the memory the kernel writes for a call
/// (<see cref="KernelWriteSet"/>), plus the few numbers the engine acts on itself.
/// </summary>
internal static class SyscallNames
{
    public const string X86_64 = SyscallTables.LinuxX86_64Abi;
    public const string I386 = SyscallTables.LinuxI386Abi;

    private static readonly SyscallDecoder Decoder64 = SyscallDecoder.For(X86_64);
    private static readonly SyscallDecoder Decoder32 = SyscallDecoder.For(I386);
    private static readonly KernelWriteSet Writes64 = KernelWriteSet.For(X86_64);
    private static readonly KernelWriteSet Writes32 = KernelWriteSet.For(I386);

    private static SyscallDecoder Decoder(string abi) => abi == I386 ? Decoder32 : Decoder64;

    public static string Name(string abi, long number) => Decoder(abi).Name(number);

    public static string[] DecodeEntry(RecordedThread thread, ITargetMemory memory) =>
        Decoder(thread.SyscallAbi).DecodeEntry(thread.SyscallNumber, thread.SyscallArgs, memory);

    public static string[] DecodeExit(RecordedThread thread, long ret, ITargetMemory memory) =>
        Decoder(thread.SyscallAbi).DecodeExit(thread.SyscallNumber, thread.SyscallArgs, ret, memory) ?? [];

    public static IEnumerable<(ulong Address, long Length)> KernelWrites(RecordedThread thread, long ret, ITargetMemory memory) =>
        (thread.SyscallAbi == I386 ? Writes32 : Writes64).Writes(thread.SyscallNumber, thread.SyscallArgs, ret, memory);

    /// <summary>Calls after which the region map must be re-read (mmap, munmap, mprotect, mremap, brk, shmat/shmdt...).</summary>
    public static bool ChangesMap(string abi, long number) => abi == I386
        ? number is 45 or 90 or 91 or 125 or 163 or 192 or 117 // brk mmap munmap mprotect mremap mmap2 ipc
        : number is 9 or 10 or 11 or 12 or 25 or 30 or 67 or 329; // mmap mprotect munmap brk mremap shmat shmdt pkey_mprotect

    /// <summary>execve / execveat.</summary>
    public static bool IsExec(string abi, long number) => abi == I386 ? number is 11 or 358 : number is 59 or 322;

    /// <summary>exit / exit_group: no exit stop follows.</summary>
    public static bool IsExit(string abi, long number) => abi == I386 ? number is 1 or 252 : number is 60 or 231;
}
