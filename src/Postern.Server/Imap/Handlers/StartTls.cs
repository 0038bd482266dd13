using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.2.1 and RFC 2595: the one TLS upgrade routine, then a fresh session state.</summary>
internal sealed class StartTls : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!session.Connection.CanStartTls)
        {
            session.BadArguments(command, session.Connection.IsSecure ? "TLS is already active" : "TLS is not available");
            return;
        }

        session.Writer.Tagged(command.Tag, ImapStatus.Ok, null, "Begin TLS negotiation now");
        await session.FlushAsync(cancellationToken);

        // Anything pipelined after STARTTLS was sent in clear text and must not run inside TLS (CVE-2011-0411 class).
        if (session.HasBufferedInput())
        {
            session.EnterLogout();
            return;
        }

        if (!await session.Connection.UpgradeToTlsAsync(cancellationToken))
        {
            session.EnterLogout();
            return;
        }

        session.ResetAfterTls();
    }
}
