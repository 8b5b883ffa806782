using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Recorder.Tests.Syscalls;

internal static class DecoderTestHelpers
{
    public static SyscallDecoder X64 => SyscallDecoder.For("linux-x86_64");
    public static SyscallDecoder I386 => SyscallDecoder.For("linux-i386");

    public static long Nr(this SyscallDecoder decoder, string name) =>
        SyscallTables.Find(decoder.Abi).TryGetNumber(name, out var nr) ? nr : throw new ArgumentException(name);

    /// <summary>name(args) as strace prints a call when it starts.</summary>
    public static string Entry(this SyscallDecoder decoder, string name, ITargetMemory mem, params ulong[] args) =>
        $"{name}({string.Join(", ", decoder.DecodeEntry(decoder.Nr(name), args, mem))})";

    /// <summary>name(args) = ret as strace prints a finished call (exit rendering when there is one).</summary>
    public static string Full(this SyscallDecoder decoder, string name, ITargetMemory mem, long ret, params ulong[] args)
    {
        var nr = decoder.Nr(name);
        var rendered = decoder.DecodeExit(nr, args, ret, mem) ?? decoder.DecodeEntry(nr, args, mem);
        return $"{name}({string.Join(", ", rendered)}) = {decoder.FormatReturn(nr, args, ret)}";
    }

    public static ulong U(long value) => unchecked((ulong)value);
}
