using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.4.7 COPY, MOVE (RFC 6851), with UIDPLUS COPYUID (RFC 4315 §3).</summary>
internal sealed class Copy(bool uid, bool move) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        var verb = move ? "MOVE" : "COPY";
        if (!ImapSimpleRequests.TryParseCopy(command.GetReader(), session.Utf8Enabled, out var set, out var name))
        {
            session.BadArguments(command, verb + " needs a set and a mailbox");
            return;
        }

        var selected = session.Selected!;
        if (move && selected.ReadOnly)
        {
            session.No(command, "Mailbox is read-only", "READ-ONLY");
            return;
        }

        var account = session.Account!;
        var target = await session.Mail.GetMailboxAsync(account.Id, ImapSession.NormalizeMailbox(name), cancellationToken);
        if (target is null)
        {
            session.No(command, "No such mailbox", "TRYCREATE");
            return;
        }

        if (await ImapPublicFolders.CopyRefusalAsync(session, selected.Mailbox, target, move, cancellationToken) is { } refusal)
        {
            session.No(command, refusal, "NOPERM");
            return;
        }

        if (!selected.IsValidSequenceSet(set, uid))
        {
            session.BadArguments(command, "Invalid message sequence number");
            return;
        }

        var messages = selected.Resolve(set, uid, session.SavedSearch).Select(t => t.Message).ToList();
        if (messages.Count == 0)
        {
            await session.OkAsync(command, verb + " completed (nothing to do)", cancellationToken);
            return;
        }

        if (!move && !ImapPublicFolderStore.IsPublic(target.Id) && await session.QuotaBytesAsync(cancellationToken) is > 0 and var quota &&
            await session.Mail.GetAccountUsageAsync(account.Id, cancellationToken) + messages.Sum(m => m.Size) > quota)
        {
            session.No(command, "Quota exceeded", "OVERQUOTA");
            return;
        }

        var result = await session.Mail.CopyAsync(selected.Mailbox.Id, messages.Select(m => m.Uid).ToList(), target.Id, move, cancellationToken);
        if (!result.IsOk)
        {
            session.No(command, result.Message ?? verb + " failed", result.Status == StoreStatus.NotFound ? "TRYCREATE" : "CANNOT");
            return;
        }

        var copy = result.Value!;
        var code = copy.SourceUids.Count == 0
            ? null
            : $"COPYUID {copy.UidValidity} {ImapSequenceSet.Format(copy.SourceUids.Select(u => (uint)u))} {ImapSequenceSet.Format(copy.DestinationUids.Select(u => (uint)u))}";
        if (target.Id == selected.Mailbox.Id || move)
        {
            selected.MarkDirty();
        }

        if (move)
        {
            // RFC 6851 §4.3: COPYUID goes in an untagged OK before the expunges.
            if (code is not null)
            {
                session.Writer.Untagged(ImapStatus.Ok, code, "Moved");
            }

            await session.OkAsync(command, "MOVE completed", cancellationToken);
            return;
        }

        await session.OkAsync(command, "COPY completed", cancellationToken, code);
    }
}
