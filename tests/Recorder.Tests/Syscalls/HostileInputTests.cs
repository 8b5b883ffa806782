using CsCheck;
using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>
/// Decoding runs on whatever a hostile sample passes: any call number, any register values, any
/// memory contents. It must never throw and must stay bounded in what it reads and prints.
/// </summary>
public class HostileInputTests
{
    private const ulong Region = 0x10000;
    private const int RegionSize = 3 * 4096;

    private static readonly Gen<ulong> Argument = Gen.Frequency(
        (3, Gen.OneOf(0UL, 1UL, 2UL, 3UL, 8UL, 16UL, 0x7fffffffUL, 0xffffffffUL, 0xffffff9cUL, ulong.MaxValue,
            ulong.MaxValue - 8, 1UL << 60, 0x80000UL, 0x241UL)),
        (3, Gen.ULong[Region, Region + RegionSize + 64]),        // pointers into and just past the mapped region
        (1, Gen.ULong));

    private static readonly Gen<byte[]> Contents = Gen.Frequency(
        (1, Gen.Byte.Array[RegionSize]),                           // random bytes: wild pointers, lengths, no NULs
        (1, Gen.Byte[0, 3].Array[RegionSize]),                     // mostly NULs and tiny values
        (1, Gen.OneOf((byte)0x00, (byte)0x01, (byte)0x10, (byte)0xff).Array[RegionSize]),
        // Words that are mostly pointers back into the region: iovecs, argv and msghdrs that lead somewhere.
        (2, Argument.Array[RegionSize / 8].Select(words => words.SelectMany(BitConverter.GetBytes).ToArray())));

    [Theory]
    [InlineData("linux-x86_64")]
    [InlineData("linux-i386")]
    public void Random_calls_never_throw_and_stay_bounded(string abi)
    {
        var decoder = SyscallDecoder.For(abi);
        var writes = KernelWriteSet.For(abi);
        var maxNumber = SyscallTables.Find(abi).MaxNumber + 2;
        Gen.Select(Gen.Long[-1, maxNumber], Argument.Array[6], Gen.Long[-4200, 70000], Contents)
            .Sample((nr, args, ret, contents) =>
            {
                // Map the region plus pointers into it at its start, so structures point back into it.
                var mem = new FakeTargetMemory().Put(Region, contents);
                var entry = decoder.DecodeEntry(nr, args, mem);
                var exit = decoder.DecodeExit(nr, args, ret, mem);
                var result = decoder.FormatReturn(nr, args, ret);
                Assert.All(entry, s => Assert.True(s.Length < 40_000, $"{decoder.Name(nr)} printed {s.Length} chars"));
                if (exit is not null)
                    Assert.All(exit, s => Assert.True(s.Length < 40_000, $"{decoder.Name(nr)} printed {s.Length} chars"));
                Assert.False(string.IsNullOrEmpty(result));
                Assert.True(mem.LargestRead <= 4096 + 1, $"{decoder.Name(nr)} read {mem.LargestRead} bytes at once");
                foreach (var (address, length) in writes.Writes(nr, args, ret, mem))
                {
                    Assert.NotEqual(0UL, address);
                    Assert.True(length > 0);
                }
            }, iter: 20_000);
    }

    [Fact]
    public void A_string_without_end_is_read_at_most_once_per_limit()
    {
        // A mapped megabyte of non-NUL bytes: the path is cut at PATH_MAX, a string at 32.
        var mem = new FakeTargetMemory().Put(0x100000, Enumerable.Repeat((byte)'A', 1 << 20).ToArray());
        var decoder = SyscallDecoder.For("linux-x86_64");
        var open = decoder.DecodeEntry(2, [0x100000, 0, 0], mem);
        Assert.Equal(4095 + 2 + 3, open[0].Length);
        Assert.True(mem.BytesRequested <= 4097, $"{mem.BytesRequested} bytes requested");
    }
}
