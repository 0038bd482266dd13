using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.3.1/§6.3.2 SELECT and EXAMINE, with CONDSTORE and QRESYNC parameters (RFC 7162 §3.1.8, §3.2.5); IMAP4rev2 responses (RFC 9051 §6.3.2).</summary>
internal sealed class Select(bool readOnly) : IImapHandler
{
    private const string PermanentFlags = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)";

    /// <summary>At the keyword limit: the keywords in use can still be set, new ones cannot (RFC 3501 §7.1).</summary>
    private const string PermanentFlagsNoNewKeywords = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)";

    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSelectRequest.TryParse(command.GetReader(), session.Utf8Enabled, out var request, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        // RFC 7162 §3.2.5: QRESYNC as a SELECT parameter needs ENABLE QRESYNC first.
        if (request.QResync is not null && !session.QResyncEnabled)
        {
            session.BadArguments(command, "QRESYNC is not enabled");
            return;
        }

        // RFC 3501 §6.3.1: selecting deselects first, even when the new SELECT fails. RFC 7162 §3.2.11: [CLOSED] tells a
        // QRESYNC client where the old mailbox's responses end.
        var wasSelected = session.Selected is not null;
        session.LeaveSelected();
        // RFC 9051 §6.3.2: an IMAP4rev2 server always sends it.
        if (wasSelected && session.Enabled.SendsClosed)
        {
            session.Writer.Untagged(ImapStatus.Ok, "CLOSED", "Previous mailbox closed");
        }

        var name = ImapSession.NormalizeMailbox(request.Mailbox);
        var mailbox = await session.Mail.GetMailboxAsync(session.Account!.Id, name, cancellationToken);
        if (mailbox is null)
        {
            session.No(command, "No such mailbox", "NONEXISTENT");
            return;
        }

        if (request.CondStore)
        {
            session.CondStoreEnabled = true;
        }

        var selected = await ImapSelectedMailbox.OpenAsync(session.Mail, session.Context.Store.Changes, ImapMailboxSnapshots.For(session.Context.Store), mailbox, readOnly, cancellationToken);
        session.EnterSelected(selected);
        var messages = selected.Messages;
        var writer = session.Writer;
        writer.BeginUntagged().Atom("FLAGS").Flags(ImapSession.MailboxFlags, session.InitialKeywords(messages, mailbox.Keywords)).EndLine();
        writer.Untagged(ImapStatus.Ok, "PERMANENTFLAGS " + (readOnly ? "()" : session.MayCreateKeywords ? PermanentFlags : PermanentFlagsNoNewKeywords),
            readOnly ? "No permanent flags permitted" : "Flags permitted");
        writer.BeginUntagged().Number((ulong)messages.Count).Atom("EXISTS").EndLine();
        if (!session.Enabled.ReportsRecentAndUnseen)
        {
            // RFC 9051 §6.3.2: rev2 has neither RECENT nor [UNSEEN n], and MUST send a LIST response for the mailbox.
            await WriteListAsync(session, mailbox, cancellationToken);
        }
        else
        {
            writer.BeginUntagged().Number((ulong)selected.RecentCount).Atom("RECENT").EndLine();
            for (var i = 0; i < messages.Count; i++)
            {
                if ((messages[i].Flags & Postern.Store.MessageFlags.Seen) == 0)
                {
                    writer.Untagged(ImapStatus.Ok, "UNSEEN " + (i + 1), "First unseen");
                    break;
                }
            }
        }

        writer.Untagged(ImapStatus.Ok, "UIDVALIDITY " + mailbox.UidValidity, "UIDs valid");
        writer.Untagged(ImapStatus.Ok, "UIDNEXT " + mailbox.UidNext, "Predicted next UID");

        // RFC 7162 §3.1.2.1: a server with persistent mod-sequences reports HIGHESTMODSEQ on every SELECT/EXAMINE.
        writer.Untagged(ImapStatus.Ok, "HIGHESTMODSEQ " + mailbox.HighestModSeq, "Highest");

        // RFC 8474 §4.2: MUST on every successful SELECT/EXAMINE.
        writer.Untagged(ImapStatus.Ok, "MAILBOXID (" + ImapObjectIds.ForMailbox(mailbox.Id) + ")", "Ok");

        if (request.QResync is { } qresync && qresync.UidValidity == mailbox.UidValidity)
        {
            await ResynchronizeAsync(session, selected, qresync, cancellationToken);
        }

        writer.Tagged(command.Tag, ImapStatus.Ok, readOnly ? "READ-ONLY" : "READ-WRITE", (readOnly ? "EXAMINE" : "SELECT") + " completed");
    }

    /// <summary>RFC 9051 §6.3.2: <c>* LIST (attributes) "/" name</c> for the selected mailbox, attributes as LIST gives them.</summary>
    private static async Task WriteListAsync(ImapSession session, Postern.Store.Mailbox mailbox, CancellationToken cancellationToken)
    {
        var mailboxes = await session.Mail.ListMailboxesAsync(session.Account!.Id, cancellationToken);
        var prefix = mailbox.Name + ImapSession.Delimiter;
        var hasChildren = mailboxes.Any(m => m.Name.StartsWith(prefix, StringComparison.Ordinal));
        var writer = session.Writer;
        writer.BeginUntagged().Atom("LIST").BeginList().Atom(hasChildren ? "\\HasChildren" : "\\HasNoChildren");
        if (mailbox.SpecialUse is { } use)
        {
            writer.Atom(use);
        }

        writer.EndList().String(ImapSession.Delimiter.ToString()).Mailbox(mailbox.Name).EndLine();
    }

    /// <summary>RFC 7162 §3.2.5.1: VANISHED (EARLIER) for what was expunged since the client's mod-sequence, then the changed flags.</summary>
    private static async Task ResynchronizeAsync(ImapSession session, ImapSelectedMailbox selected, ImapQResyncParameters qresync, CancellationToken cancellationToken)
    {
        var writer = session.Writer;
        var vanished = await session.Mail.ListExpungedSinceAsync(selected.Mailbox.Id, (long)qresync.ModSeq, cancellationToken);
        var known = qresync.KnownUids;
        var reported = vanished.Where(uid => known is null || known.Contains((uint)uid, uint.MaxValue)).Select(uid => (uint)uid).ToList();
        if (reported.Count > 0)
        {
            writer.BeginUntagged().Atom("VANISHED").Atom("(EARLIER)").Atom(ImapSequenceSet.Format(reported)).EndLine();
        }

        var messages = selected.Messages;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.ModSeq <= (long)qresync.ModSeq || (known is not null && !known.Contains((uint)message.Uid, uint.MaxValue)))
            {
                continue;
            }

            session.AnnounceKeywords(message.Keywords);
            writer.BeginUntagged().Number((ulong)(i + 1)).Atom("FETCH").BeginList()
                .Atom("UID").Number((ulong)message.Uid)
                .Atom("FLAGS").Flags((ImapSystemFlags)message.Flags, message.Keywords, session.ShowsRecent(message.Uid))
                .Atom("MODSEQ").BeginList().Number((ulong)message.ModSeq).EndList()
                .EndList().EndLine();
        }
    }
}
