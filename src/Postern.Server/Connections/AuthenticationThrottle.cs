using System.Collections.Concurrent;
using System.Net;

namespace Postern.Server.Connections;

/// <summary>
/// Slows down password guessing: after a few failures for an account or a client address, each further
/// attempt waits (exponential, capped), and past a hard limit attempts from that address are refused until the window
/// passes. Failures for an account only slow it down, never block it: otherwise anyone could lock a user out by
/// guessing wrong on purpose (Dovecot delays too, and never locks an account).
/// </summary>
public sealed class AuthenticationThrottle
{
    private readonly ConcurrentDictionary<string, Entry> _failures = new(StringComparer.OrdinalIgnoreCase);

    public int FreeFailures { get; init; } = 3;

    public int MaxFailures { get; init; } = 20;

    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(15);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>The limits an administrator sets with <c>postern serve --auth-limit NAME=VALUE</c>.</summary>
    public static IReadOnlyList<string> LimitNames { get; } = ["free-failures", "max-failures", "window-seconds", "max-delay-ms"];

    /// <summary>A throttle with these NAME=VALUE limits, or null and why.</summary>
    public static AuthenticationThrottle? WithLimits(IEnumerable<string> pairs, out string? error)
    {
        var defaults = new AuthenticationThrottle();
        var (free, max, window, maxDelay) = (defaults.FreeFailures, defaults.MaxFailures, defaults.Window, defaults.MaxDelay);
        foreach (var pair in pairs)
        {
            if (!Store.NamedLimit.TryParse(pair, out var name, out var value))
            {
                error = $"logon limit '{pair}' is not NAME=NUMBER";
                return null;
            }

            switch (name)
            {
                case "free-failures":
                    free = value;
                    break;
                case "max-failures" when value >= 1:
                    max = value;
                    break;
                case "window-seconds" when value >= 1:
                    window = TimeSpan.FromSeconds(value);
                    break;
                case "max-delay-ms":
                    maxDelay = TimeSpan.FromMilliseconds(value);
                    break;
                default:
                    error = LimitNames.Contains(name) ? $"logon limit {name} must be at least 1" : $"unknown logon limit '{name}' (one of {string.Join(", ", LimitNames)})";
                    return null;
            }
        }

        error = null;
        return new AuthenticationThrottle { FreeFailures = free, MaxFailures = max, Window = window, MaxDelay = maxDelay };
    }

    /// <summary>The delay to apply before answering an attempt, or null when attempts are blocked.</summary>
    public TimeSpan? DelayFor(IPAddress client, string? account)
    {
        var fromAddress = Count("ip:" + client);
        if (fromAddress >= MaxFailures)
        {
            return null;
        }

        var count = Math.Max(fromAddress, account is null ? 0 : Count("user:" + account));
        if (count < FreeFailures)
        {
            return TimeSpan.Zero;
        }

        // The exponent is capped: an account's count is unbounded, and 2^n overflows a TimeSpan long before the cap.
        var delay = TimeSpan.FromMilliseconds(250 * Math.Pow(2, Math.Min(count - FreeFailures, 20)));
        return delay > MaxDelay ? MaxDelay : delay;
    }

    public void RecordFailure(IPAddress client, string? account)
    {
        Bump("ip:" + client);
        if (account is not null)
        {
            Bump("user:" + account);
        }

        if (_failures.Count > 100_000)
        {
            foreach (var (key, entry) in _failures)
            {
                if (entry.Expires < DateTimeOffset.UtcNow)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
    }

    public void RecordSuccess(IPAddress client, string account)
    {
        _failures.TryRemove("user:" + account, out _);
        _failures.TryRemove("ip:" + client, out _);
    }

    private int Count(string key) => _failures.TryGetValue(key, out var e) && e.Expires > DateTimeOffset.UtcNow ? e.Count : 0;

    private void Bump(string key) =>
        _failures.AddOrUpdate(key, _ => new Entry(1, DateTimeOffset.UtcNow + Window), (_, e) => e.Expires > DateTimeOffset.UtcNow ? new Entry(e.Count + 1, DateTimeOffset.UtcNow + Window) : new Entry(1, DateTimeOffset.UtcNow + Window));

    private sealed record Entry(int Count, DateTimeOffset Expires);
}
