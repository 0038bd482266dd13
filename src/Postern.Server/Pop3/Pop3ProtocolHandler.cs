using Microsoft.Extensions.Logging;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Pop3;

/// <summary>Postern's POP3 server (RFC 1939, RFC 2449, RFC 2595, RFC 5034) on the shared connection layer.</summary>
internal sealed class Pop3ProtocolHandler : IProtocolHandler
{
    /// <summary>How long a maildrop lock outlives a holder that stopped refreshing it (a crashed process).</summary>
    public static readonly TimeSpan DefaultLockLifetime = TimeSpan.FromMinutes(2);

    public Pop3ProtocolHandler(ServerContext context, TimeSpan? lockLifetime = null)
    {
        Locks = new Pop3MaildropLocks(context.Store.Database, context.Time, context.LoggerFactory.CreateLogger<Pop3MaildropLocks>(), lockLifetime ?? DefaultLockLifetime);
    }

    public ServiceProtocol Protocol => ServiceProtocol.Pop3;

    public ReadOnlyMemory<byte> BusyReply { get; } = "-ERR [SYS/TEMP] Too many connections, try again later\r\n"u8.ToArray();

    // Nothing marked deleted is removed: the session never reaches the UPDATE state (RFC 1939 §6).
    public ReadOnlyMemory<byte> ShutdownReply { get; } = "-ERR [SYS/TEMP] Server shutting down\r\n"u8.ToArray();

    internal Pop3MaildropLocks Locks { get; }

    public Task RunSessionAsync(MailConnection connection, CancellationToken cancellationToken) =>
        new Pop3Session(connection, Locks).RunAsync(cancellationToken);
}
