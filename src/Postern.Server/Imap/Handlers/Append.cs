using Postern.Protocols.Imap;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.3.11, MULTIAPPEND (RFC 3502), UIDPLUS APPENDUID (RFC 4315), BINARY literal8 (RFC 3516), CATENATE (RFC 4469), QUOTA.</summary>
internal sealed class Append : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapAppendRequest.TryParse(command.GetReader(), session.Utf8Enabled, out var request, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        if (await AppendAsync(session, command, request, replacing: null, cancellationToken) is { } appended)
        {
            ServerMetrics.Imap.Item(appended.Uids.Count);
            await session.OkAsync(command, "APPEND completed", cancellationToken, $"APPENDUID {appended.UidValidity} {ImapSequenceSet.Format(appended.Uids)}");
        }
    }

    /// <summary>
    /// Stores the messages of an APPEND (or the one of a REPLACE, RFC 8508, with the message it replaces) and gives their
    /// UIDs; null once the command has been answered otherwise (a NO, or a public folder's own reply).
    /// </summary>
    public static async Task<(long UidValidity, IReadOnlyList<uint> Uids)?> AppendAsync(ImapSession session, ImapCommand command, ImapAppendRequest request,
        MessageRecord? replacing, CancellationToken cancellationToken)
    {
        var account = session.Account!;
        var mailbox = await session.Mail.GetMailboxAsync(account.Id, ImapSession.NormalizeMailbox(request.Mailbox), cancellationToken);
        if (mailbox is null)
        {
            // RFC 3501 §6.3.11: TRYCREATE tells the client that CREATE would help.
            session.No(command, "No such mailbox", "TRYCREATE");
            return null;
        }

        if (await ImapCatenation.ResolveAsync(session, command, request, cancellationToken) is not { } resolved)
        {
            return null;
        }

        request = resolved;

        if (ImapPublicFolderStore.IsPublic(mailbox.Id))
        {
            // An article posted to a newsgroup is not a replacement of a draft.
            if (replacing is not null)
            {
                session.No(command, "REPLACE cannot post to a public folder", "CANNOT");
                return null;
            }

            await ImapPublicFolders.AppendAsync(session, command, mailbox, request, cancellationToken);
            return null;
        }

        var total = request.Messages.Sum(m => (long)m.Content.Length);
        if (request.Messages.Any(m => m.Content.Length > session.Config.Limits.MaxMessageSize))
        {
            session.No(command, "Message too large", "TOOBIG");
            return null;
        }

        // A replaced message of the user's own frees its size: saving a draft again at the limit is not over quota.
        var freed = replacing is not null && !ImapPublicFolderStore.IsPublic(replacing.MailboxId) ? replacing.Size : 0;
        if (await session.QuotaBytesAsync(cancellationToken) is > 0 and var quota && await session.Mail.GetAccountUsageAsync(account.Id, cancellationToken) - freed + total > quota)
        {
            session.No(command, "Quota exceeded", "OVERQUOTA");
            return null;
        }

        if (request.Messages.Any(m => ImapDefaults.HasOverlongKeyword(session.Config, m.Flags.Keywords)))
        {
            session.No(command, "Keyword too long", "LIMIT");
            return null;
        }

        if (await session.ExceedsKeywordLimitAsync(mailbox, request.Messages.SelectMany(m => m.Flags.Keywords), cancellationToken))
        {
            session.No(command, "Too many keywords in this mailbox", "LIMIT");
            return null;
        }

        if (request.Messages.Any(m => m.Content.IsEmpty))
        {
            session.No(command, "Empty message", "CANNOT");
            return null;
        }

        var contents = request.Messages.Select(m => WithoutNul(m.Content)).ToList();
        if (contents.Any(c => c is null))
        {
            session.No(command, "NUL octets are allowed only in binary body parts", "CANNOT");
            return null;
        }

        // RFC 3502 §6: all messages of a MULTIAPPEND are appended, or none.
        var now = session.Context.Time.GetUtcNow();
        var result = await session.Mail.AppendAllAsync(mailbox.Id,
            [.. request.Messages.Select((m, i) => new NewMessage(contents[i]!.Value, (MessageFlags)m.Flags.System, m.Flags.Keywords, m.InternalDate ?? now))], cancellationToken);
        if (!result.IsOk)
        {
            session.No(command, result.Message ?? "Append failed", result.Status == StoreStatus.OverQuota ? "OVERQUOTA" : "CANNOT");
            return null;
        }

        var uids = result.Value!.Select(r => (uint)r.Uid).ToList();
        var uidValidity = result.Value!.Count > 0 ? result.Value[^1].UidValidity : mailbox.UidValidity;

        if (session.Selected?.Mailbox.Id == mailbox.Id)
        {
            session.Selected.MarkDirty();
        }

        return (uidValidity, uids);
    }


    /// <summary>
    /// A message appended as literal8 (RFC 3516 §4.2) may carry NUL octets in binary parts, which no IMAP string can
    /// return (RFC 3501 §4.3: CHAR8 excludes NUL). Such parts are stored base64-encoded, as Dovecot does: BODY[] is then
    /// valid IMAP and BINARY[] still returns the original octets. Null when NUL octets remain anywhere else (a header,
    /// or content MimeKit cannot read as a message): no FETCH could return them.
    /// </summary>
    private static ReadOnlyMemory<byte>? WithoutNul(ReadOnlyMemory<byte> content)
    {
        if (!content.Span.Contains((byte)0))
        {
            return content;
        }

        MimeKit.MimeMessage message;
        using (var input = new MemoryStream(content.ToArray(), writable: false))
        {
            try
            {
                message = MimeKit.MimeMessage.Load(input);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        var changed = false;
        foreach (var part in message.BodyParts.OfType<MimeKit.MimePart>())
        {
            if (part.ContentTransferEncoding is MimeKit.ContentEncoding.Binary or MimeKit.ContentEncoding.EightBit or MimeKit.ContentEncoding.SevenBit or MimeKit.ContentEncoding.Default &&
                HoldsNul(part))
            {
                part.ContentTransferEncoding = MimeKit.ContentEncoding.Base64;
                changed = true;
            }
        }

        if (!changed)
        {
            return null;
        }

        using var output = new MemoryStream();
        message.WriteTo(new MimeKit.FormatOptions { NewLineFormat = MimeKit.NewLineFormat.Dos }, output);
        return output.GetBuffer().AsSpan(0, (int)output.Length).Contains((byte)0) ? null : output.ToArray();
    }

    private static bool HoldsNul(MimeKit.MimePart part)
    {
        using var raw = new MemoryStream();
        part.Content?.WriteTo(raw);
        return raw.GetBuffer().AsSpan(0, (int)raw.Length).Contains((byte)0);
    }
}
