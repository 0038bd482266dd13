namespace Postern.Host.Serve;

internal sealed record ServeOptions
{
    /// <summary>The data folder: database, key-encryption key, admin credentials.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Added to every standard port, so a non-root user can run the standard layout (25 → 10025 with 10000).</summary>
    public int PortOffset { get; init; }

    /// <summary>The server's FQDN: greeting banners, Received headers, the certificate's name.</summary>
    public string? HostName { get; init; }

    /// <summary>The organization (the article's top container) named at first start.</summary>
    public string Organization { get; init; } = "First Organization";

    /// <summary>PBKDF2-SHA256 iterations for new password hashes.</summary>
    public int PasswordIterations { get; init; } = 600_000;

    /// <summary>Certificates expiring within this many days are logged and mailed to the postmaster.</summary>
    public int ExpiryWarningDays { get; init; } = 30;

    /// <summary>"sqlite" (the data folder's postern.db) or "postgresql" (a database several nodes share).</summary>
    public string StoreEngine { get; init; } = "sqlite";

    /// <summary>The PostgreSQL connection string.</summary>
    public string? StoreConnection { get; init; }

    /// <summary>The DNS server for MX, DKIM and other lookups (null: the system's resolvers).</summary>
    public System.Net.IPEndPoint? DnsServer { get; init; }

    /// <summary>How often the expiry watch runs (automatic renewal, warnings, CRL refresh).</summary>
    public TimeSpan ExpiryCheckInterval { get; init; } = TimeSpan.FromHours(6);

    /// <summary>How long outbound mail is retried before it is bounced (Postfix's maximal_queue_lifetime).</summary>
    public TimeSpan QueueLifetime { get; init; } = TimeSpan.FromDays(5);

    /// <summary>Outbound deliveries at once (Postfix's default_destination_concurrency_limit, across all destinations).</summary>
    public int MaxDeliveries { get; init; } = 16;

    /// <summary>NAME=VALUE limits of the certificate authority (<see cref="Postern.Pki.PkiOptions.LimitNames"/>).</summary>
    public IReadOnlyList<string> PkiLimits { get; init; } = [];

    /// <summary>NAME=VALUE limits of the failed-logon throttle (<see cref="Postern.Server.Connections.AuthenticationThrottle.LimitNames"/>).</summary>
    public IReadOnlyList<string> AuthLimits { get; init; } = [];

    /// <summary>What all SMTP and NNTP sessions together may hold of messages on their way in, in octets.</summary>
    public long MaxMessageMemory { get; init; } = Postern.Server.Connections.MessageMemoryBudget.DefaultCapacityBytes;

    /// <summary>Network timeout of each step of an outbound delivery (connect, greeting, each command).</summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromMinutes(2);
}
