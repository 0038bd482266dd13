using System.Text;
using Microsoft.Extensions.Logging;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>The IMAP4rev1 virtual server: one <see cref="ImapSession"/> per accepted connection.</summary>
public sealed class ImapProtocolHandler(ServerContext context) : IProtocolHandler
{
    private readonly ILogger _logger = context.LoggerFactory.CreateLogger<ImapProtocolHandler>();

    public ServiceProtocol Protocol => ServiceProtocol.Imap;

    public ReadOnlyMemory<byte> BusyReply { get; } = Encoding.ASCII.GetBytes("* BYE Too many connections, try later\r\n");

    public ReadOnlyMemory<byte> ShutdownReply { get; } = "* BYE Server shutting down\r\n"u8.ToArray();

    public async Task RunSessionAsync(MailConnection connection, CancellationToken cancellationToken)
    {
        var session = new ImapSession(connection, context, _logger);
        await session.RunAsync(cancellationToken).ConfigureAwait(false);
    }
}
