using System.Diagnostics;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;
using Microsoft.Win32.SafeHandles;

namespace Ether.Replay.Recorder.Tests.Transparency;

/// <summary>
/// <see cref="SeqFileReads"/> against the kernel itself: the /proc files of a process that does not
/// change (a sleeping `sleep`) read with many buffer sizes and offset patterns; every read must
/// return as many bytes as the kernel's did.
/// </summary>
public sealed class SeqFileReadsTests : IDisposable
{
    private readonly Process _sleep = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

    public void Dispose()
    {
        _sleep.Kill();
        _sleep.WaitForExit();
        _sleep.Dispose();
    }

    public static TheoryData<string, int[]> Patterns => new()
    {
        { "maps", [1, 7, 100, 1000, 4096, 5000, 65536] },
        { "smaps", [64, 1000, 4096, 8192, 65536] },
        { "status", [10, 4096, 65536] },
    };

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Every_read_returns_as_many_bytes_as_the_kernels(string name, int[] sizes)
    {
        string path = $"/proc/{_sleep.Id}/{name}";
        byte[] content = Settled(path);
        IReadOnlyList<int> records = name == "status" ? [content.Length] : ImaginaryMapsRewriter.VmaRecords(content);
        Assert.True(records.Count > (name == "status" ? 0 : 10));
        foreach (int size in sizes)
        {
            // Sequential reads from the start.
            Assert.Equal(Kernel(path, size, []), Model(records, size, []));
            // Reads that jump: into the middle of a record, to a record's start, back to the start.
            long[] jumps = [records[records.Count / 2] - 3, records[Math.Min(1, records.Count - 1)], 0, content.Length / 3];
            Assert.Equal(Kernel(path, size, jumps), Model(records, size, jumps));
        }
    }

    /// <summary>The file once `sleep` has started (ld.so done: two reads alike).</summary>
    private static byte[] Settled(string path)
    {
        byte[] last = File.ReadAllBytes(path);
        for (int i = 0; i < 100; i++)
        {
            Thread.Sleep(20);
            byte[] now = File.ReadAllBytes(path);
            if (now.AsSpan().SequenceEqual(last)) return now;
            last = now;
        }
        return last;
    }

    /// <summary>Chunk sizes the kernel returns: reads until EOF, then each jump followed by two reads.</summary>
    private static List<long> Kernel(string path, int size, long[] jumps)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        var buffer = new byte[size];
        var chunks = new List<long>();
        long pos = 0;
        int n;
        while ((n = RandomAccess.Read(handle, buffer, pos)) > 0) { chunks.Add(n); pos += n; }
        foreach (long at in jumps)
        {
            chunks.Add(-1);
            pos = at;
            for (int i = 0; i < 2 && (n = RandomAccess.Read(handle, buffer, pos)) > 0; i++) { chunks.Add(n); pos += n; }
        }
        return chunks;
    }

    private static List<long> Model(IReadOnlyList<int> records, int size, long[] jumps)
    {
        var reads = new SeqFileReads();
        var chunks = new List<long>();
        long pos = 0, n;
        while ((n = reads.Read(pos, size, records)) > 0) { chunks.Add(n); pos += n; }
        foreach (long at in jumps)
        {
            chunks.Add(-1);
            pos = at;
            for (int i = 0; i < 2 && (n = reads.Read(pos, size, records)) > 0; i++) { chunks.Add(n); pos += n; }
        }
        return chunks;
    }
}
