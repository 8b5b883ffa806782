namespace Ether.Replay.Recorder.Tests.Recording;

/// <summary>
/// The stop control between Ctrl-C / the time limit and a backend. A request that arrives before
/// the backend has registered its wake-up (Ctrl-C while the sandbox is still starting) must still
/// wake it: a tracer that then blocks in waitpid behind a sleeping target would wait forever.
/// </summary>
public sealed class RecordingControlTests
{
    [Fact]
    public void A_stop_requested_before_the_backend_is_ready_wakes_it_when_it_registers()
    {
        var control = new RecordingControl();
        control.RequestStop(StopReason.Interrupted, "SIGINT");
        int woken = 0;
        control.SetWake(() => woken++);
        Assert.Equal(1, woken);
        Assert.Equal((StopReason.Interrupted, "SIGINT"), (control.Reason, control.Detail));
    }

    [Fact]
    public void The_first_request_wins_and_wakes_once()
    {
        var control = new RecordingControl();
        int woken = 0;
        control.SetWake(() => woken++);
        control.RequestStop(StopReason.Timeout, "timeout after 1 s");
        control.RequestStop(StopReason.Interrupted, "SIGINT");
        Assert.Equal(1, woken);
        Assert.Equal(StopReason.Timeout, control.Reason);
        control.SetWake(null);
        control.RequestStop(StopReason.Interrupted, "SIGTERM");
        Assert.Equal(1, woken);
    }

    [Fact]
    public void A_request_racing_the_registration_wakes_the_backend_exactly_once()
    {
        for (int i = 0; i < 2000; i++)
        {
            var control = new RecordingControl();
            int woken = 0;
            using var start = new Barrier(2);
            var requester = new Thread(() =>
            {
                start.SignalAndWait();
                control.RequestStop(StopReason.Interrupted, "SIGINT");
            });
            requester.Start();
            start.SignalAndWait();
            control.SetWake(() => Interlocked.Increment(ref woken));
            requester.Join();
            Assert.True(woken == 1, $"iteration {i}: woken {woken} times");
        }
    }
}
