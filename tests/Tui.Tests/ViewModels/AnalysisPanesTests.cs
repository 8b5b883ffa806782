namespace Ether.Replay.Tui.Tests.ViewModels;

/// <summary>The panes fed by the SQL tables: syscalls with their filter, layers with jump and dump, the SQL console.</summary>
public sealed class AnalysisPanesTests(LoadedWalk walk) : IClassFixture<LoadedWalk>
{
    [Fact]
    public void Syscalls_filter_as_you_type()
    {
        var t = walk.Trace;
        var model = new SyscallsModel();
        model.Load(walk.Session.Analysis!.Syscalls);
        Assert.Equal(["write(1, \"hello\", 5) = 5", "openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)", $"getpid() = {WalkTrace.Pid}"],
            model.Visible.Select(s => s.Call));
        model.SetFilter("enoent");
        Assert.Equal([t.OpenSyscallStep], model.Visible.Select(s => s.Step));
        model.SetFilter("open nonexistent");
        Assert.Single(model.Visible);
        model.SetFilter("open hello");
        Assert.Empty(model.Visible);
        model.SetFilter(t.GetpidSyscallStep.ToString());
        Assert.Equal(t.GetpidSyscallStep, model.StepOf(0));
        model.SetFilter("");
        Assert.Equal(3, model.Visible.Count);
        Assert.Equal(1, model.RowAtOrAfter(t.WriteSyscallStep + 1));
        Assert.Null(model.StepOf(3));
    }

    [Fact]
    public async Task Layers_jump_to_their_first_instruction_and_dump_their_memory()
    {
        var t = walk.Trace;
        var model = new LayersModel(walk.Session);
        model.Load(walk.Session.Analysis!.Layers);
        int row = model.Layers.ToList().FindIndex(l => l.Layer == 1);
        var layer = model.Layers[row];
        Assert.Equal((WalkTrace.Layer1, t.LayerEntryStep), (layer.EntryAddress, layer.FirstStep));
        Assert.Equal("0x600000-0x601000 /walk/prog", LayersModel.Region(layer));
        var cursor = new StepCursor(walk.Session, new InstructionRows(walk.Session.Replay));
        Assert.True(model.JumpToFirst(cursor, row).Moved);
        Assert.Equal(t.LayerEntryStep, cursor.Step);

        string message = await model.DumpAsync(row);
        Assert.StartsWith("dumped layer 1: pid100-image0-layer1-0x600000-0x601000.bin", message);
        var dump = File.ReadAllBytes(Path.Combine(walk.Path + ".dumps", "pid100-image0-layer1-0x600000-0x601000.bin"));
        Assert.Equal(WalkTrace.Layer1Code, dump[..WalkTrace.Layer1Code.Length]);

        // The original entry point (here only the deepest layer's entry is evidence) is listed and reachable.
        model.Load(walk.Session.Analysis!.Layers, walk.Session.Analysis!.Oeps);
        Assert.Contains(model.OepLines(), l => l.StartsWith($"original entry point of pid {WalkTrace.Pid} image 0: 0x{WalkTrace.Layer1:x} (layer 1") && l.Contains("deepest-layer"));
        Assert.True(model.JumpToFirst(cursor, 0).Moved || cursor.Step == model.Layers[0].FirstStep);
        Assert.True(model.JumpToOep(cursor, row).Moved);
        Assert.Equal(t.LayerEntryStep, cursor.Step);

        var regions = model.RegionsAt(t.LayerEntryStep, WalkTrace.Pid, out var why);
        Assert.Null(why);
        Assert.Equal([0x401000UL, WalkTrace.Layer1, WalkTrace.Stack], regions!.Select(r => r.Start));
    }

    [Fact]
    public async Task Sql_console_runs_queries_and_finds_the_step_of_a_row()
    {
        var t = walk.Trace;
        var sql = new SqlConsoleModel(walk.Session);
        await sql.RunAsync($"SELECT rip, step FROM instructions WHERE rip = {WalkTrace.Layer1} ORDER BY step");
        Assert.Null(sql.Error);
        Assert.Equal(["rip", "step"], sql.Result!.Columns);
        Assert.Equal(1, sql.Result.StepColumn);
        Assert.Equal(t.LayerEntryStep, sql.StepOf(0));
        Assert.StartsWith("1 row in ", sql.Summary());
        Assert.EndsWith("; Enter jumps to step", sql.Summary());

        await sql.RunAsync("SELECT name, entry_step FROM syscalls ORDER BY entry_step");
        Assert.Equal(t.OpenSyscallStep, sql.StepOf(1));

        await sql.RunAsync("SELECT nonsense FROM nowhere");
        Assert.NotNull(sql.Error);
        Assert.DoesNotContain('\n', sql.Error);
        Assert.Equal("SELECT nonsense FROM nowhere", sql.PreviousQuery());
        Assert.Equal("SELECT name, entry_step FROM syscalls ORDER BY entry_step", sql.PreviousQuery());
        Assert.Equal("SELECT nonsense FROM nowhere", sql.NextQuery());
        Assert.Equal("", sql.NextQuery());

        await sql.RunAsync("SELECT * FROM range(20000)");
        Assert.True(sql.Result!.Truncated);
        Assert.Equal(SqlConsoleModel.MaxRows, sql.Result.Rows.Count);
        Assert.Null(sql.Result.StepColumn);
    }

    [Fact]
    public async Task Sql_waits_for_the_export()
    {
        using var session = BrowserSession.Open(walk.Path); // not loading: no database yet
        var sql = new SqlConsoleModel(session);
        await sql.RunAsync("SELECT 1");
        Assert.StartsWith("SQL needs the export, still being built", sql.Error);
    }
}
