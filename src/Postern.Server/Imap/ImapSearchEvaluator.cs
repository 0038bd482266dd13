using MimeKit;
using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>
/// Evaluates a parsed SEARCH expression against the selected mailbox. Flags, sizes, dates and sets come from the
/// message records; header and text criteria load the message and use MimeKit (decoded values, RFC 3501 §6.4.4:
/// case-insensitive substring match).
/// </summary>
internal sealed class ImapSearchEvaluator(ImapSession session, ImapSelectedMailbox mailbox)
{
    public async Task<List<(int Sequence, MessageRecord Message)>> EvaluateAsync(ImapSearchKey key, CancellationToken cancellationToken)
    {
        var needsContent = NeedsContent(key);
        var matches = new List<(int, MessageRecord)>();
        var messages = mailbox.Messages;
        var now = session.Context.Time.GetUtcNow();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            // Content expunged by another session since the last sync leaves its header and text keys unknown: the
            // message still matches by what the view has (OR of a sequence set, flags), never by what it had.
            var view = needsContent ? await LoadAsync(message, cancellationToken) : null;
            if (Matches(key, i + 1, message, view, now) == true)
            {
                matches.Add((i + 1, message));
            }
        }

        return matches;
    }

    // Each message is parsed once and dropped after its test, so a text search holds one message at a time.
    private async Task<ImapMessageView?> LoadAsync(MessageRecord message, CancellationToken cancellationToken) =>
        await session.Mail.ReadMessageContentAsync(mailbox.Mailbox.Id, message.Uid, cancellationToken) is { } content ? ImapMessageView.Parse(content) : null;

    internal static bool NeedsContent(ImapSearchKey key) => key switch
    {
        ImapSearchHeader or ImapSearchText => true,
        ImapSearchDate date => date.SentDate,
        ImapSearchAnd and => and.Keys.Any(NeedsContent),
        ImapSearchOr or => NeedsContent(or.Left) || NeedsContent(or.Right),
        ImapSearchNot not => NeedsContent(not.Key),
        _ => false,
    };

    /// <summary>True, false, or null when it depends on content that is gone (three-valued, so NOT of unknown stays unknown).</summary>
    private bool? Matches(ImapSearchKey key, int sequence, MessageRecord message, ImapMessageView? view, DateTimeOffset now)
    {
        switch (key)
        {
            case ImapSearchAll:
                return true;
            case ImapSearchAnd and:
                bool? all = true;
                foreach (var k in and.Keys)
                {
                    var result = Matches(k, sequence, message, view, now);
                    if (result == false)
                    {
                        return false;
                    }

                    all = result is null ? null : all;
                }

                return all;
            case ImapSearchOr or:
                var left = Matches(or.Left, sequence, message, view, now);
                if (left == true)
                {
                    return true;
                }

                var right = Matches(or.Right, sequence, message, view, now);
                return right == true ? true : left is null || right is null ? null : false;
            case ImapSearchNot not:
                return !Matches(not.Key, sequence, message, view, now);
            case ImapSearchFlagKey flag:
                return (flag.Flag == ImapSearchFlag.Recent ? mailbox.IsRecent(message.Uid) : HasFlag(message, flag.Flag)) == flag.IsSet;
            case ImapSearchKeyword keyword:
                return message.Keywords.Contains(keyword.Keyword, StringComparer.OrdinalIgnoreCase) == keyword.IsSet;
            case ImapSearchNew:
                // RFC 3501 §6.4.4: NEW is RECENT UNSEEN; OLD is NOT RECENT.
                return mailbox.IsRecent(message.Uid) && !message.Flags.HasFlag(MessageFlags.Seen);
            case ImapSearchOld:
                return !mailbox.IsRecent(message.Uid);
            case ImapSearchSize size:
                return size.Larger ? (ulong)message.Size > size.Size : (ulong)message.Size < size.Size;
            case ImapSearchSequence sequenceKey:
                if (sequenceKey.Set.IsSavedResult)
                {
                    return session.SavedSearch.Contains(message.Uid);
                }

                return sequenceKey.Uid
                    ? sequenceKey.Set.Contains((uint)message.Uid, mailbox.LargestUid)
                    : sequenceKey.Set.Contains((uint)sequence, (uint)mailbox.Messages.Count);
            case ImapSearchModSeq modseq:
                return (ulong)message.ModSeq >= modseq.ModSeq;
            case ImapSearchAge age:
                var limit = now.AddSeconds(-age.Seconds);
                return age.Older ? message.InternalDate <= limit : message.InternalDate >= limit;

            // RFC 8474 §6: Postern keeps no thread ids (THREADID is NIL), so THREADID matches nothing.
            // RFC 8514 §4: by the day of the save date, as BEFORE/ON/SINCE are by the internal date's.
            case ImapSearchSaveDate saved:
                if (message.SaveDate is not { } when)
                {
                    return false;
                }

                var savedDay = DateOnly.FromDateTime(when.UtcDateTime);
                return saved.Comparison switch
                {
                    ImapSearchDateComparison.Before => savedDay < saved.Date,
                    ImapSearchDateComparison.On => savedDay == saved.Date,
                    _ => savedDay >= saved.Date,
                };
            case ImapSearchSaveDateSupported:
                return true;
            case ImapSearchObjectId objectId:
                return !objectId.Thread && objectId.Id == ImapObjectIds.ForEmail(message.BlobId);
            case ImapSearchDate { SentDate: true } when view is null:
            case ImapSearchHeader or ImapSearchText when view is null:
                return null;
            case ImapSearchDate date:
                DateOnly day;
                if (date.SentDate)
                {
                    // RFC 3501: the Date: header, disregarding time and timezone. One that cannot be read counts as
                    // missing: MimeMessage.Date would give 1-Jan-0001, which every SENTBEFORE matches.
                    if (view!.Message.Headers[HeaderId.Date] is not { } header || !MimeKit.Utils.DateUtils.TryParse(header, out var sent))
                    {
                        return false;
                    }

                    day = DateOnly.FromDateTime(sent.DateTime);
                }
                else
                {
                    day = DateOnly.FromDateTime(message.InternalDate.UtcDateTime);
                }

                return date.Comparison switch
                {
                    ImapSearchDateComparison.Before => day < date.Date,
                    ImapSearchDateComparison.On => day == date.Date,
                    _ => day >= date.Date,
                };
            case ImapSearchHeader header:
                return HeaderContains(AllHeaders(view!.Message), header.Field, header.Value);
            case ImapSearchText text:
                return (text.IncludeHeader && AllHeaders(view!.Message).Any(h => Contains(h.Value, text.Value))) || BodyContains(view!.Message, text.Value, text.IncludeHeader);
            default:
                return false;
        }
    }

    private static bool HasFlag(MessageRecord message, ImapSearchFlag flag) => flag switch
    {
        ImapSearchFlag.Answered => message.Flags.HasFlag(MessageFlags.Answered),
        ImapSearchFlag.Deleted => message.Flags.HasFlag(MessageFlags.Deleted),
        ImapSearchFlag.Draft => message.Flags.HasFlag(MessageFlags.Draft),
        ImapSearchFlag.Flagged => message.Flags.HasFlag(MessageFlags.Flagged),
        ImapSearchFlag.Seen => message.Flags.HasFlag(MessageFlags.Seen),
        _ => false,
    };

    /// <summary>
    /// The message's whole header: MimeKit keeps the Content-* fields on the body entity, not in MimeMessage.Headers,
    /// and SEARCH HEADER Content-Type (or TEXT) must still see them.
    /// </summary>
    private static IEnumerable<Header> AllHeaders(MimeMessage message) => message.Body is { } body ? message.Headers.Concat(body.Headers) : message.Headers;

    private static bool HeaderContains(IEnumerable<Header> headers, string field, string value)
    {
        foreach (var header in headers)
        {
            // RFC 3501 §6.4.4: an empty string matches every message that has the field.
            if (header.Field.Equals(field, StringComparison.OrdinalIgnoreCase) &&
                (value.Length == 0 || Contains(header.Value, value) || (IsAddressField(header.Id) && AddressesContain(header.Value, value))))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsAddressField(HeaderId id) => id is HeaderId.From or HeaderId.To or HeaderId.Cc or HeaderId.Bcc or HeaderId.Sender or HeaderId.ReplyTo
        or HeaderId.ResentFrom or HeaderId.ResentTo or HeaderId.ResentCc or HeaderId.ResentBcc or HeaderId.ResentSender or HeaderId.ResentReplyTo;

    /// <summary>
    /// Address fields also match on the addresses they name, so "FROM user@domain" finds "&lt;user (comment)@ domain&gt;"
    /// as well (what users of Dovecot expect; the raw text is matched first).
    /// </summary>
    private static bool AddressesContain(string? text, string value)
    {
        if (text is null || !InternetAddressList.TryParse(text, out var addresses))
        {
            return false;
        }

        foreach (var mailbox in addresses.Mailboxes)
        {
            if (Contains(mailbox.Address, value) || Contains(mailbox.Name, value))
            {
                return true;
            }
        }

        return false;
    }

    private static bool BodyContains(MimeMessage message, string value, bool headers)
    {
        foreach (var part in message.BodyParts)
        {
            if (part is TextPart text && Contains(text.Text, value))
            {
                return true;
            }

            // A forwarded message (message/rfc822) is part of the body, but BodyParts does not enter it: its text is
            // searched too, and for TEXT its header (as Dovecot does). Nesting is bounded by MimeKit's parser depth.
            if (part is MessagePart { Message: { } inner } &&
                ((headers && AllHeaders(inner).Any(h => Contains(h.Value, value))) || BodyContains(inner, value, headers)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Contains(string? haystack, string needle) => haystack is not null && haystack.Contains(needle, StringComparison.OrdinalIgnoreCase);
}
