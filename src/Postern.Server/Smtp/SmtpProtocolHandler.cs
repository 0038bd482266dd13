using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>SMTP (RFC 5321) for the receiving and the submission virtual servers.</summary>
public sealed class SmtpProtocolHandler : IProtocolHandler
{
    private static readonly byte[] s_busy = "421 4.7.0 Too many connections, try again later\r\n"u8.ToArray();

    public ServiceProtocol Protocol => ServiceProtocol.Smtp;

    public ReadOnlyMemory<byte> BusyReply => s_busy;

    // RFC 5321 §3.8: a server that must shut down answers 421 to whatever comes next, even within a transaction.
    public ReadOnlyMemory<byte> ShutdownReply { get; } = "421 4.3.2 Service shutting down, closing transmission channel\r\n"u8.ToArray();

    public async Task RunSessionAsync(MailConnection connection, CancellationToken cancellationToken)
    {
        var session = new SmtpSession(connection);
        try
        {
            await session.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // A session that ends mid-message (the client went away) gives its share of the message memory back.
            session.EndTransaction();
        }
    }
}
