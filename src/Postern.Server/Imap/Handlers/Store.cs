using Postern.Protocols.Imap;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.4.6 STORE / UID STORE, with CONDSTORE UNCHANGEDSINCE (RFC 7162 §3.1.3).</summary>
internal sealed class Store(bool uid) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapStoreRequest.TryParse(command.GetReader(), out var request, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        var selected = session.Selected!;
        if (selected.ReadOnly)
        {
            session.No(command, "Mailbox is read-only", "READ-ONLY");
            return;
        }

        if (request.UnchangedSince is not null)
        {
            session.EnableCondStoreByCommand();
        }

        if (!selected.IsValidSequenceSet(request.Set, uid))
        {
            session.BadArguments(command, "Invalid message sequence number");
            return;
        }

        if (request.Operation != ImapStoreOperation.Remove && ImapDefaults.HasOverlongKeyword(session.Config, request.Flags.Keywords))
        {
            session.No(command, "Keyword too long", "LIMIT");
            return;
        }

        // The limit is the mailbox's, counted in the store: other sessions' keywords count, and removed ones no longer do.
        if (request.Operation != ImapStoreOperation.Remove && request.Flags.Keywords.Count > 0
            && await session.ExceedsKeywordLimitAsync(
                await session.Mail.GetMailboxAsync(selected.Mailbox.AccountId, selected.Mailbox.Name, cancellationToken) ?? selected.Mailbox,
                request.Flags.Keywords, cancellationToken))
        {
            // RFC 5530 §3: LIMIT, an administrative limit; the mailbox's existing keywords can still be set.
            session.No(command, "Too many keywords in this mailbox", "LIMIT");
            return;
        }

        var targets = selected.Resolve(request.Set, uid, session.SavedSearch);
        await EventThread.ToThreadPoolIf(targets.Count > EventThread.InlineListLength);
        var operation = request.Operation switch
        {
            ImapStoreOperation.Add => FlagOperation.Add,
            ImapStoreOperation.Remove => FlagOperation.Remove,
            _ => FlagOperation.Replace,
        };
        var result = await session.Mail.StoreFlagsAsync(selected.Mailbox.Id, targets.Select(t => t.Message.Uid).ToList(), operation,
            (MessageFlags)request.Flags.System, request.Flags.Keywords, (long?)request.UnchangedSince, cancellationToken);
        var changed = new HashSet<long>();
        foreach (var updated in result.Updated)
        {
            selected.Update(updated);
            changed.Add(updated.Uid);
        }

        // A message another session expunged, whose EXPUNGE this session has not been told yet, takes the change in
        // this session's view only (RFC 2180 §4.2.3 allows it; Dovecot keeps it too); the EXPUNGE follows. Echoing its old
        // flags would tell the client the STORE was ignored, and NO would fail the STORE for every other message.
        foreach (var uid in result.Missing)
        {
            var index = selected.IndexOf(uid);
            if (index >= 0 && FlagChange.TryApply(selected.Messages[index], operation, (MessageFlags)request.Flags.System, request.Flags.Keywords, out var flags, out var keywords))
            {
                selected.Update(selected.Messages[index] with { Flags = flags, Keywords = keywords });
            }
        }

        // Every keyword a STORE names becomes one of the mailbox's keywords for this session, also one only removed, as in
        // Dovecot: a client may then take it from FLAGS (imaptest checks this). A removal never passes the keyword limit.
        if (request.Operation != ImapStoreOperation.Remove || !session.ExceedsKeywordLimit(request.Flags.Keywords))
        {
            session.AnnounceKeywords(request.Flags.Keywords);
        }

        var conflicts = result.Conflicts.ToHashSet();
        var writer = session.Writer;
        foreach (var (sequence, _) in targets)
        {
            var message = selected.Messages[sequence - 1];
            if (conflicts.Contains(message.Uid))
            {
                continue;
            }

            // A keyword new to this session is announced with FLAGS (RFC 9051 §7.3.5) also for .SILENT, which
            // suppresses only the FETCH echo: otherwise the client would never learn the keyword it just created.
            session.AnnounceKeywords(message.Keywords);

            // .SILENT suppresses the echo, except that a CONDSTORE client still learns the new MODSEQ (RFC 7162 §3.1.3).
            if (request.Silent && !(session.CondStoreEnabled && changed.Contains(message.Uid)))
            {
                continue;
            }

            writer.BeginUntagged().Number((ulong)sequence).Atom("FETCH").BeginList();
            if (!request.Silent)
            {
                writer.Atom("FLAGS").Flags((ImapSystemFlags)message.Flags, message.Keywords, session.ShowsRecent(message.Uid));
            }

            // RFC 7162 §3.2.4: once QRESYNC is enabled, every FETCH a flag change causes carries the UID, also after STORE.
            if (uid || session.QResyncEnabled)
            {
                writer.Atom("UID").Number((ulong)message.Uid);
            }

            if (session.CondStoreEnabled)
            {
                writer.Atom("MODSEQ").BeginList().Number((ulong)message.ModSeq).EndList();
            }

            writer.EndList().EndLine();
        }

        string? code = null;
        if (conflicts.Count > 0)
        {
            var numbers = targets.Where(t => conflicts.Contains(t.Message.Uid)).Select(t => uid ? (uint)t.Message.Uid : (uint)t.Sequence);
            code = "MODIFIED " + ImapSequenceSet.Format(numbers);
        }

        // RFC 3501 §7.4.1: no EXPUNGE during STORE by sequence number.
        await session.CompleteAsync(command, ImapStatus.Ok, "STORE completed", code, allowExpunge: uid, cancellationToken);
    }
}
