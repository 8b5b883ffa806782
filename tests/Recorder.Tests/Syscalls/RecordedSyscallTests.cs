using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Tests.Ptrace;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>What the system-call table makes the recorder do, on real tracees (syscalls mode).</summary>
[Collection("ptrace")]
public sealed class RecordedSyscallTests
{
    /// <summary>
    /// A 32-bit caller's map changes are seen when the call returns, like a 64-bit caller's: the
    /// recorder re-reads the region map after every call the table flags ChangesMap.
    /// </summary>
    [Fact]
    public void Pkey_mprotect_shmat_and_shmdt_through_int_0x80_are_followed_by_their_region_change()
    {
        var run = Record("compat_map.c", "0 1 0\n"); // each call succeeded natively inside the recording
        AssertRegionEventFollows<RegionProtectEvent>(run, "pkey_mprotect");
        AssertRegionEventFollows<RegionMapEvent>(run, "shmat");
        AssertRegionEventFollows<RegionUnmapEvent>(run, "shmdt");
    }

    /// <summary>
    /// A call that fails can still have written memory: an interrupted sleep reports the time left in
    /// its rem argument. The trace must hold that write, or a replay shows the program a stale rem.
    /// </summary>
    [Fact]
    public void An_interrupted_sleep_records_the_time_left_the_kernel_wrote()
    {
        var run = Record("interrupted_sleep.c", "-1 1\n"); // the sleep failed and time was left
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

    /// <summary>Builds and records one of the test programs; it must exit and print what it prints natively.</summary>
    private static RecordedRun Record(string source, string stdout)
    {
        var run = Recordings.Record(TestPrograms.Build(source, "-O1"), [], RecordingModes.Syscalls);
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
        Assert.Equal(stdout, run.Stdout);
        return run;
    }

    /// <summary>The i386 call's exit is followed, before any other call starts, by a region event of kind T.</summary>
    private static void AssertRegionEventFollows<T>(RecordedRun run, string name) where T : TraceEvent
    {
        int exit = run.Events.FindIndex(e => e is SyscallExitEvent x && x.Name == name && x.Abi == "linux-i386");
        Assert.True(exit >= 0, $"no i386 {name} exit in the trace");
        var after = run.Events.Skip(exit + 1).TakeWhile(e => e is not SyscallEntryEvent).ToList();
        Assert.True(after.OfType<T>().Any(),
            $"after the i386 {name} returned the trace has no {typeof(T).Name} (events: {string.Join(", ", after.Select(e => e.GetType().Name))})");
    }
}
