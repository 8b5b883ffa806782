using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Recording;

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
        var control = new RecordingControl();
        var ptrace = new LinuxPtrace();
        int pid = 0;
        Exception? failure = null;
        // A child that never stops itself (a prologue that hangs): the wait would block for 60 s.
        var launch = new Thread(() =>
        {
            pid = PosixSpawn.Spawn(["/bin/sleep", "60"], new PosixSpawn.Stdio(null, null, null));
            try { TargetLauncher.WaitForStop(ptrace, pid, control); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true };
        launch.Start();

        Assert.False(launch.Join(500), "the wait returned before any stop was requested");
        control.RequestStop(StopReason.Interrupted, "test");
        bool ended = launch.Join(TimeSpan.FromSeconds(20));
        if (!ended && pid > 0) LibC.Kill(pid, Signals.SIGKILL);
        Assert.True(ended, "the launch's wait did not end after the stop request");
        // The wait reaped the killed shell and failed the launch with a one-line reason.
        var setup = Assert.IsType<RecordingSetupException>(failure);
        Assert.Contains("killed by SIGKILL", setup.Message);
        Assert.Equal(-1, ptrace.WaitChildNoHang(pid, out _));
    }

    [Fact]
    public void A_stop_requested_before_the_wait_kills_the_child_at_once()
    {
        var control = new RecordingControl();
        control.RequestStop(StopReason.Interrupted, "test");
        var ptrace = new LinuxPtrace();
        int pid = PosixSpawn.Spawn(["/bin/sleep", "60"], new PosixSpawn.Stdio(null, null, null));
        var setup = Assert.Throws<RecordingSetupException>(() => TargetLauncher.WaitForStop(ptrace, pid, control));
        Assert.Contains("killed by SIGKILL", setup.Message);
    }

    [Fact]
    public void Without_a_stop_request_the_launch_sees_the_child_stop_itself()
    {
        var control = new RecordingControl();
        var ptrace = new LinuxPtrace();
        int pid = PosixSpawn.Spawn(["/bin/sh", "-c", "kill -STOP $$; exit 3"], new PosixSpawn.Stdio(null, null, null));
        TargetLauncher.WaitForStop(ptrace, pid, control);
        // The stop is what the wait returned on: the shell is still there, stopped; a later stop request does not touch it.
        control.RequestStop(StopReason.Interrupted, "test");
        Assert.Equal(0, ptrace.WaitChildNoHang(pid, out _));
        LibC.Kill(pid, Signals.SIGKILL);
        Assert.Equal(pid, ptrace.WaitChild(pid, out var status));
        Assert.True(status.Signaled, $"the child {status}");
    }
}
