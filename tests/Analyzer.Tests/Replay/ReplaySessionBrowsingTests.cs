using Ether.Replay.Formats.Synthetic;

namespace Ether.Replay.Analyzer.Tests.Replay;

/// <summary>The replay engine's browsing queries (added for the TUI) against the reader's own event
/// enumeration, on traces cut into many small chunks.</summary>
public sealed class ReplaySessionBrowsingTests
{
    private static string Synthetic(TempDir dir)
    {
        string path = dir.File("synthetic.etrace");
        using var w = TraceWriter.Create(path, new TraceHeader { Backend = "synthetic", TargetPath = "/synthetic" },
            new TraceWriterOptions { ChunkSteps = 300, ChunkAge = TimeSpan.FromHours(1) });
        SyntheticTrace.Write(w, new SyntheticOptions { Instructions = 5000, Threads = 2, SyscallEvery = 400, Seed = 9 });
        w.Close(StopReason.Exited);
        return path;
    }

    [Fact]
    public void Steps_pages_hold_every_instruction_and_event_at_its_step()
    {
        using var dir = new TempDir();
        foreach (string path in new[] { Synthetic(dir), WalkPath(dir) })
        {
            List<TraceEvent> events;
            using (var reader = TraceReader.Open(path)) events = reader.Events().ToList();
            using var session = ReplaySession.Open(path);
            // Pages of odd sizes so that they start and end anywhere relative to the chunks.
            var rows = new List<StepRow>();
            for (long from = 1; from <= session.LastStep; from += 37) rows.AddRange(session.StepsPage(from, 37));
            Assert.Equal(Enumerable.Range(1, (int)session.LastStep).Select(s => (long)s), rows.Select(r => r.Step));
            var instructions = events.OfType<InstructionEvent>().ToDictionary(e => e.Step);
            var side = events.Where(e => e is not (InstructionEvent or KeyframeEvent or RegisterChangeEvent or MemoryWriteEvent) && e.Step >= 1)
                .GroupBy(e => e.Step).ToDictionary(g => g.Key, g => g.Select(e => e.Kind).ToList());
            foreach (var row in rows)
            {
                Assert.Equal(instructions.TryGetValue(row.Step, out var x) ? x.Rip : null, row.Instruction?.Rip);
                Assert.Equal(side.GetValueOrDefault(row.Step) ?? [], row.Events.Select(e => e.Kind).ToList());
            }
        }
    }

    [Fact]
    public void Next_and_previous_event_match_a_scan_of_every_event()
    {
        using var dir = new TempDir();
        string path = Synthetic(dir);
        List<long> calls;
        using (var reader = TraceReader.Open(path)) calls = reader.Events().OfType<SyscallEntryEvent>().Select(e => e.Step).ToList();
        Assert.True(calls.Count > 5);
        using var session = ReplaySession.Open(path);
        var rng = new Random(4);
        foreach (long step in Enumerable.Range(0, 60).Select(_ => (long)rng.Next(0, (int)session.LastStep + 1)).Concat([0, session.LastStep, calls[0], calls[^1]]))
        {
            Assert.Equal(calls.Where(s => s > step).Cast<long?>().FirstOrDefault(), session.NextEvent(step, EventKind.SyscallEntry)?.Step);
            Assert.Equal(calls.Where(s => s < step).Cast<long?>().LastOrDefault(), session.PreviousEvent(step, EventKind.SyscallEntry)?.Step);
        }
        Assert.Null(session.NextEvent(0, EventKind.Exec));
    }

    [Fact]
    public async Task The_index_builds_in_the_background_and_a_fork_shares_it()
    {
        using var dir = new TempDir();
        string path = Synthetic(dir);
        using var session = ReplaySession.Open(path);
        Assert.False(session.IndexBuilt);
        int reports = 0;
        await session.BuildIndexAsync((_, _) => Interlocked.Increment(ref reports));
        Assert.True(session.IndexBuilt);
        Assert.True(reports > 0);
        using var fork = session.Fork();
        Assert.True(fork.IndexBuilt);
        var x = session.StepsPage(100, 1)[0].Instruction!;
        Assert.Equal(session.NextExecution(x.Rip, 100, x.Pid), fork.NextExecution(x.Rip, 100, x.Pid));
    }

    [Fact]
    public async Task A_cancelled_index_build_leaves_no_index()
    {
        using var dir = new TempDir();
        using var session = ReplaySession.Open(Synthetic(dir));
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.BuildIndexAsync(cancel: cancel.Token));
        Assert.False(session.IndexBuilt);
    }

    private static string WalkPath(TempDir dir)
    {
        string path = dir.File("walk.etrace");
        WalkTrace.Write(path);
        return path;
    }
}
