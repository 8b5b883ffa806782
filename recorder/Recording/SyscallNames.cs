using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Backends.Ptrace;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// The recorder's one door to system-call knowledge: names, decoded arguments and the memory the
/// kernel writes for a call.
/// Names come from the generated tables (formats/Abi).
/// TODO(abi): decoding and kernel writes forward to SyscallDecoder / KernelWriteSet once they land.
/// </summary>
internal static class SyscallNames
{
    public const string X86_64 = SyscallTables.LinuxX86_64Abi;
    public const string I386 = SyscallTables.LinuxI386Abi;

    private static readonly SyscallTable Table64 = SyscallTables.Find(X86_64);
    private static readonly SyscallTable Table32 = SyscallTables.Find(I386);

    public static string Name(string abi, long number) => (abi == I386 ? Table32 : Table64).Name(number);

    public static string[] DecodeEntry(RecordedThread thread, ProcessMemory memory) => [];

    public static string[] DecodeExit(RecordedThread thread, long ret, ProcessMemory memory) => [];

    public static IEnumerable<(ulong Address, long Size)> KernelWrites(RecordedThread thread, long ret, ProcessMemory memory) => [];

    /// <summary>Calls after which the region map must be re-read (mmap, munmap, mprotect, mremap, brk, shmat/shmdt...).</summary>
    public static bool ChangesMap(string abi, long number) => abi == I386
        ? number is 45 or 90 or 91 or 125 or 163 or 192 or 117 // brk mmap munmap mprotect mremap mmap2 ipc
        : number is 9 or 10 or 11 or 12 or 25 or 30 or 67 or 329; // mmap mprotect munmap brk mremap shmat shmdt pkey_mprotect

    /// <summary>execve / execveat.</summary>
    public static bool IsExec(string abi, long number) => abi == I386 ? number is 11 or 358 : number is 59 or 322;

    /// <summary>exit / exit_group: no exit stop follows.</summary>
    public static bool IsExit(string abi, long number) => abi == I386 ? number is 1 or 252 : number is 60 or 231;
}
