using System.Security.Cryptography.X509Certificates;

namespace Postern.Server.Smtp.Outbound;

/// <summary>Knobs of the outbound queue runner; every one has a sane default.</summary>
public sealed class OutboundDeliveryOptions
{
    /// <summary>Name used in EHLO, Received and DSNs; defaults to the server's host name.</summary>
    public string? HostName { get; init; }

    /// <summary>How often the queue is looked at when nothing wakes the loop.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to keep trying before bouncing (RFC 5321 §4.5.4.1: at least 4–5 days).</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromDays(5);

    /// <summary>First retry delay; doubles after each attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(4);

    /// <summary>
    /// When a "delayed" DSN goes to senders whose recipients asked for it (NOTIFY=DELAY, RFC 3461 §4.1); sent once per message.
    /// Null turns delay notices off.
    /// </summary>
    public TimeSpan? DelayNoticeAfter { get; init; } = TimeSpan.FromHours(4);

    /// <summary>Port for MX delivery (25; tests may change it).</summary>
    public int MxPort { get; init; } = 25;

    /// <summary>MTA-STS policies of recipient domains (RFC 8461), honoured for delivery by MX; null: not looked up.</summary>
    public MtaStsPolicies? MtaSts { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    public int MaxConcurrentDeliveries { get; init; } = 16;

    public int BatchSize { get; init; } = 100;

    /// <summary>
    /// How long a delivery attempt holds its message: no other node sharing the store attempts it meanwhile. Longer than
    /// any one attempt (every MX host, each within <see cref="Timeout"/>); a node that died mid-attempt leaves the
    /// message due again after it.
    /// </summary>
    public TimeSpan DeliveryLease { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The organization's trusted roots (the built-in CA and imported roots), trusted besides the system roots when a
    /// route verifies certificates; asked once per verified connection, so newly imported roots count at once.
    /// </summary>
    public Func<CancellationToken, Task<IReadOnlyCollection<X509Certificate2>>>? TrustedRoots { get; init; }

    public IMailExchangerResolver? Resolver { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
