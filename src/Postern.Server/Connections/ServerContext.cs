using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Postern.Pki;
using Postern.Store;

namespace Postern.Server.Connections;

/// <summary>What every protocol session shares: the store, the certificate selector, the server's name.</summary>
public sealed class ServerContext
{
    public required IPosternStore Store { get; init; }

    public required IServerCertificateSelector Certificates { get; init; }

    public required string HostName { get; init; }

    public required ILoggerFactory LoggerFactory { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Maps a client certificate to the account it identifies (SASL EXTERNAL), or null.</summary>
    public Func<X509Certificate2, CancellationToken, Task<string?>>? ClientCertificateAccounts { get; init; }

    /// <summary>Throttles failed logins per account and per client address, shared by every protocol.</summary>
    public AuthenticationThrottle AuthThrottle { get; init; } = new();

    /// <summary>DKIM keys of the mail domains; submitted mail from a domain with a key is signed. Null: nothing is signed.</summary>
    public Smtp.DkimKeys? Dkim { get; set; }

    /// <summary>Checks DKIM signatures of mail from other servers and adds Authentication-Results. Null: not checked.</summary>
    public Smtp.DkimVerification? InboundDkim { get; set; }

    /// <summary>The resolver for MX and DKIM lookups and the DNS checks (null: the system's, made where needed).</summary>
    public DnsClient.ILookupClient? Dns { get; init; }

    /// <summary>Added to every configured port (non-root runs; tests).</summary>
    public int PortOffset { get; init; }

    /// <summary>What all SMTP and NNTP sessions together may hold of messages on their way in (serve --max-message-memory).</summary>
    public MessageMemoryBudget MessageMemory { get; init; } = new(MessageMemoryBudget.DefaultCapacityBytes);
}
