using System.Globalization;
using Postern.Store;

namespace Postern.Server.Pop3;

/// <summary>One message of the maildrop as the session sees it (RFC 1939 message numbers start at 1).</summary>
internal sealed class Pop3Message(int number, MessageRecord record, string uniqueId, long size)
{
    public int Number { get; } = number;

    public MessageRecord Record { get; } = record;

    /// <summary>RFC 1939 §7 UIDL: 1 to 70 characters in 0x21..0x7E, never reused for another message.</summary>
    public string UniqueId { get; } = uniqueId;

    /// <summary>
    /// RFC 1939 §5 LIST: "the exact size of the message", the octets RETR sends before byte-stuffing; every line then
    /// ends in CRLF, so this can exceed the stored size (bare LFs, no final line break), and clients such as fetchmail compare.
    /// </summary>
    public long Size { get; } = size;

    /// <summary>Marked by DELE; removed from the store only in the UPDATE state.</summary>
    public bool Deleted { get; set; }
}

internal enum Pop3Lookup
{
    Found = 0,
    NoSuchMessage = 1,
    AlreadyDeleted = 2,
}

/// <summary>
/// The post-login side of a session: the account's INBOX, locked, and the list of its messages as of the
/// moment of login (RFC 1939 §8: message numbers and sizes must not change during the session).
/// </summary>
internal sealed class Pop3Maildrop
{
    private readonly IMailStore _mail;
    private readonly List<Pop3Message> _messages;

    private Pop3Maildrop(IMailStore mail, Account account, Mailbox inbox, List<Pop3Message> messages)
    {
        _mail = mail;
        Account = account;
        Inbox = inbox;
        _messages = messages;
    }

    public Account Account { get; }

    public Mailbox Inbox { get; }

    public IReadOnlyList<Pop3Message> Messages => _messages;

    public int Count => _messages.Count(m => !m.Deleted);

    public long Size => _messages.Where(m => !m.Deleted).Sum(m => m.Size);

    /// <summary>Locks the account's INBOX and takes the snapshot; null when another session holds the lock.</summary>
    public static async Task<Pop3Maildrop?> OpenAsync(IMailStore mail, Pop3MaildropLocks locks, Account account, long sessionId, CancellationToken cancellationToken)
    {
        var inbox = await mail.GetMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false);
        if (inbox is null)
        {
            await mail.EnsureDefaultMailboxesAsync(account.Id, cancellationToken).ConfigureAwait(false);
            inbox = await mail.GetMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("no INBOX for account " + account.Id);
        }

        if (!await locks.TryAcquireAsync(inbox.Id, sessionId, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            // The mailbox first, then its messages: anything expunged after this read has a higher mod-sequence.
            inbox = await mail.GetMailboxByIdAsync(inbox.Id, cancellationToken).ConfigureAwait(false) ?? inbox;
            var records = await mail.ListMessagesAsync(inbox.Id, cancellationToken).ConfigureAwait(false);
            var messages = new List<Pop3Message>(records.Count);
            List<(long Uid, long CrlfSize)> measured = [];
            foreach (var record in records)
            {
                var uniqueId = string.Create(CultureInfo.InvariantCulture, $"{inbox.UidValidity}.{record.Uid}");
                var size = record.CrlfSize;
                if (size is null && await mail.ReadMessageContentAsync(inbox.Id, record.Uid, cancellationToken).ConfigureAwait(false) is { } content)
                {
                    // Stored before the store kept this size: measured once, and kept for the next login.
                    size = CrlfLineEnds.Size(content);
                    measured.Add((record.Uid, size.Value));
                }

                messages.Add(new Pop3Message(messages.Count + 1, record, uniqueId, size ?? record.Size));
            }

            if (measured.Count > 0)
            {
                await mail.SaveCrlfSizesAsync(inbox.Id, measured, cancellationToken).ConfigureAwait(false);
            }

            return new Pop3Maildrop(mail, account, inbox, messages);
        }
        catch
        {
            await locks.ReleaseAsync(inbox.Id, sessionId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public Pop3Lookup Find(long number, out Pop3Message? message)
    {
        message = number >= 1 && number <= _messages.Count ? _messages[(int)(number - 1)] : null;
        if (message is null)
        {
            return Pop3Lookup.NoSuchMessage;
        }

        return message.Deleted ? Pop3Lookup.AlreadyDeleted : Pop3Lookup.Found;
    }

    /// <summary>RSET: unmark every message.</summary>
    public void Reset()
    {
        foreach (var message in _messages)
        {
            message.Deleted = false;
        }
    }

    /// <summary>The message's content, or null when it has been expunged (by IMAP, say) since the snapshot.</summary>
    public async Task<Stream?> OpenContentAsync(Pop3Message message, CancellationToken cancellationToken) =>
        await _mail.ReadMessageContentAsync(Inbox.Id, message.Record.Uid, cancellationToken).ConfigureAwait(false) is { } content
            ? new MemoryStream(content, writable: false)
            : null;

    /// <summary>The UPDATE state: removes the messages marked deleted, all in one transaction (RFC 1939 §6).</summary>
    public async Task<int> CommitAsync(CancellationToken cancellationToken)
    {
        var uids = _messages.Where(m => m.Deleted).Select(m => m.Record.Uid).ToList();
        if (uids.Count == 0)
        {
            return 0;
        }

        var removed = await _mail.ExpungeAsync(Inbox.Id, uids, onlyDeleted: false, cancellationToken).ConfigureAwait(false);
        return removed.Count;
    }
}
