using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.4.3 EXPUNGE and UIDPLUS UID EXPUNGE (RFC 4315 §2.1).</summary>
internal sealed class Expunge(bool uid) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        var selected = session.Selected!;
        IReadOnlyList<long>? uids = null;
        if (uid)
        {
            if (!ImapSimpleRequests.TryParseSequenceSetOnly(command.GetReader(), out var set))
            {
                session.BadArguments(command, "UID EXPUNGE needs a UID set");
                return;
            }

            uids = selected.Resolve(set, byUid: true, session.SavedSearch).Select(m => m.Message.Uid).ToList();
        }

        if (!await MayExpungeAsync(session, command, cancellationToken))
        {
            return;
        }

        if (uids is null || uids.Count > 0)
        {
            await session.Mail.ExpungeAsync(selected.Mailbox.Id, uids, onlyDeleted: true, cancellationToken);
            selected.MarkDirty();
        }

        // The sync before the tagged reply sends the EXPUNGE (or VANISHED) responses.
        await session.OkAsync(command, "EXPUNGE completed", cancellationToken);
    }

    /// <summary>Whether messages may be expunged from the selected mailbox; if not, the NO has been written.</summary>
    public static async Task<bool> MayExpungeAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        var selected = session.Selected!;
        if (selected.ReadOnly)
        {
            session.No(command, "Mailbox is read-only", "READ-ONLY");
            return false;
        }

        if (!await ImapPublicFolders.MayExpungeAsync(session, selected.Mailbox, cancellationToken))
        {
            session.No(command, "Removing articles from this public folder needs the moderate right", "NOPERM");
            return false;
        }

        return true;
    }
}
