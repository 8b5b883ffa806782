using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Recording;
using Ether.Replay.Recorder.Tests.Ptrace;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>
/// A 32-bit caller's map changes are seen when the call returns, like a 64-bit caller's: the
/// recorder re-reads the region map after every call the system-call table flags as changing it.
/// </summary>
[Collection("ptrace")]
public sealed class CompatMapChangeTests
{
    [Fact]
    public void Pkey_mprotect_shmat_and_shmdt_through_int_0x80_are_followed_by_their_region_change()
    {
        string program = TestPrograms.Build("compat_map.c", "-O1");
        var run = Recordings.Record(program, [], RecordingModes.Syscalls);
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
        Assert.Equal("0 1 0\n", run.Stdout); // each call succeeded natively inside the recording

        AssertRegionEventFollows<RegionProtectEvent>(run, "pkey_mprotect");
        AssertRegionEventFollows<RegionMapEvent>(run, "shmat");
        AssertRegionEventFollows<RegionUnmapEvent>(run, "shmdt");
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
