using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.3.5 (renaming INBOX moves its messages; the store does that).</summary>
internal sealed class Rename : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseRename(command.GetReader(), session.Utf8Enabled, out var from, out var to))
        {
            session.BadArguments(command, "RENAME needs two mailbox names");
            return;
        }

        from = ImapSession.NormalizeMailbox(from);
        to = ImapSession.NormalizeMailbox(to.TrimEnd(ImapSession.Delimiter));
        if (to == ImapMailboxName.Inbox || to.Length == 0 || ImapMailboxName.IsUndecodable(to))
        {
            session.No(command, "Invalid target name", "CANNOT");
            return;
        }

        // A mailbox cannot move under itself (Dovecot and Cyrus refuse it too); INBOX can, since only its messages move.
        if (from != ImapMailboxName.Inbox && to.StartsWith(from + ImapSession.Delimiter, StringComparison.Ordinal))
        {
            session.No(command, "Cannot rename a mailbox into itself", "CANNOT");
            return;
        }

        // The whole subtree moves: its longest and deepest names must still fit.
        var renamed = (await session.Mail.ListMailboxesAsync(session.Account!.Id, cancellationToken))
            .Where(m => m.Name == from || m.Name.StartsWith(from + ImapSession.Delimiter, StringComparison.Ordinal))
            .Select(m => to + m.Name[from.Length..])
            .Append(to);
        if (renamed.Select(n => ImapDefaults.MailboxNameRefusal(session.Config, n, ImapSession.Delimiter)).FirstOrDefault(r => r is not null) is { } refusal)
        {
            session.No(command, refusal, "CANNOT");
            return;
        }

        var status = await session.Mail.RenameMailboxAsync(session.Account!.Id, from, to, ImapSession.Delimiter, cancellationToken);
        switch (status)
        {
            case StoreStatus.Ok:
                await session.OkAsync(command, "RENAME completed", cancellationToken);
                break;
            case StoreStatus.NotFound:
                session.No(command, "No such mailbox", "NONEXISTENT");
                break;
            case StoreStatus.AlreadyExists:
                session.No(command, "Target exists", "ALREADYEXISTS");
                break;
            default:
                session.No(command, "Cannot rename", "CANNOT");
                break;
        }
    }
}
