using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 5161: ENABLE CONDSTORE, QRESYNC (RFC 7162), UTF8=ACCEPT (RFC 6855), IMAP4rev2 (RFC 9051 §6.3.1).</summary>
internal sealed class Enable : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseEnable(command.GetReader(), out var capabilities))
        {
            session.BadArguments(command, "ENABLE needs capability names");
            return;
        }

        var enabled = session.Enabled.Enable(capabilities);
        session.Writer.UntaggedLine("ENABLED" + string.Concat(enabled.Select(e => " " + e)));
        await session.OkAsync(command, "ENABLE completed", cancellationToken);
    }
}
