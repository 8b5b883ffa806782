namespace Ether.Replay.Tui.Tests.ViewModels;

/// <summary>Every jump of the instruction view, on the loaded walk trace (index and export done).</summary>
public sealed class StepCursorTests(LoadedWalk walk) : IClassFixture<LoadedWalk>
{
    private StepCursor Cursor() => new(walk.Session, new InstructionRows(walk.Session.Replay));

    [Fact]
    public void Go_to_a_step_and_back()
    {
        var c = Cursor();
        Assert.Equal(1, c.Step);
        int moves = 0;
        c.Moved += () => moves++;
        Assert.True(c.GoTo(123).Moved);
        Assert.Equal(123, c.Step);
        var outside = c.GoTo(walk.Trace.LastStep + 1);
        Assert.False(outside.Moved);
        Assert.Equal($"step {walk.Trace.LastStep + 1:N0} is outside the trace (1..{walk.Trace.LastStep:N0})", outside.Message);
        c.GoTo(200);
        Assert.Equal(123, c.Back().Moved ? c.Step : -1);
        Assert.Equal(1, c.Back().Moved ? c.Step : -1);
        Assert.False(c.Back().Moved);
        Assert.Equal(4, moves);
    }

    [Fact]
    public void Next_and_previous_execution_of_the_instruction_under_the_cursor()
    {
        var t = walk.Trace;
        var c = Cursor();
        c.GoTo(t.FirstLoopStep);
        var next = c.NextExecution();
        Assert.True(next.Moved);
        Assert.Equal(t.FirstLoopStep + WalkTrace.LoopInstructions, c.Step);
        Assert.Equal($"next execution of 0x401000: step {c.Step:N0}", next.Message);
        c.PreviousExecution();
        Assert.Equal(t.FirstLoopStep, c.Step);
        Assert.Equal("no earlier execution of 0x401000", c.PreviousExecution().Message);
        // The last iteration before the system calls: its next execution is in the tail loop.
        c.GoTo(t.WriteSyscallStep - WalkTrace.LoopInstructions);
        c.NextExecution();
        Assert.Equal(t.GetpidSyscallStep + 1, c.Step);
    }

    [Fact]
    public void Next_and_previous_system_call()
    {
        var t = walk.Trace;
        var c = Cursor();
        Assert.Equal($"next system call: write at step {t.WriteSyscallStep:N0}", c.NextSyscall().Message);
        c.NextSyscall();
        Assert.Equal(t.OpenSyscallStep, c.Step);
        c.NextSyscall();
        Assert.Equal(t.GetpidSyscallStep, c.Step);
        Assert.Equal("no later system call", c.NextSyscall().Message);
        c.PreviousSyscall();
        Assert.Equal(t.OpenSyscallStep, c.Step);
    }

    [Fact]
    public void Next_and_previous_layer_change()
    {
        var t = walk.Trace;
        var c = Cursor();
        var entry = c.NextLayer();
        Assert.Equal(t.LayerEntryStep, c.Step);
        Assert.Equal($"layer 0 -> 1 (tid {WalkTrace.Tid}) at step {t.LayerEntryStep:N0}", entry.Message);
        c.NextLayer();
        Assert.Equal(t.LayerReturnStep, c.Step);
        Assert.False(c.NextLayer().Moved);
        c.PreviousLayer();
        Assert.Equal(t.LayerEntryStep, c.Step);
    }

    [Fact]
    public void Jumps_that_need_background_work_say_so_before_it_is_done()
    {
        using var session = BrowserSession.Open(walk.Path);
        var c = new StepCursor(session, new InstructionRows(session.Replay));
        var execution = c.NextExecution();
        Assert.False(execution.Moved);
        Assert.StartsWith("next/previous execution needs the index, still being built", execution.Message);
        Assert.StartsWith("next/previous layer needs the export, still being built", c.NextLayer().Message);
        Assert.True(c.NextSyscall().Moved); // from chunk counts: no background work needed
        Assert.False(session.Replay.IndexBuilt);
    }
}
