using System.Buffers.Binary;
using Ether.Replay.Recorder.Backends.Xen;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Analyzer.Tests.EndToEnd;

/// <summary>
/// Every byte a Xen-traced program read is known at the step that read it. The hypervisor is a FAKE:
/// the real ether-agent replays the synthetic Windows XP SP2 session (make-synthetic-session: page
/// tables, a decrypt loop that reads a buffer NtReadFile filled, returns that read the stack) through
/// its replay backend, the recorder builds the trace, and the replay's values are compared with the
/// guest memory that session served, read straight from the session file (its pages, walked through
/// the sample's page directory) — not from anything the agent or the recorder wrote.
/// </summary>
public sealed class XenStepReadsTests : IDisposable
{
    private const int SamplePid = 1234;
    private const ulong SampleCr3 = 0x100000;        // synthetic_guest.h SYN_SAMPLE_CR3
    private const ulong ReadBuffer = 0x402400;       // SYN_READ_BUFFER_VA, filled by NtReadFile
    private const ulong DecryptLoad = 0x40100F;      // mov al, [esi]
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (string Trace, string Session) Record()
    {
        string session = XenAgentBuild.SyntheticSession(_dir.Path);
        string trace = _dir.File("xp.etrace");
        var result = TraceRecorder.Record(new XenRecordOptions
        {
            AgentPath = XenAgentBuild.Agent,
            ReplaySession = session,
            Guest = "winxp-sp2",
            Process = "sample.exe",
            SingleStep = true,
            Syscalls = true,
            MemoryWrites = true,
            Unpack = true,
            OutputPath = trace,
        });
        Assert.Equal(StopReason.Exited, result.StopReason);
        return (trace, session);
    }

    [Fact]
    public void Every_read_of_every_step_is_known_and_is_what_the_fake_guest_memory_held()
    {
        var (trace, sessionFile) = Record();
        var guest = SessionMemory.Load(sessionFile);
        using var session = ReplaySession.Open(trace);
        Assert.Equal("steps", session.Header.BackendParameters["reads_from"]);
        using var reader = TraceReader.Open(trace);
        var steps = reader.Events().OfType<InstructionEvent>().Where(i => i.Pid == SamplePid).ToList();
        var readRips = new List<ulong>();
        int bytes = 0;
        foreach (var step in steps)
        {
            var reads = session.ReadsAt(step.Step)!;
            foreach (var read in reads.Reads)
            {
                Assert.True(read.Value.KnownCount == read.Size, $"step {step.Step} at 0x{step.Rip:x}: read 0x{read.Address:x} is {read.Value.Hex()}");
                Assert.Equal(guest.Read(SampleCr3, read.Address, read.Size), read.Value.Bytes);
                readRips.Add(step.Rip);
                bytes += read.Size;
            }
        }
        // The decrypt loop's 8 loads of the buffer the kernel filled (never written by a traced step),
        // and the two rets (KiFastSystemCallRet, the decrypted layer's) that read the stack.
        Assert.Equal(8, readRips.Count(r => r == DecryptLoad));
        Assert.Contains(0x7C90EB94UL, readRips);
        Assert.Contains(0x403005UL, readRips);
        Assert.Equal(8 + 4 + 4, bytes);
        var snapshots = reader.Events().OfType<RegionSnapshotEvent>().Where(s => s.Reason == ReadCheck.FirstRead).ToList();
        Assert.Equal([0x402000UL, 0x12F000UL], snapshots.Select(s => s.Address).Order().Reverse());
    }

    [Fact]
    public void Ether_at_shows_the_bytes_a_step_read_where_it_showed_question_marks()
    {
        var (trace, sessionFile) = Record();
        var guest = SessionMemory.Load(sessionFile);
        using var reader = TraceReader.Open(trace);
        var load = reader.Events().OfType<InstructionEvent>().First(i => i.Rip == DecryptLoad);
        var at = EtherProcess.Run(_dir.Path, "at", trace, "--step", load.Step.ToString(), "--mem", $"0x{ReadBuffer:x}:8");
        Assert.True(at.ExitCode == 0, at.ToString());
        string hex = string.Join(' ', guest.Read(SampleCr3, ReadBuffer, 8).Select(b => b.ToString("x2")));
        Assert.Contains("8 bytes (8 seen in the trace", at.Stdout);
        Assert.Contains(at.StdoutLines, l => l.StartsWith($"  0x{ReadBuffer:x12}  {hex}"));
        Assert.Contains($"read      0x{ReadBuffer:x}  1 byte: {hex[..2]}", at.Stdout);
    }

    /// <summary>The guest-physical memory of a replay session file (xen-ether/agent/src/session_file.h) as its
    /// last PAGE records leave it, read through a 32-bit non-PAE page directory.</summary>
    private sealed class SessionMemory
    {
        private readonly Dictionary<ulong, byte[]> _pages = new();

        public static SessionMemory Load(string path)
        {
            var memory = new SessionMemory();
            var file = File.ReadAllBytes(path);
            int at = 8 + 7 * 4 + 32 + 32; // magic, seven u32, hypervisor[32], guest_os[32]
            while (at + 8 <= file.Length)
            {
                uint kind = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4));
                if (kind == 1) memory._pages[BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at + 8))] = file.AsSpan(at + 16, 4096).ToArray();
                at += 8 + length;
            }
            return memory;
        }

        public byte[] Read(ulong cr3, ulong address, int size) =>
            Enumerable.Range(0, size).Select(i => Byte(cr3, address + (ulong)i)).ToArray();

        private byte Byte(ulong cr3, ulong va)
        {
            uint pde = U32(cr3 + ((va >> 22) & 0x3FF) * 4);
            uint pte = U32((pde & ~0xFFFu) + ((va >> 12) & 0x3FF) * 4);
            Assert.True((pde & pte & 1) != 0, $"0x{va:x} is not mapped in the session");
            ulong pa = (pte & ~0xFFFu) | (va & 0xFFF);
            return _pages[pa >> 12][pa & 0xFFF];
        }

        private uint U32(ulong pa) => BinaryPrimitives.ReadUInt32LittleEndian(_pages[pa >> 12].AsSpan((int)(pa & 0xFFF)));
    }
}
