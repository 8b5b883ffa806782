using System.Text;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

namespace Ether.Replay.Recorder.Tests.Transparency;

public sealed class TaskStatusRewriterTests
{
    private sealed class Facts(TaskFacts? facts) : ITaskFacts
    {
        public (int Tid, bool Whole, ProcReader Reader) Asked;
        public TaskFacts? Describe(int tid, bool wholeProcess, ProcReader reader) { Asked = (tid, wholeProcess, reader); return facts; }
    }

    private static readonly TaskFacts Running = new(ApparentState.Running, 0, 2_345_000_000, 120_000_000, 5_000_000_000, "1", "0");

    private static string Rewrite(ITaskFacts facts, ProcFileName file, string text) =>
        Encoding.UTF8.GetString(new TaskStatusRewriter(facts).Rewrite(file, Encoding.UTF8.GetBytes(text), new ProcReader(7, 7)));

    [Fact]
    public void Status_shows_no_tracer_a_running_task_and_the_affinity_the_program_believes()
    {
        // The recorder's own /proc/self/status, as a stand-in for a traced task's: real kernel text.
        string real = File.ReadAllText("/proc/self/status")
            .Replace("TracerPid:\t0", "TracerPid:\t4242")
            .Replace(StateLine(File.ReadAllText("/proc/self/status")), "State:\tt (tracing stop)");
        var facts = new Facts(Running with { CpusAllowedMask = "3", CpusAllowedList = "0-1" });
        string shown = Rewrite(facts, new ProcFileName(9, 0, "status"), real);
        Assert.Contains("\nState:\tR (running)\n", shown);
        Assert.Contains("\nTracerPid:\t0\n", shown);
        Assert.Contains("\nCpus_allowed:\t3\n", shown);
        Assert.Contains("\nCpus_allowed_list:\t0-1\n", shown);
        Assert.DoesNotContain("4242", shown);
        // Nothing else changes: same lines in the same order.
        Assert.Equal(real.Split('\n').Select(l => l.Split(':')[0]), shown.Split('\n').Select(l => l.Split(':')[0]));
        Assert.Equal((9, true, new ProcReader(7, 7)), facts.Asked);
    }

    private static string StateLine(string status) => status.Split('\n').First(l => l.StartsWith("State:"));

    [Theory]
    [InlineData(2, "S (sleeping)")]
    [InlineData(3, "T (stopped)")]
    [InlineData(4, "t (tracing stop)")]
    public void Status_state_follows_what_the_task_would_be(int apparent, string expected)
    {
        var state = (ApparentState)apparent;
        string shown = Rewrite(new Facts(Running with { State = state, TracerPid = 55 }), new ProcFileName(9, 10, "status"), "State:\tt (tracing stop)\nTracerPid:\t1\n");
        Assert.Equal($"State:\t{expected}\nTracerPid:\t55\n", shown);
    }

    [Fact]
    public void A_task_really_asleep_in_the_kernel_keeps_its_state()
    {
        string shown = Rewrite(new Facts(Running), new ProcFileName(9, 0, "status"), "State:\tS (sleeping)\nTracerPid:\t1\n");
        Assert.Equal("State:\tS (sleeping)\nTracerPid:\t0\n", shown);
    }

    [Fact]
    public void Stat_fields_count_from_the_last_parenthesis_of_the_name()
    {
        // comm "a) (t b" holds the tricky characters; 52 fields in all.
        var fields = Enumerable.Range(4, 49).Select(i => (i * 11).ToString()).ToArray();
        string real = "1234 (a) (t b) t " + string.Join(' ', fields) + "\n";
        string shown = Rewrite(new Facts(Running), new ProcFileName(1234, 1234, "stat"), real);
        Assert.StartsWith("1234 (a) (t b) R ", shown);
        var after = shown["1234 (a) (t b) ".Length..].TrimEnd('\n').Split(' ');
        Assert.Equal("234", after[14 - 3]);   // utime: 2.345 s in 10 ms ticks
        Assert.Equal("0", after[15 - 3]);     // stime
        Assert.Equal("12", after[16 - 3]);    // cutime
        Assert.Equal("0", after[17 - 3]);     // cstime
        Assert.Equal("500", after[22 - 3]);   // starttime: 5 s after boot
        Assert.Equal((23 * 11).ToString(), after[23 - 3]); // the rest is the kernel's
        Assert.EndsWith("\n", shown);
    }

    [Fact]
    public void Tasks_outside_the_recording_are_shown_as_they_are()
    {
        var rewriter = new TaskStatusRewriter(new Facts(null));
        var real = Encoding.UTF8.GetBytes("State:\tt (tracing stop)\nTracerPid:\t77\n");
        Assert.Same(real, rewriter.Rewrite(new ProcFileName(3, 0, "status"), real, new ProcReader(7, 7)));
        Assert.True(rewriter.Wants(new ProcFileName(3, 4, "stat")));
        Assert.False(rewriter.Wants(new ProcFileName(3, 0, "maps")));
        Assert.False(rewriter.Wants(new ProcFileName(0, 0, "stat")));
    }
}
