namespace Ether.Replay.Cli.Tests;

/// <summary>
/// Issue 6's end-to-end test without Xen: the agent's replay backend (a stand-in for the
/// hypervisor, fed the synthetic Windows XP SP2 session) → `ether record xen` → .etrace →
/// `ether syscalls` shows the XP names and arguments → `ether unpack` reports the layer.
/// </summary>
public sealed class RecordXenCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ether-xen-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_synthetic_xp_session_recorded_through_the_agent_reads_like_any_trace()
    {
        string session = XenAgentBuild.SyntheticSession(_dir);
        string trace = Path.Combine(_dir, "sample.etrace");
        var record = EtherProcess.Run(_dir, "record", "xen", "--replay", session, "--agent", XenAgentBuild.Agent, "--guest", "winxp-sp2",
            "--process", "sample.exe", "--singlestep", "--syscalls", "--memwrites", "--unpack", "-o", trace);
        Assert.True(record.ExitCode == 0, record.Stderr);
        Assert.Contains("syscalls       4", record.StderrLines);
        Assert.Contains("agent          replay-finished", record.StderrLines);

        var syscalls = EtherProcess.Run(_dir, "syscalls", trace);
        Assert.True(syscalls.ExitCode == 0, syscalls.Stderr);
        Assert.Equal(
        [
            "[1234] NtAllocateVirtualMemory(0xffffffff, 0x12f900, 0x0, 0x12f904, 0x3000, 0x40) = 0x0",
            "[1234] NtOpenFile(0x402100, 0x80100000, {ObjectName=\"\\??\\C:\\sample\\input.txt\"}, 0x402040, 0x1, 0x60) = 0x0",
            "[1234] NtReadFile(0x7c8, 0x0, 0x0, 0x0, 0x402040, 0x402400, 0x200, 0x0, 0x0) = 0x0",
            "[1234] NtClose(0x7c8) = 0x0",
        ], syscalls.Stdout.TrimEnd('\n').Split('\n'));

        var unpack = EtherProcess.Run(_dir, "unpack", trace);
        Assert.True(unpack.ExitCode == 0, unpack.Stderr);
        Assert.Contains("1 written layer after layer 0", unpack.Stdout);
        Assert.Matches(@"\n\s+1\s+written-code\s+\d+\s+0x403000( \*)?\s+0x403000-0x404000 .*\s8\s+0x401013", unpack.Stdout);
        Assert.Contains("0x40101f -> 0x403000", unpack.Stdout);

        // NT calls by kind in the summary (not all 'other').
        var summary = EtherProcess.Run(_dir, "summary", trace);
        Assert.True(summary.ExitCode == 0, summary.Stderr);
        Assert.Matches(@"\n\s+file\s+2\s+0\s+NtOpenFile 1, NtReadFile 1\n", summary.Stdout);
        Assert.Matches(@"\n\s+memory\s+1\s+0\s+NtAllocateVirtualMemory 1\n", summary.Stdout);
        Assert.Matches(@"\n\s+descriptor\s+1\s+0\s+NtClose 1\n", summary.Stdout);

        var info = EtherProcess.Run(_dir, "info", trace);
        Assert.Contains("backend          xen (", info.Stdout);
        Assert.Contains("closed cleanly; recording stopped: the target exited (agent: replay-finished)", info.Stdout);
    }

    [Fact]
    public void Without_xen_a_live_recording_fails_with_the_agents_one_line()
    {
        var r = EtherProcess.Run(_dir, "record", "xen", "--domain", "1", "--syscalls", "--agent", XenAgentBuild.Agent, "-o", Path.Combine(_dir, "live.etrace"));
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("ether: ether-agent: cannot open the Xen control interface", r.Stderr);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }
}
