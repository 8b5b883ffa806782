using System.Diagnostics;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>
/// The recorder runs inside processes that have other children (the test host builds programs
/// with gcc and runs references; `ether record xen` runs its agent): its tracer must wait only for
/// its own tracees. A waitpid(-1) from the tracer thread also reaps children another thread
/// started, whose owners then never see them exit (.NET's Process waits forever or fails fast).
/// </summary>
[Collection("ptrace")]
public sealed class SharedProcessTests
{
    [Fact]
    public async Task A_recording_leaves_the_other_children_of_its_process_to_their_owners()
    {
        using var done = new CancellationTokenSource();
        // Another thread keeps starting short children and waiting for each, like a test host does.
        var others = Task.Factory.StartNew(() =>
        {
            var seen = new List<(int Expected, int Actual)>();
            for (int n = 0; !done.IsCancellationRequested || seen.Count < 20; n++)
            {
                using var child = Process.Start("/bin/sh", ["-c", $"exit {n % 7}"])!;
                if (!child.WaitForExit(20_000)) { seen.Add((n % 7, -1)); break; }
                seen.Add((n % 7, child.ExitCode));
            }
            return seen;
        }, TaskCreationOptions.LongRunning);

        var run = Recordings.Record("/bin/sh", ["-c", "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done"], RecordingModes.Syscalls);
        done.Cancel();
        var seen = await others;

        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
        Assert.Equal(201, run.Of<ProcessStartEvent>().Count()); // the shell and its 200 children, all recorded
        Assert.All(seen, s => Assert.Equal(s.Expected, s.Actual)); // -1: the child's exit never reached its owner
    }
}
