using Postern.Store;

namespace Postern.Server.Connections;

/// <summary>One per protocol: runs a session on an accepted (and, for implicit TLS, already secured) connection.</summary>
public interface IProtocolHandler
{
    ServiceProtocol Protocol { get; }

    Task RunSessionAsync(MailConnection connection, CancellationToken cancellationToken);

    /// <summary>The protocol's "too busy" answer (SMTP 421, POP3 -ERR, IMAP BYE, NNTP 400) before closing.</summary>
    ReadOnlyMemory<byte> BusyReply { get; }

    /// <summary>The protocol's goodbye when the virtual server stops or the server shuts down mid-session.</summary>
    ReadOnlyMemory<byte> ShutdownReply { get; }
}
