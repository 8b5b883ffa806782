using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Recording;
using Ether.Replay.Recorder.Tests.Ptrace;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>
/// A call that fails can still have written memory: an interrupted sleep reports the time left in
/// its rem argument. The trace must hold that write, or a replay shows the program a stale rem.
/// </summary>
[Collection("ptrace")]
public sealed class FailedCallWritesTests
{
    [Fact]
    public void An_interrupted_sleep_records_the_time_left_the_kernel_wrote()
    {
        string program = TestPrograms.Build("interrupted_sleep.c", "-O1");
        var run = Recordings.Record(program, [], RecordingModes.Syscalls);
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
        Assert.Equal("-1 1\n", run.Stdout); // natively too: the sleep failed and time was left

        int entry = run.Events.FindIndex(e => e is SyscallEntryEvent { Name: "clock_nanosleep" or "nanosleep" });
        Assert.True(entry >= 0, "no sleep in the trace");
        var call = (SyscallEntryEvent)run.Events[entry];
        ulong rem = call.Args[call.Name == "nanosleep" ? 1 : 3];
        int exit = run.Events.FindIndex(entry, e => e is SyscallExitEvent x && x.Tid == call.Tid);
        Assert.True(((SyscallExitEvent)run.Events[exit]).Errno > 0, "the sleep should have failed");
        var after = run.Events.Skip(exit + 1).TakeWhile(e => e is not SyscallEntryEvent).OfType<MemoryWriteEvent>();
        var write = Assert.Single(after, w => w.Address == rem && w.Flags.HasFlag(MemoryWriteFlags.Kernel));
        Assert.Equal(16, write.Size);
        Assert.True(BitConverter.ToInt64(write.Value, 0) > 0, "the recorded rem holds the seconds left");
    }
}
