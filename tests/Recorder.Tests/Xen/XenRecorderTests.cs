using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Xen;

namespace Ether.Replay.Recorder.Tests.Xen;

/// <summary>
/// End to end without Xen: the real agent replays the synthetic Windows XP SP2 session (its replay
/// backend stands in for the hypervisor), and the recorder turns its frames into an .etrace.
/// </summary>
public sealed class XenRecorderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ether-xen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (TraceReader Reader, List<TraceEvent> Events, RecordingResult Result) RecordSynthetic(bool singleStep = true)
    {
        string output = Path.Combine(_dir, "xp.etrace");
        var result = TraceRecorder.Record(new XenRecordOptions
        {
            AgentPath = XenAgentBuild.Agent,
            ReplaySession = XenAgentBuild.SyntheticSession(_dir),
            Guest = "winxp-sp2",
            Process = "sample.exe",
            SingleStep = singleStep,
            Syscalls = true,
            MemoryWrites = true,
            Unpack = true,
            OutputPath = output,
        });
        var reader = TraceReader.Open(output);
        return (reader, reader.Events().ToList(), result);
    }

    [Fact]
    public void The_synthetic_xp_session_becomes_a_trace_with_names_arguments_steps_writes_and_the_unpack_moment()
    {
        var (reader, events, result) = RecordSynthetic();
        using var _ = reader;
        Assert.Contains(result.BackendDetails, d => d.Key == "agent" && d.Value == "replay-finished");
        Assert.Equal((StopReason.Exited, 4L), (result.StopReason, result.Syscalls));
        Assert.True(reader.Summary.ClosedCleanly);
        Assert.Equal(StopReason.Exited, reader.Summary.StopReason);
        Assert.Equal("xen", reader.Header.Backend);
        Assert.Equal("nt-winxp-sp2-x86", reader.Header.BackendParameters["abi"]);
        Assert.Equal("x86", reader.Header.Architecture);
        Assert.Equal("sample.exe", reader.Header.TargetPath);

        // The sample's calls, in order, with their real arguments (arity read from the ntdll stubs).
        var entries = events.OfType<SyscallEntryEvent>().ToList();
        Assert.Equal(["NtAllocateVirtualMemory", "NtOpenFile", "NtReadFile", "NtClose"], entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.Equal("nt-winxp-sp2-x86", e.Abi));
        Assert.Equal([6, 6, 9, 1], entries.Select(e => e.Args.Length));
        Assert.Equal(0xFFFFFFFFUL, entries[0].Args[0]);
        Assert.Equal(0x40UL, entries[0].Args[5]);
        Assert.Equal("{ObjectName=\"\\??\\C:\\sample\\input.txt\"}", entries[1].Decoded[2]);
        Assert.All(entries, e => Assert.Equal(1234, e.Pid));
        var exits = events.OfType<SyscallExitEvent>().ToList();
        Assert.Equal(entries.Select(e => e.Name), exits.Select(e => e.Name));
        Assert.All(exits, e => Assert.Equal((0L, 0L), (e.Return, e.Errno)));

        // The single-step stretch: the decrypt loop at 0x401000 and the jump into the written page.
        var steps = events.OfType<InstructionEvent>().Where(i => i.Pid == 1234).ToList();
        Assert.Contains(steps, s => s.Rip == 0x401000 && s.Bytes.SequenceEqual(new byte[] { 0xBE, 0x00, 0x24, 0x40, 0x00 }));
        var writes = events.OfType<MemoryWriteEvent>().Where(w => w.Address >= 0x403000 && w.Address < 0x404000).ToList();
        Assert.Equal(8, writes.Count);
        Assert.All(writes, w => Assert.Equal(1, w.Size)); // mov [edi], al: one byte each
        Assert.Equal(Enumerable.Range(0, 8).Select(i => 0x403000UL + (ulong)i), writes.Select(w => w.Address));

        // Write-then-execute: the page snapshot sits at the first step executed in the page.
        var firstInLayer = steps.First(s => s.Rip >= 0x403000 && s.Rip < 0x404000);
        var snapshot = Assert.Single(events.OfType<RegionSnapshotEvent>(), s => s.Reason == "unpack");
        Assert.Equal(("unpack", 0x403000UL, 4096), (snapshot.Reason, snapshot.Address, snapshot.Bytes.Length));
        Assert.Equal(firstInLayer.Step, snapshot.Step);
        Assert.Equal(writes.Select(w => w.Value[0]), snapshot.Bytes.Take(8));
        Assert.Equal(firstInLayer.Bytes, snapshot.Bytes.AsSpan(0, firstInLayer.Bytes.Length).ToArray());
    }

    [Fact]
    public void Without_single_step_every_call_still_gets_a_step_of_its_own()
    {
        var (reader, events, _) = RecordSynthetic(singleStep: false);
        using var _ = reader;
        Assert.Empty(events.OfType<InstructionEvent>());
        var entrySteps = events.OfType<SyscallEntryEvent>().Select(e => e.Step).ToList();
        Assert.Equal(4, entrySteps.Count);
        Assert.Equal(entrySteps.Distinct().Count(), entrySteps.Count);
    }

    [Fact]
    public void Bad_requests_are_one_line_errors()
    {
        var none = Assert.Throws<RecordingSetupException>(() => TraceRecorder.Record(new XenRecordOptions { OutputPath = Path.Combine(_dir, "x.etrace"), Syscalls = true }));
        Assert.Contains("exactly one of --domain ID, --replay SESSION or --frames FILE", none.Message);
        var guest = Assert.Throws<RecordingSetupException>(() => TraceRecorder.Record(new XenRecordOptions { OutputPath = Path.Combine(_dir, "x.etrace"), Domain = 1, Guest = "os2", Syscalls = true }));
        Assert.StartsWith("unknown guest 'os2'", guest.Message);
        // Without Xen the live agent fails at once; its one line reaches the user.
        var live = Assert.Throws<RecordingSetupException>(() => TraceRecorder.Record(new XenRecordOptions
        {
            AgentPath = XenAgentBuild.Agent, OutputPath = Path.Combine(_dir, "live.etrace"), Domain = 1, Syscalls = true,
        }));
        Assert.Contains("ether-agent: cannot open the Xen control interface", live.Message);
    }
}
