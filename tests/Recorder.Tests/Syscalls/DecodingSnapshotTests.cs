using System.Security.Cryptography;
using System.Text;
using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>
/// Pins what the decoder prints and which memory the kernel write set names for EVERY call number
/// of both Linux ABIs, on a fixed set of argument fixtures over a patterned memory. The snapshot
/// (one hash per call in Snapshots/linux-calls.txt) was taken from the hand-written decoder before
/// system-call knowledge became a table; the table-driven decoder must print and write the same.
/// A change on purpose: run with ETHER_UPDATE_SNAPSHOT=1 and commit the file with the reason.
/// </summary>
public sealed class DecodingSnapshotTests
{
    private const ulong Base = 0x10000;
    private const int Size = 0x40000;
    private const string SnapshotFile = "tests/Recorder.Tests/Syscalls/Snapshots/linux-calls.txt";

    [Fact]
    public void Every_calls_text_and_kernel_writes_are_unchanged()
    {
        var path = Path.Combine(RepoPaths.Root, SnapshotFile);
        var current = new List<string>();
        var texts = new Dictionary<string, string>();
        foreach (var abi in new[] { SyscallTables.LinuxX86_64Abi, SyscallTables.LinuxI386Abi })
        {
            var table = SyscallTables.Find(abi);
            for (long nr = 0; nr <= table.MaxNumber + 2; nr++) // two past the end: unknown numbers too
            {
                var text = Render(abi, nr);
                var key = $"{abi} {nr} {table.Name(nr)}";
                texts[key] = text;
                current.Add($"{key} {Hash(text)}");
            }
        }

        if (Environment.GetEnvironmentVariable("ETHER_DUMP_SNAPSHOT") is { Length: > 0 } dump)
            File.WriteAllLines(dump, texts.Select(t => $"== {t.Key}\n{t.Value}"));
        if (Environment.GetEnvironmentVariable("ETHER_UPDATE_SNAPSHOT") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllLines(path, current);
            return;
        }
        var expected = File.ReadAllLines(path);
        var differences = new List<string>();
        var expectedByKey = expected.ToDictionary(l => l[..l.LastIndexOf(' ')], l => l[(l.LastIndexOf(' ') + 1)..]);
        foreach (var line in current)
        {
            var key = line[..line.LastIndexOf(' ')];
            if (!expectedByKey.TryGetValue(key, out var hash))
                differences.Add($"new call {key}:\n{texts[key]}");
            else if (hash != line[(line.LastIndexOf(' ') + 1)..])
                differences.Add($"changed {key}, now:\n{texts[key]}");
        }
        differences.AddRange(expectedByKey.Keys.Where(k => !texts.ContainsKey(k)).Select(k => $"missing call {k}"));
        Assert.True(differences.Count == 0,
            $"{differences.Count} calls print or write differently from the snapshot:\n" + string.Join("\n", differences.Take(5)));
        Assert.True(expected.Length > 800, "the snapshot covers every call of both ABIs");
    }

    /// <summary>Everything the decoder and the write set say about one call number over all fixtures.</summary>
    private static string Render(string abi, long nr)
    {
        var decoder = SyscallDecoder.For(abi);
        var writes = KernelWriteSet.For(abi);
        var memory = abi == SyscallTables.LinuxI386Abi ? Memory32.Value : Memory64.Value;
        var sb = new StringBuilder();
        foreach (var (args, rets) in Fixtures)
        {
            sb.Append("args ").AppendJoin(',', args.Select(a => a.ToString("x"))).Append('\n');
            sb.Append("  entry ").AppendJoin(" | ", decoder.DecodeEntry(nr, args, memory)).Append('\n');
            foreach (var ret in rets)
            {
                var exit = decoder.DecodeExit(nr, args, ret, memory);
                sb.Append("  ret ").Append(ret).Append(" = ").Append(decoder.FormatReturn(nr, args, ret)).Append('\n');
                sb.Append("    exit ").Append(exit is null ? "(same)" : string.Join(" | ", exit)).Append('\n');
                sb.Append("    writes ").AppendJoin(' ', writes.Writes(nr, args, ret, memory).Select(w => $"{w.Address:x}+{w.Length}")).Append('\n');
            }
        }
        return sb.ToString();
    }

    private static readonly Lazy<FakeTargetMemory> Memory64 = new(() => PatternedMemory(8));
    private static readonly Lazy<FakeTargetMemory> Memory32 = new(() => PatternedMemory(4));

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();

    private static ulong P(int offset) => Base + (ulong)offset;

    /// <summary>
    /// Argument sets and the results each is decoded with: pointers into the patterned memory,
    /// small numbers, flag words, op codes of the calls whose printing depends on them (ioctl,
    /// fcntl, futex, prctl, ptrace, arch_prctl, socketcall), NULLs and unreadable pointers.
    /// </summary>
    private static readonly (ulong[] Args, long[] Rets)[] Fixtures =
    [
        ([P(0x100), P(0x2000), 16, P(0x3000), 24, P(0x4000)], [8, 0, -4, -516, -2]),
        ([3, P(0x800), 64, 0x42, P(0x1800), 2], [0, 3, 100]),
        ([unchecked((ulong)-100), P(0x5000), 0x241, 0x1a4, 0, 0], [3, -13]),
        ([0, 0, 0, 0, 0, 0], [0, 1]),
        ([0xdead_0000, 1, 2, 0xdead_1000, 5, 6], [4, -14]),
        ([1, 3, P(0x6008), P(0x7010), 0x80, 9], [2, -512]),
        ([2, 0x5401, P(0x6100), 1, P(0x7200), 0x81], [0, 5]),
        ([0x1002, 0x5413, P(0x6200), 3, 1, 15], [0, 7]),
        ([16, 0x80, P(0x6300), 0x2a, 0x1b, 4], [1]),
        ([15, 9, P(0x6400), 0x10, 0x11000, 0x20], [0, 64]),
        ([0x11, 0x1c, 0x4, P(0x6500), P(0x6600), 1], [6]),
        ([P(0x9000), 0x100, 7, 0x22, unchecked((ulong)-1), 0], [0x7f00_0000]),
        ([P(0x110), P(0x2010), 3, P(0x3018), 2, P(0x4008)], [8, 0x30]),
    ];

    /// <summary>
    /// Readable memory from Base whose words look like what calls read: pointers back into the
    /// region, small counts, short strings and arbitrary numbers, so nested structures (iovecs,
    /// msghdrs, argv) are followed a little way and every rendering stays short and deterministic.
    /// </summary>
    private static FakeTargetMemory PatternedMemory(int wordSize)
    {
        var bytes = new byte[Size];
        for (var at = 0; at + wordSize <= Size; at += wordSize)
        {
            var k = at / wordSize;
            ulong word = (k % 4) switch
            {
                0 => Base + (ulong)((k * 40503L) % (Size - 0x1000) & ~7L),
                1 => (ulong)(k % 7),
                2 => BitConverter.ToUInt64("ab/c\0xyz"u8),
                _ => (ulong)(k * 0x9E3779B1L) & 0xffff_ffff,
            };
            if (wordSize == 8)
                BitConverter.TryWriteBytes(bytes.AsSpan(at), word);
            else
                BitConverter.TryWriteBytes(bytes.AsSpan(at), (uint)word);
        }
        return new FakeTargetMemory().Put(Base, bytes);
    }
}
