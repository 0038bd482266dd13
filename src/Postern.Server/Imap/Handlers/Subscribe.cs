using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.3.6 SUBSCRIBE and §6.3.7 UNSUBSCRIBE.</summary>
internal sealed class Subscribe(bool subscribe) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseMailbox(command.GetReader(), session.Utf8Enabled, out var name))
        {
            session.BadArguments(command, "Mailbox name expected");
            return;
        }

        var status = await session.Mail.SetSubscribedAsync(session.Account!.Id, ImapSession.NormalizeMailbox(name), subscribe, cancellationToken);
        if (status == StoreStatus.Ok)
        {
            await session.OkAsync(command, (subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE") + " completed", cancellationToken);
        }
        else
        {
            session.No(command, "No such mailbox", "NONEXISTENT");
        }
    }
}
