using System.Net;
using Postern.Server.Connections;

namespace Postern.UnitTests.Connections;

public sealed class AuthenticationThrottleTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Owner = IPAddress.Parse("198.51.100.3");

    [Fact]
    public void The_first_failures_cost_nothing_then_each_attempt_waits_longer_up_to_the_cap()
    {
        var throttle = new AuthenticationThrottle();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(TimeSpan.Zero, throttle.DelayFor(Attacker, "alice@example.test"));
            throttle.RecordFailure(Attacker, "alice@example.test");
        }

        Assert.Equal(TimeSpan.FromMilliseconds(250), throttle.DelayFor(Attacker, "alice@example.test"));
        throttle.RecordFailure(Attacker, "alice@example.test");
        Assert.Equal(TimeSpan.FromMilliseconds(500), throttle.DelayFor(Attacker, "alice@example.test"));
        for (var i = 0; i < 10; i++)
        {
            throttle.RecordFailure(Attacker, "alice@example.test");
        }

        Assert.Equal(TimeSpan.FromSeconds(8), throttle.DelayFor(Attacker, "alice@example.test"));
    }

    [Fact]
    public void An_address_past_the_hard_limit_is_refused_for_every_account()
    {
        var throttle = new AuthenticationThrottle();
        for (var i = 0; i < 20; i++)
        {
            throttle.RecordFailure(Attacker, $"user{i}@example.test");
        }

        Assert.Null(throttle.DelayFor(Attacker, "anyone@example.test"));
        Assert.Null(throttle.DelayFor(Attacker, null));
        Assert.Equal(TimeSpan.Zero, throttle.DelayFor(Owner, "user1@example.test"));
    }

    [Fact]
    public void Failures_for_an_account_slow_it_down_but_never_lock_its_owner_out()
    {
        var throttle = new AuthenticationThrottle();
        for (var i = 0; i < 50; i++)
        {
            throttle.RecordFailure(IPAddress.Parse($"203.0.113.{i + 1}"), "alice@example.test");
        }

        // From a new address the owner still gets an answer, after the per-account delay.
        Assert.Equal(TimeSpan.FromSeconds(8), throttle.DelayFor(Owner, "alice@example.test"));
        Assert.Equal(TimeSpan.Zero, throttle.DelayFor(Owner, "bob@example.test"));
    }

    [Fact]
    public void One_address_guessing_is_stopped_and_a_success_from_it_clears_the_counts()
    {
        var throttle = new AuthenticationThrottle { MaxFailures = 5 };
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure(Attacker, "alice@example.test");
        }

        Assert.Null(throttle.DelayFor(Attacker, "alice@example.test"));
        Assert.NotNull(throttle.DelayFor(Owner, "alice@example.test"));

        throttle.RecordSuccess(Attacker, "alice@example.test");
        Assert.Equal(TimeSpan.Zero, throttle.DelayFor(Attacker, "alice@example.test"));
    }

    [Fact]
    public void Limits_given_by_name_replace_the_defaults_and_nonsense_is_refused()
    {
        var throttle = AuthenticationThrottle.WithLimits(["free-failures=1", "max-failures=2", "window-seconds=60", "max-delay-ms=100"], out var error);
        Assert.Null(error);
        Assert.Equal(1, throttle!.FreeFailures);
        Assert.Equal(2, throttle.MaxFailures);
        Assert.Equal(TimeSpan.FromSeconds(60), throttle.Window);
        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.MaxDelay);
        throttle.RecordFailure(Attacker, null);
        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.DelayFor(Attacker, null));
        throttle.RecordFailure(Attacker, null);
        Assert.Null(throttle.DelayFor(Attacker, null));

        Assert.Null(AuthenticationThrottle.WithLimits(["max-failures=0"], out error));
        Assert.Contains("at least 1", error, StringComparison.Ordinal);
        Assert.Null(AuthenticationThrottle.WithLimits(["lockout=5"], out error));
        Assert.Contains("unknown logon limit", error, StringComparison.Ordinal);
        Assert.Null(AuthenticationThrottle.WithLimits(["max-failures=x"], out error));
        Assert.Contains("NAME=NUMBER", error, StringComparison.Ordinal);
    }
}
