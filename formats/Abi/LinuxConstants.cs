namespace Ether.Replay.Formats.Abi;

/// <summary>
/// Constants of the Linux user ABI on x86 (UAPI and glibc headers), generated into
/// LinuxConstants.g.cs by generate/generate_tables.py: names from the headers' #define lines,
/// values as gcc computes them. The member names are the C names on purpose, so that a reader
/// can grep the headers for them. The values are the same for x86-64 and i386 processes for
/// every set here (x86 uses the generic fcntl/mman/signal numbering); the few 32-bit-only names
/// (F_GETLK64, ...) are listed as left out in the generated file.
/// </summary>
public static partial class LinuxConstants
{
}
