using P = Ether.Replay.Tests.Shared.FakePackedProgram;

namespace Ether.Replay.Analyzer.Tests.Analyses;

public sealed class SyscallListingTests
{
    [Fact]
    public void Lines_read_like_strace()
    {
        using var x = new Exported(p => AllKindsTrace.Write(p));
        var lines = SyscallListing.Lines(x.Db, new SyscallFilter()).ToList();
        Assert.Contains("[10] open(\"/etc/x\", O_RDONLY) = -1 ENOENT (No such file or directory)", lines);
        Assert.Contains("[10] read(3, \"hello\", 64) = 5", lines); // the buffer as the call filled it
        Assert.Equal("[20] exit_group(3) = ?", lines[^1]);
    }

    [Fact]
    public void Results_read_like_the_recorders_decoded_returns()
    {
        // A call a signal interrupted shows the kernel's restart code as strace does (one home: Errno).
        Assert.Equal("? ERESTARTSYS (To be restarted if SA_RESTART is set)", SyscallListing.Result("read", -512, 512, "linux-x86_64"));
        Assert.Equal("-1 ENOENT (No such file or directory)", SyscallListing.Result("openat", -2, 2, "linux-x86_64"));
        Assert.Equal("0x7f0000001000", SyscallListing.Result("mmap", 0x7f0000001000, 0, "linux-x86_64"));
        Assert.Equal("0xf7fe1000", SyscallListing.Result("shmat", 0xf7fe1000, 0, "linux-i386")); // as the decoder: the table's return style
        Assert.Equal("3", SyscallListing.Result("openat", 3, 0, "linux-x86_64"));
    }

    [Fact]
    public void The_listing_matches_the_traces_events_one_for_one()
    {
        using var x = new Exported(p => AllKindsTrace.Write(p));
        var events = new Replay.ReplayOracle(x.Trace).Events;
        // Every entry event is one line; an exit is the same line as its thread's pending entry, or a line of its own.
        var expectedSteps = new List<long>();
        var pending = new HashSet<(int, int)>();
        foreach (var e in events)
        {
            if (e is SyscallEntryEvent n) { expectedSteps.Add(n.Step); pending.Add((n.Pid, n.Tid)); }
            if (e is SyscallExitEvent r && !pending.Remove((r.Pid, r.Tid))) expectedSteps.Add(r.Step);
            if (e is ProcessExitEvent p) pending.RemoveWhere(k => k.Item1 == p.Pid);
        }
        var lines = SyscallListing.Lines(x.Db, new SyscallFilter(), steps: true).ToList();
        var stepsInListing = lines.Select(l => long.Parse(l.Split("[step ")[1].Split(']')[0])).ToList();
        Assert.Equal(expectedSteps.Order(), stepsInListing);
    }

    [Fact]
    public void Filters_by_name_and_pid()
    {
        using var x = new Exported(p => AllKindsTrace.Write(p));
        Assert.All(SyscallListing.Lines(x.Db, new SyscallFilter { Names = SyscallFilter.ParseNames("trace=read") }), l => Assert.Contains("] read(", l));
        Assert.All(SyscallListing.Lines(x.Db, new SyscallFilter { Pid = 20 }), l => Assert.StartsWith("[20] ", l));
        Assert.Single(SyscallListing.Lines(x.Db, new SyscallFilter { Pid = 20, Names = ["exit_group"] }));
        Assert.Empty(SyscallListing.Lines(x.Db, new SyscallFilter { Names = ["nosuchcall"] }));
    }

    [Fact]
    public void Summary_counts_calls_and_errors()
    {
        using var x = new Exported(p => P.Write(p, 3));
        var rows = SyscallSummary.Rows(x.Db, new SyscallFilter());
        Assert.Equal(["mmap 2 0", "exit_group 1 0", "write 1 0"], rows.Select(r => $"{r.Name} {r.Calls} {r.Errors}"));
        var text = new StringWriter();
        SyscallSummary.Write(rows, text);
        Assert.Contains(" 100.00           4           total", text.ToString());
    }

    [Theory]
    [InlineData("mmap", 0x7f0000000000L, 0L, "0x7f0000000000")]
    [InlineData("read", 5L, 0L, "5")]
    [InlineData("open", -2L, 2L, "-1 ENOENT (No such file or directory)")]
    [InlineData("connect", -111L, 111L, "-1 ECONNREFUSED (Connection refused)")]
    public void Return_values_print_as_strace_prints_them(string name, long ret, long errno, string expected) =>
        Assert.Equal(expected, SyscallListing.Result(name, ret, errno, "linux-x86_64"));

    [Fact]
    public void Nt_status_codes_print_in_hex() =>
        Assert.Equal("0xc0000034", SyscallListing.Result("NtOpenFile", 0xc0000034, 0, "nt-winxp-sp2-x86"));
}
