using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.3.4.</summary>
internal sealed class Delete : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseMailbox(command.GetReader(), session.Utf8Enabled, out var name))
        {
            session.BadArguments(command, "DELETE needs a mailbox name");
            return;
        }

        name = ImapSession.NormalizeMailbox(name);
        if (name == ImapMailboxName.Inbox)
        {
            session.No(command, "INBOX cannot be deleted", "CANNOT");
            return;
        }

        if (session.Selected?.Mailbox.Name == name)
        {
            // Deleting the selected mailbox: the session's view would point at nothing.
            session.LeaveSelected();
        }

        var status = await session.Mail.DeleteMailboxAsync(session.Account!.Id, name, cancellationToken);
        switch (status)
        {
            case StoreStatus.Ok:
                await session.OkAsync(command, "DELETE completed", cancellationToken);
                break;
            case StoreStatus.NotFound:
                session.No(command, "No such mailbox", "NONEXISTENT");
                break;
            default:
                session.No(command, "Cannot delete mailbox", "CANNOT");
                break;
        }
    }
}
