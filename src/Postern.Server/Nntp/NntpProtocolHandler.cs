using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>NNTP reader and transit service (RFC 3977, 4642, 4643, 4644).</summary>
/// <param name="articleAccepted">Called after an article is stored (POST, IHAVE, TAKETHIS), e.g. <see cref="NewsFeedService.Nudge"/> so feeds leave at once.</param>
public sealed class NntpProtocolHandler(ServerContext context, Action? articleAccepted = null) : IProtocolHandler
{
    public ServiceProtocol Protocol => ServiceProtocol.Nntp;

    // RFC 3977 §5.1.1: 400 "service temporarily unavailable".
    public ReadOnlyMemory<byte> BusyReply { get; } = "400 Too many connections, try again later\r\n"u8.ToArray();

    public ReadOnlyMemory<byte> ShutdownReply { get; } = "400 Service discontinued\r\n"u8.ToArray();

    public Task RunSessionAsync(MailConnection connection, CancellationToken cancellationToken) =>
        new NntpSession(connection, context, articleAccepted).RunAsync(cancellationToken);
}
