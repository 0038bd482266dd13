using Postern.Protocols.Imap;
using Postern.Server.Connections;
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

        // The selected mailbox (a client polling its open folder) is counted from the session's own list once it has caught
        // up with the store, which it does here anyway at the command's end: its state is then at least as new as the
        // mailbox just read. Any other mailbox is counted in the store, on the pool, since it may be large.
        if (session.Selected is { } selected && selected.Mailbox.Id == mailbox.Id && !ImapPublicFolderStore.IsPublic(mailbox.Id))
        {
            await selected.SyncAsync(session, allowExpunge: true, cancellationToken);
            if (selected.Messages.Count <= EventThread.InlineListLength)
            {
                Write(session, mailbox, items, StatusOf(selected, mailbox), await RecentAsync(session, mailbox, items, cancellationToken));
                await session.OkAsync(command, "STATUS completed", cancellationToken);
                return;
            }
        }

        await EventThread.ToThreadPool();
        await WriteStatusAsync(session, mailbox, items, cancellationToken);
        await session.OkAsync(command, "STATUS completed", cancellationToken);
    }

    public static async Task WriteStatusAsync(ImapSession session, Mailbox mailbox, ImapStatusItems items, CancellationToken cancellationToken)
    {
        var status = await session.Mail.GetStatusAsync(mailbox.Id, cancellationToken);
        Write(session, mailbox, items, status, await RecentAsync(session, mailbox, items, cancellationToken));
    }

    /// <summary>The mailbox's \Recent count, read only when asked for.</summary>
    private static async Task<long> RecentAsync(ImapSession session, Mailbox mailbox, ImapStatusItems items, CancellationToken cancellationToken) =>
        (items & ImapStatusItems.Recent) == 0 ? 0 : await session.Mail.CountRecentAsync(mailbox.Id, cancellationToken);

    private static MailboxStatus StatusOf(ImapSelectedMailbox selected, Mailbox mailbox)
    {
        long unseen = 0, size = 0, deleted = 0;
        var messages = selected.Messages;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            size += message.Size;
            unseen += (message.Flags & MessageFlags.Seen) == 0 ? 1 : 0;
            deleted += (message.Flags & MessageFlags.Deleted) != 0 ? 1 : 0;
        }

        // The list may already hold messages appended after the mailbox was read.
        var uidNext = Math.Max(mailbox.UidNext, selected.LargestUid + 1L);
        return new MailboxStatus(messages.Count, unseen, size, uidNext, mailbox.UidValidity, Math.Max(mailbox.HighestModSeq, selected.HighestModSeq), deleted);
    }

    private static void Write(ImapSession session, Mailbox mailbox, ImapStatusItems items, MailboxStatus status, long recent)
    {
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
