using Microsoft.Extensions.Time.Testing;

namespace Ether.Replay.Tui.Tests.ViewModels;

/// <summary>The background work's pause after a key, on a fake clock that each waited slice advances.</summary>
public sealed class UserActivityTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly UserActivity _user;

    public UserActivityTests() => _user = new UserActivity(_clock, slice => _clock.Advance(slice));

    [Fact]
    public void Without_a_key_the_work_goes_on_at_once() =>
        Assert.Equal(TimeSpan.Zero, _user.StepAside());

    [Fact]
    public void Right_after_a_key_the_work_waits_until_the_user_has_been_quiet()
    {
        _user.KeyPressed();
        _clock.Advance(TimeSpan.FromMilliseconds(40));
        var waited = _user.StepAside();
        Assert.InRange(waited, UserActivity.Quiet - TimeSpan.FromMilliseconds(40), UserActivity.Quiet); // to 150 ms after the key, in 10 ms slices
    }

    [Fact]
    public void A_key_long_ago_does_not_hold_the_work()
    {
        _user.KeyPressed();
        _clock.Advance(UserActivity.Quiet);
        Assert.Equal(TimeSpan.Zero, _user.StepAside());
    }

    [Fact]
    public void Keys_held_down_slow_the_work_but_never_stop_it()
    {
        // A key every 20 ms, for ever: each pause still ends after LongestPause.
        UserActivity? user = null;
        user = new UserActivity(_clock, slice =>
        {
            _clock.Advance(slice);
            if (_clock.GetUtcNow().Millisecond % 20 == 0) user!.KeyPressed();
        });
        user.KeyPressed();
        var waited = user.StepAside();
        Assert.InRange(waited, UserActivity.LongestPause, UserActivity.LongestPause + TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public void Closing_the_browser_ends_a_pause()
    {
        using var closing = new CancellationTokenSource();
        var user = new UserActivity(_clock, slice =>
        {
            _clock.Advance(slice);
            closing.Cancel();
        });
        user.KeyPressed();
        Assert.Equal(TimeSpan.FromMilliseconds(10), user.StepAside(closing.Token));
    }
}
