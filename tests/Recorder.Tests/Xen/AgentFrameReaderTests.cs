using System.Diagnostics;
using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Xen;
using MessagePack;
using static Ether.Replay.Recorder.Tests.Xen.AgentFrameBytes;

namespace Ether.Replay.Recorder.Tests.Xen;

public sealed class AgentFrameReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ether-frames-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Hello(ulong seq = 0) => Frame((ref MessagePackWriter w) =>
    {
        w.Write("type"); w.Write("hello"); w.Write("seq"); w.Write(seq); w.Write("protocol"); w.Write(1);
        w.Write("guest_word_size"); w.Write(4); w.Write("future_key"); w.WriteArrayHeader(2); w.Write(1); w.Write("x");
    }, 5);

    private static byte[] Step(ulong seq, ulong rip, byte[] insn) => Frame((ref MessagePackWriter w) =>
    {
        w.Write("type"); w.Write("step"); w.Write("seq"); w.Write(seq); w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0x1000);
        w.Write("rip"); w.Write(rip); w.Write("insn"); w.Write(insn);
        w.Write("regs"); w.WriteMapHeader(2); w.Write("rax"); w.Write(7); w.Write("efer"); w.Write(0x500);
    }, 7);

    [Fact]
    public void Reads_frames_skips_unknown_keys_and_types()
    {
        var novel = Frame((ref MessagePackWriter w) => { w.Write("type"); w.Write("telemetry"); w.Write("seq"); w.Write(2); }, 2);
        var stream = new MemoryStream([.. Hello(), .. Step(1, 0x401000, [0x90, 0xCC, 0xCC]), .. novel]);
        var reader = new AgentFrameReader(stream);
        var f = new AgentFrame();
        Assert.True(reader.Next(f));
        Assert.Equal((AgentFrameType.Hello, 1UL, 4UL), (f.Type, f.Protocol, f.GuestWordSize));
        Assert.True(reader.Next(f));
        Assert.Equal((AgentFrameType.Step, 0x401000UL, 3), (f.Type, f.Rip, f.InsnLength));
        Assert.Equal(7UL, f.Registers[Register.Rax]);
        Assert.Equal(0x500UL, f.Efer);
        Assert.True(reader.Next(f));
        Assert.Equal(AgentFrameType.Unknown, f.Type);
        Assert.False(reader.Next(f));
    }

    [Fact]
    public void Broken_streams_are_one_line_errors_naming_the_byte()
    {
        var f = new AgentFrame();
        var cut = Hello()[..6];
        Assert.Matches("ends inside the frame at byte 0", Assert.Throws<AgentProtocolException>(() => new AgentFrameReader(new MemoryStream(cut)).Next(f)).Message);
        var huge = new byte[] { 0x7F, 0xFF, 0xFF, 0xFF };
        Assert.Matches("claims 2147483647 bytes", Assert.Throws<AgentProtocolException>(() => new AgentFrameReader(new MemoryStream(huge)).Next(f)).Message);
        var gap = new MemoryStream([.. Hello(), .. Step(5, 1, [0x90])]);
        var reader = new AgentFrameReader(gap);
        reader.Next(f);
        Assert.Contains("seq 5 after 0: frames were lost", Assert.Throws<AgentProtocolException>(() => reader.Next(f)).Message);
        var garbage = new byte[] { 0, 0, 0, 3, 0xC1, 0xC1, 0xC1 };
        Assert.Contains("does not decode", Assert.Throws<AgentProtocolException>(() => new AgentFrameReader(new MemoryStream(garbage)).Next(f)).Message);
    }

    /// <summary>Frames captured on the Xen host can be turned into a trace later; a cut capture keeps its prefix.</summary>
    [Fact]
    public void A_captured_frame_file_records_like_the_live_stream_and_a_cut_one_keeps_its_prefix()
    {
        string session = XenAgentBuild.SyntheticSession(_dir);
        string frames = Path.Combine(_dir, "frames.bin");
        var psi = new ProcessStartInfo("sh", ["-c", $"'{XenAgentBuild.Agent}' --replay '{session}' --process sample.exe --syscalls --singlestep --memwrites --unpack > '{frames}'"]);
        using (var p = Process.Start(psi)!) p.WaitForExit();

        string full = Path.Combine(_dir, "full.etrace");
        TraceRecorder.Record(new XenRecordOptions { FramesFile = frames, OutputPath = full });
        using (var reader = TraceReader.Open(full))
        {
            Assert.Equal(4, reader.Summary.Count(EventKind.SyscallEntry));
            Assert.True(reader.Summary.Count(EventKind.Instruction) > 50);
        }

        var bytes = File.ReadAllBytes(frames);
        string cutFrames = Path.Combine(_dir, "cut.bin");
        File.WriteAllBytes(cutFrames, bytes[..(bytes.Length * 2 / 3)]);
        string cut = Path.Combine(_dir, "cut.etrace");
        // A cut stream: the trace is closed with what it had, and the result says why.
        var result = TraceRecorder.Record(new XenRecordOptions { FramesFile = cutFrames, OutputPath = cut });
        Assert.Equal(StopReason.RecorderError, result.StopReason);
        Assert.Contains("agent stream ends inside", result.StopDetail);
        using var partial = TraceReader.Open(cut);
        Assert.True(partial.Summary.ClosedCleanly);
        Assert.Equal(StopReason.RecorderError, partial.Summary.StopReason);
        Assert.True(partial.Summary.Count(EventKind.SyscallEntry) >= 1);
    }
}
