using System.Security.Cryptography;
using System.Text;
using Ether.Replay.Formats.LogInternal;
using MessagePack;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// Traces an analyst already has keep working: a file written by format version 1 (register changes
/// as plain deltas, before prediction) reads back exactly as the version-1 reader read it, and a file
/// from a newer version is refused with one clear line.
/// </summary>
public class FormatVersionTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Log", "Fixtures", name);

    /// <summary>Fixtures/v1-md5sum.etrace: written by the version-1 writer from two stretches of a real
    /// `ether record -- md5sum` trace (ld.so's start, then md5's compression loop); see Fixtures/README.md.
    /// The event dump below, taken with the version-1 reader, hashed to this value.</summary>
    private const string V1DumpSha256 = "4bbd37e16c489074984f9bb9b5a24f55c0c7ad7328b322447e7cf20fb2e480f1";

    [Fact]
    public void A_version_1_trace_reads_back_as_the_version_1_reader_read_it()
    {
        using var reader = TraceReader.Open(Fixture("v1-md5sum.etrace"));
        Assert.Equal(1, reader.Header.FormatVersion);
        var dump = new StringBuilder();
        var lines = new Dictionary<long, string>();
        foreach (var e in reader.Events())
        {
            string line = Describe(e);
            dump.Append(line).Append('\n');
            if (e is RegisterChangeEvent) lines[e.Step] = line;
        }
        // Spot checks a reader can see at a glance: md5's state words in the loop.
        Assert.Contains("mask=20004 rax=dbd3bc4d rbx=600a2b2d rcx=6a424bde rdx=e6cdfdcc rsi=e49d28c9 rdi=a7708f91", lines[3400]);
        Assert.Contains("mask=20 rax=5eb7c6e3 rbx=20656874 rcx=77953ab7 rdx=df16591e rsi=994ec50 rdi=6e656761", lines[3999]);
        Assert.Equal(V1DumpSha256, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dump.ToString()))));
    }

    [Fact]
    public void The_same_events_written_by_this_version_read_back_alike_and_smaller()
    {
        using var v1 = TraceReader.Open(Fixture("v1-md5sum.etrace"));
        var ms = RewrittenByThisWriter(v1);
        using var v2 = new TraceReader(new MemoryStream(ms.ToArray()));
        Assert.Equal(FrameFormat.FormatVersion, v2.Header.FormatVersion);
        // rip aside: a change never carries the executing thread's rip, and what a reader shows there is a keyframe's.
        static string WithoutRip(TraceEvent e)
        {
            if (e is RegisterChangeEvent r) r.Registers.Rip = 0;
            return Describe(e);
        }
        Assert.Equal(v1.Events().Where(e => e is not KeyframeEvent).Select(WithoutRip), v2.Events().Where(e => e is not KeyframeEvent).Select(WithoutRip));
        Assert.True(ms.Length < v1.FileSize * 0.6, $"version 2: {ms.Length} bytes, version 1: {v1.FileSize}");
    }

    /// <summary>Version-2 files written before the reader's prediction was rewritten for speed (main at 149509b) must
    /// decode to the same registers: a reader whose prediction differs from the writer's by one bit in one flag
    /// would decode every later value of that register wrongly. Fixtures/v2-cases.etrace holds every
    /// predicted form (64- and 32-bit code, boundary and random values, reports the prediction gets right,
    /// half right and wrong); v1-cases.etrace the same events without prediction, which is the truth.</summary>
    [Theory]
    [InlineData("v2-cases.etrace", "v1-cases.etrace")]
    [InlineData("v2-md5sum.etrace", "v1-md5sum.etrace")]
    public void A_version_2_trace_from_the_first_version_2_writer_reads_back_as_its_version_1_twin(string v2Name, string v1Name)
    {
        using var v2 = TraceReader.Open(Fixture(v2Name));
        using var v1 = TraceReader.Open(Fixture(v1Name));
        Assert.Equal(2, v2.Header.FormatVersion);
        Assert.Equal(1, v1.Header.FormatVersion);
        static string WithoutRip(TraceEvent e)
        {
            if (e is RegisterChangeEvent r) r.Registers.Rip = 0;
            return Describe(e);
        }
        var expected = v1.Events().Where(e => e is not KeyframeEvent).Select(WithoutRip).ToList();
        var actual = v2.Events().Where(e => e is not KeyframeEvent).Select(WithoutRip).ToList();
        Assert.True(expected.Count > 1000, $"{v1Name}: {expected.Count} events");
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i]);
        Assert.Equal(expected.Count, actual.Count);
    }

    /// <summary>The reader reuses the previous chunk's instruction ops (found by key: rip, bytes, bitness); a reader that
    /// jumps between chunks (a seek, the browser) must decode each chunk exactly as a reader going in order does.</summary>
    [Fact]
    public void Chunks_read_in_any_order_decode_as_in_order()
    {
        const string name = "v2-md5sum.etrace";
        using var inOrder = TraceReader.Open(Fixture(name));
        using var jumping = TraceReader.Open(Fixture(name));
        int n = inOrder.Chunks.Count;
        Assert.True(n >= 3, $"{name}: {n} chunks");
        var chunk = new DecodedChunk();
        var expected = new List<string>[n];
        for (int i = 0; i < n; i++)
            expected[i] = ChunkEvents.InLogOrder(inOrder.ReadChunk(i, chunk)).Select(Describe).ToList();
        var order = Enumerable.Range(0, n).Reverse().Concat([0, 0, n - 1, 1]).Concat(Enumerable.Range(0, n).OrderBy(i => (i * 7919) % n));
        foreach (int i in order)
            Assert.Equal(expected[i], ChunkEvents.InLogOrder(jumping.ReadChunk(i, chunk)).Select(Describe).ToList());
    }

    /// <summary>Readers that need no registers (the replay index, memory and write scans) skip the register pass:
    /// everything else of the chunk is as a full read has it, and the chunk says its register changes are missing.</summary>
    [Fact]
    public void A_chunk_read_without_its_register_changes_has_everything_else()
    {
        using var full = TraceReader.Open(Fixture("v2-md5sum.etrace"));
        using var partial = TraceReader.Open(Fixture("v2-md5sum.etrace"));
        var a = new DecodedChunk();
        var b = new DecodedChunk();
        for (int i = 0; i < full.Chunks.Count; i++)
        {
            full.ReadChunk(i, a);
            partial.ReadChunk(i, b, registerChanges: false);
            Assert.True(a.HasRegisterChanges);
            Assert.True(a.RegisterChangeCount > 0);
            Assert.False(b.HasRegisterChanges);
            Assert.Equal(0, b.RegisterChangeCount);
            Assert.Equal(a.InstructionCount, b.InstructionCount);
            for (int k = 0; k < a.InstructionCount; k++)
            {
                Assert.Equal((a.InstructionStep[k], a.InstructionRip[k], a.InstructionThread[k]), (b.InstructionStep[k], b.InstructionRip[k], b.InstructionThread[k]));
                Assert.True(a.InstructionBytes(k).SequenceEqual(b.InstructionBytes(k)));
            }
            Assert.Equal(a.WriteCount, b.WriteCount);
            for (int k = 0; k < a.WriteCount; k++)
                Assert.Equal((a.WriteStep[k], a.WriteAddress[k], a.WriteSize[k]), (b.WriteStep[k], b.WriteAddress[k], b.WriteSize[k]));
            Assert.Equal(a.SideEvents.Select(Describe), b.SideEvents.Select(Describe));
            Assert.Equal(a.SideWritesBefore, b.SideWritesBefore);
        }
        // ...and the same reader reads the next chunk whole again, prediction included.
        partial.ReadChunk(1, b);
        full.ReadChunk(1, a);
        Assert.True(b.HasRegisterChanges);
        Assert.Equal(ChunkEvents.InLogOrder(a).Select(Describe), ChunkEvents.InLogOrder(b).Select(Describe));
    }

    /// <summary>...and this writer still writes them byte for byte: the encoding of version 2 did not change
    /// (header and chunks; the footer records when the file was closed).</summary>
    [Fact]
    public void This_writer_writes_the_first_version_2_writers_bytes()
    {
        using var v1 = TraceReader.Open(Fixture("v1-md5sum.etrace"));
        var ms = RewrittenByThisWriter(v1);
        using var fixture = TraceReader.Open(Fixture("v2-md5sum.etrace"));
        long chunksEnd = fixture.Chunks[^1].Offset + fixture.Chunks[^1].Length;
        Assert.Equal(File.ReadAllBytes(Fixture("v2-md5sum.etrace"))[..(int)chunksEnd], ms.ToArray()[..(int)chunksEnd]);
    }

    [Fact]
    public void A_newer_version_is_refused_with_one_line()
    {
        var file = SampleTrace.Build(steps: 20);
        using var original = new TraceReader(new MemoryStream(file));
        // Re-write the header frame with format_version 3.
        var header = new ByteBuffer();
        var w = new MessagePackWriter(header);
        w.WriteMapHeader(1);
        w.Write("format_version");
        w.Write(FrameFormat.FormatVersion + 1);
        w.Flush();
        var frame = new byte[FrameFormat.PreambleLength + header.Length];
        FrameFormat.WritePreamble(frame, FrameFormat.HeaderFrame, header.WrittenSpan);
        header.WrittenSpan.CopyTo(frame.AsSpan(FrameFormat.PreambleLength));
        byte[] newer = [.. FrameFormat.FileMagic, .. frame];
        var e = Assert.Throws<TraceFormatException>(() => new TraceReader(new MemoryStream(newer)));
        Assert.Equal($"trace format version {FrameFormat.FormatVersion + 1} is newer than this tool reads ({FrameFormat.FormatVersion}); update Ether.Replay (at byte 8)", e.Message);
    }

    /// <summary>Every event of <paramref name="from"/> through this writer's public API, in chunks of 1,000 steps.</summary>
    private static MemoryStream RewrittenByThisWriter(TraceReader from)
    {
        var ms = new MemoryStream();
        using var w = new TraceWriter(ms, from.Header, new TraceWriterOptions { ChunkSteps = 1000, ChunkAge = TimeSpan.FromHours(1) }, leaveOpen: true);
        foreach (var e in from.Events())
        {
            switch (e)
            {
                case KeyframeEvent k when k.Step % 1000 == 0 && k.Step > 0: break; // chunk-start keyframes: the writer makes its own
                case KeyframeEvent k: w.Registers(k.Pid, k.Tid, k.Registers); break;
                case RegisterChangeEvent r: w.Registers(r.Pid, r.Tid, r.Registers); break;
                default: w.Write(e); break;
            }
        }
        w.Dispose();
        return ms;
    }

    /// <summary>The dump format the fixture's hash was taken with (register files in full, rip included).</summary>
    private static string Describe(TraceEvent e)
    {
        string head = $"{e.Kind} s={e.Step} p={e.Pid} t={e.Tid}";
        return e switch
        {
            InstructionEvent i => $"{head} rip={i.Rip:x} {Convert.ToHexString(i.Bytes)}",
            MemoryWriteEvent m => $"{head} a={m.Address:x} n={m.Size} f={m.Flags} v={Convert.ToHexString(m.Value)}",
            KeyframeEvent k => $"{head} {k.Registers}",
            RegisterChangeEvent c => $"{head} mask={c.Mask:x} {c.Registers}",
            SyscallEntryEvent s => $"{head} {s.Name} [{string.Join(",", s.Args)}]",
            SyscallExitEvent s => $"{head} {s.Name} ret={s.Return}",
            _ => head,
        };
    }
}
