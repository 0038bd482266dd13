using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.3.3, with CREATE-SPECIAL-USE (RFC 6154 §3) and MAILBOXID (RFC 8474 §4.1).</summary>
internal sealed class Create : IImapHandler
{
    private static readonly string[] SpecialUses = ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"];

    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseCreate(command.GetReader(), session.Utf8Enabled, out var name, out var uses))
        {
            session.BadArguments(command, "CREATE needs a valid mailbox name");
            return;
        }

        // A trailing delimiter only says the name is meant to have children (RFC 3501 §6.3.3).
        name = ImapSession.NormalizeMailbox(name.TrimEnd(ImapSession.Delimiter));
        if (ImapMailboxName.IsUndecodable(name))
        {
            session.No(command, "Mailbox name is not valid modified UTF-7", "CANNOT");
            return;
        }

        if (name.Length == 0 || name.Contains(ImapSession.Delimiter + ImapSession.Delimiter.ToString(), StringComparison.Ordinal) || name.StartsWith(ImapSession.Delimiter))
        {
            session.No(command, "Invalid mailbox name", "CANNOT");
            return;
        }

        if (name == ImapMailboxName.Inbox)
        {
            session.No(command, "INBOX always exists", "ALREADYEXISTS");
            return;
        }

        if (ImapDefaults.MailboxNameRefusal(session.Config, name, ImapSession.Delimiter) is { } refusal)
        {
            session.No(command, refusal, "CANNOT");
            return;
        }

        string? specialUse = null;
        if (uses.Count > 1)
        {
            session.No(command, "One special use per mailbox", "USEATTR");
            return;
        }

        if (uses.Count == 1)
        {
            specialUse = SpecialUses.FirstOrDefault(u => u.Equals(uses[0], StringComparison.OrdinalIgnoreCase));
            if (specialUse is null)
            {
                session.No(command, "Unsupported special use", "USEATTR");
                return;
            }
        }

        // RFC 3501 §6.3.3: create the superior names a new mailbox needs.
        var account = session.Account!.Id;
        var segments = name.Split(ImapSession.Delimiter);
        var existing = (await session.Mail.ListMailboxesAsync(account, cancellationToken)).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var missing = Enumerable.Range(1, segments.Length).Select(i => string.Join(ImapSession.Delimiter, segments[..i])).Count(n => n != ImapMailboxName.Inbox && !existing.Contains(n));
        if (missing > 0 && existing.Count + missing > ImapDefaults.MaxMailboxes(session.Config))
        {
            // RFC 5530 §3: an administrative limit.
            session.No(command, "Too many mailboxes", "LIMIT");
            return;
        }

        for (var i = 1; i < segments.Length; i++)
        {
            var parent = string.Join(ImapSession.Delimiter, segments[..i]);
            if (parent != ImapMailboxName.Inbox && !existing.Contains(parent) && await session.Mail.GetMailboxAsync(account, parent, cancellationToken) is null)
            {
                await session.Mail.CreateMailboxAsync(account, parent, null, cancellationToken);
            }
        }

        var result = await session.Mail.CreateMailboxAsync(account, name, specialUse, cancellationToken);
        if (!result.IsOk)
        {
            session.No(command, result.Message ?? "Cannot create", result.Status == StoreStatus.AlreadyExists ? "ALREADYEXISTS" : "CANNOT");
            return;
        }

        // RFC 8474 §4.1: the new mailbox's MAILBOXID in the tagged OK.
        await session.OkAsync(command, "CREATE completed", cancellationToken, "MAILBOXID (" + ImapObjectIds.ForMailbox(result.Value!.Id) + ")");
    }
}
