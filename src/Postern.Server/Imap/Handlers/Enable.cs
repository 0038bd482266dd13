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

        var enabled = new List<string>();
        foreach (var capability in capabilities.Distinct())
        {
            switch (capability)
            {
                case "CONDSTORE":
                    session.CondStoreEnabled = true;
                    enabled.Add(capability);
                    break;
                case "QRESYNC":
                    // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                    session.QResyncEnabled = true;
                    session.CondStoreEnabled = true;
                    enabled.Add(capability);
                    break;
                case "IMAP4REV2":
                    // RFC 9051 §6.3.1: from here on the session follows IMAP4rev2.
                    session.EnableRev2();
                    enabled.Add("IMAP4rev2");
                    break;
                case "UTF8=ACCEPT":
                    session.Utf8Enabled = true;
                    enabled.Add(capability);
                    break;
            }
        }

        session.Writer.UntaggedLine("ENABLED" + string.Concat(enabled.Select(e => " " + e)));
        await session.OkAsync(command, "ENABLE completed", cancellationToken);
    }
}
