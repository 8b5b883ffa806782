namespace Ether.Replay.Tui.Tests.ViewModels;

/// <summary>Opening traces: clear one-line errors for what cannot be browsed, a warning for a cut trace,
/// and the background work (index, export) that the first screen does not wait for.</summary>
public sealed class BrowserSessionTests
{
    [Fact]
    public void A_missing_file_a_folder_and_a_non_trace_are_clear_errors()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<BrowserOpenException>(() => BrowserSession.Open(dir.File("nope.etrace")));
        Assert.Equal($"{dir.File("nope.etrace")}: no such file", missing.Message);
        Assert.Contains("is a directory", Assert.Throws<BrowserOpenException>(() => BrowserSession.Open(dir.Path)).Message);
        File.WriteAllText(dir.File("notes.txt"), "not a trace at all");
        var garbage = Assert.Throws<BrowserOpenException>(() => BrowserSession.Open(dir.File("notes.txt")));
        Assert.Contains("not an .etrace file", garbage.Message);
        Assert.DoesNotContain('\n', garbage.Message);
    }

    [Fact]
    public void A_cut_trace_opens_with_a_warning_and_covers_its_readable_prefix()
    {
        using var dir = new TempDir();
        string path = dir.File("walk.etrace");
        var walk = WalkTrace.Write(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        using var session = BrowserSession.Open(path);
        Assert.NotNull(session.Warning);
        Assert.InRange(session.LastStep, 1, walk.LastStep - 1);
        var rows = new InstructionRows(session.Replay);
        Assert.Equal(WalkTrace.Loop, rows.Get(walk.FirstLoopStep).Rip);
    }

    [Fact]
    public void Opening_reads_no_more_than_the_first_screen_needs()
    {
        using var dir = new TempDir();
        string path = dir.File("walk.etrace");
        WalkTrace.Write(path);
        using var session = BrowserSession.Open(path);
        var rows = new InstructionRows(session.Replay);
        _ = rows.Get(1);
        _ = new RegistersModel(session.Replay).At(1);
        Assert.False(session.Replay.IndexBuilt);
        Assert.Equal(LoadState.Waiting, session.Index.State);
        Assert.Equal(LoadState.Waiting, session.Export.State);
        Assert.False(Directory.Exists(path + ".parquet"));
    }

    [Fact]
    public async Task Background_loading_builds_the_index_and_the_sql_tables()
    {
        using var dir = new TempDir();
        string path = dir.File("walk.etrace");
        var walk = WalkTrace.Write(path);
        using var session = BrowserSession.Open(path);
        int indexReady = 0, analysisReady = 0;
        session.IndexReady += () => indexReady++;
        session.AnalysisReady += () => analysisReady++;
        await session.StartLoading().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal((1, 1), (indexReady, analysisReady));
        Assert.Equal("index ready", session.Index.Describe());
        Assert.Equal("export ready", session.Export.Describe());
        Assert.True(session.Replay.IndexBuilt);
        var analysis = session.Analysis!;
        Assert.Equal([walk.WriteSyscallStep, walk.OpenSyscallStep, walk.GetpidSyscallStep], analysis.Syscalls.Select(s => s.Step));
        Assert.Contains(analysis.Layers, l => l.Layer == 1 && l.FirstStep == walk.LayerEntryStep);
    }
}

/// <summary>A trace without a single step (the program died before its first instruction).</summary>
public sealed class EmptyTraceTests
{
    [Fact]
    public async Task An_empty_trace_opens_and_every_pane_says_there_is_nothing()
    {
        using var dir = new TempDir();
        string path = dir.File("empty.etrace");
        using (var w = Ether.Replay.Formats.Log.TraceWriter.Create(path, new Ether.Replay.Formats.Model.TraceHeader { Backend = "scripted", TargetPath = "/empty" }))
            w.Close(Ether.Replay.Formats.Model.StopReason.Exited);
        using var session = BrowserSession.Open(path);
        var rows = new InstructionRows(session.Replay);
        var cursor = new StepCursor(session, rows);
        Assert.Equal((0, 0L, (InstructionLine?)null), (rows.Count, cursor.Step, cursor.Current));
        Assert.Equal("the trace has no steps", cursor.GoTo(1).Message);
        Assert.False(cursor.NextSyscall().Moved);
        Assert.False(cursor.NextExecution().Moved);
        Assert.Equal("no step selected", new RegistersModel(session.Replay).At(0).Note);
        await session.StartLoading().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(LoadState.Ready, session.Index.State);
        Assert.Empty(session.Analysis!.Syscalls);
        Assert.False(cursor.NextLayer().Moved);
    }
}

public sealed class BackgroundWorkTests
{
    [Fact]
    public async Task Background_work_runs_at_a_lower_priority_than_the_screen_thread()
    {
        int? before = BackgroundWork.CurrentNice(), nice = null;
        await BackgroundWork.Run("test", () => nice = BackgroundWork.CurrentNice());
        Assert.Equal(Math.Min(19, (before ?? 0) + BackgroundWork.Nice), nice);
        await Assert.ThrowsAsync<InvalidOperationException>(() => BackgroundWork.Run("test", () => throw new InvalidOperationException("fails")));
    }
}
