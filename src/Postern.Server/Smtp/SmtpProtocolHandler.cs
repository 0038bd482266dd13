using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>SMTP (RFC 5321) for the receiving and the submission virtual servers.</summary>
/// <param name="hostName">The server's name, which every 421 reply carries (RFC 5321 §4.2: "421 &lt;domain&gt; Service not available").</param>
public sealed class SmtpProtocolHandler(string hostName = "localhost") : IProtocolHandler
{
    public ServiceProtocol Protocol => ServiceProtocol.Smtp;

    public ReadOnlyMemory<byte> BusyReply { get; } = System.Text.Encoding.ASCII.GetBytes($"421 4.7.0 {hostName} Too many connections, try again later\r\n");

    // RFC 5321 §3.8: a server that must shut down answers 421 to whatever comes next, even within a transaction.
    public ReadOnlyMemory<byte> ShutdownReply { get; } = System.Text.Encoding.ASCII.GetBytes($"421 4.3.2 {hostName} Service shutting down, closing transmission channel\r\n");

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
