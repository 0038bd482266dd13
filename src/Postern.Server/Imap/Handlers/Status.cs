using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.3.10, with SIZE (RFC 8438), DELETED (RFC 9051), HIGHESTMODSEQ (RFC 7162), MAILBOXID (RFC 8474) and APPENDLIMIT (RFC 7889).</summary>
internal sealed class Status : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapStatusRequest.TryParse(command.GetReader(), session.Utf8Enabled, out var name, out var items, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        var mailbox = await session.Mail.GetMailboxAsync(session.Account!.Id, ImapSession.NormalizeMailbox(name), cancellationToken);
        if (mailbox is null)
        {
            session.No(command, "No such mailbox", "NONEXISTENT");
            return;
        }

        await WriteStatusAsync(session, mailbox, items, cancellationToken);
        await session.OkAsync(command, "STATUS completed", cancellationToken);
    }

    public static async Task WriteStatusAsync(ImapSession session, Mailbox mailbox, ImapStatusItems items, CancellationToken cancellationToken)
    {
        var status = await session.Mail.GetStatusAsync(mailbox.Id, cancellationToken);
        var recent = (items & ImapStatusItems.Recent) == 0 ? 0 : await session.Mail.CountRecentAsync(mailbox.Id, cancellationToken);
        var writer = session.Writer;
        writer.BeginUntagged().Atom("STATUS").Mailbox(mailbox.Name).BeginList();
        foreach (var (item, label) in ImapStatusRequest.Names)
        {
            if ((items & item) == 0)
            {
                continue;
            }

            if (item == ImapStatusItems.MailboxId)
            {
                writer.Atom(label).BeginList().Atom(ImapObjectIds.ForMailbox(mailbox.Id)).EndList();
                continue;
            }

            writer.Atom(label).Number(item switch
            {
                ImapStatusItems.Messages => (ulong)status.Messages,
                ImapStatusItems.Recent => (ulong)recent,
                ImapStatusItems.UidNext => (ulong)status.UidNext,
                ImapStatusItems.UidValidity => (ulong)status.UidValidity,
                ImapStatusItems.Unseen => (ulong)status.Unseen,
                ImapStatusItems.Deleted => (ulong)status.Deleted,
                ImapStatusItems.Size => (ulong)status.Size,
                ImapStatusItems.AppendLimit => (ulong)session.Config.Limits.MaxMessageSize,
                _ => (ulong)status.HighestModSeq,
            });
        }

        writer.EndList().EndLine();
    }
}
