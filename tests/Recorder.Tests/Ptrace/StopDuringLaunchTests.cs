using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>
/// The launch waits for the sandbox shell to stop itself before exec. A stop requested meanwhile
/// (Ctrl-C) must end that wait — killing the shell — instead of waiting for a prologue that is slow
/// on a loaded machine or never reaches its stop.
/// </summary>
[Collection("ptrace")]
public sealed class StopDuringLaunchTests
{
    [Fact]
    public void A_stop_request_kills_a_child_the_launch_is_waiting_for()
    {
        bool stop = false;
        var ptrace = new LinuxPtrace { StopRequested = () => Volatile.Read(ref stop) };
        int pid = 0, waited = 0;
        WaitStatus status = default;
        // A child that never stops itself (a prologue that hangs): WaitChild would block for 60 s.
        var launch = new Thread(() =>
        {
            pid = PosixSpawn.Spawn(["/bin/sleep", "60"], new PosixSpawn.Stdio(null, null, null));
            waited = ptrace.WaitChild(pid, out status);
        }) { IsBackground = true };
        launch.Start();

        Assert.False(launch.Join(500), "the wait returned before any stop was requested");
        Volatile.Write(ref stop, true);
        bool ended = launch.Join(TimeSpan.FromSeconds(20));
        if (!ended && pid > 0) LibC.Kill(pid, Signals.SIGKILL);
        Assert.True(ended, "the launch's wait did not end after the stop request");
        Assert.Equal(pid, waited);
        Assert.True(status.Signaled && status.TermSignal == Signals.SIGKILL, $"the child {status}");
    }

    [Fact]
    public void Without_a_stop_request_the_launch_sees_the_child_stop_itself()
    {
        var ptrace = new LinuxPtrace { StopRequested = () => false };
        int pid = PosixSpawn.Spawn(["/bin/sh", "-c", "kill -STOP $$; exit 3"], new PosixSpawn.Stdio(null, null, null));
        Assert.Equal(pid, ptrace.WaitChild(pid, out var status));
        Assert.True(status.Stopped && status.StopSignal == Signals.SIGSTOP, $"the child {status}");
        LibC.Kill(pid, Signals.SIGKILL);
        Assert.Equal(pid, ptrace.WaitChild(pid, out status));
        Assert.True(status.Signaled, $"the child {status}");
    }
}
