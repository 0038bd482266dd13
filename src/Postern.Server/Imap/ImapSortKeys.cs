using MimeKit;
using MimeKit.Utils;
using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>What SORT (RFC 5256 §3, RFC 5957) and THREAD compare of one message, read from its header with MimeKit.</summary>
internal sealed class ImapSortKeys
{
    private ImapSortKeys(int sequence, MessageRecord message)
    {
        Sequence = sequence;
        Message = message;
        SentDate = message.InternalDate;
    }

    public int Sequence { get; }

    public MessageRecord Message { get; }

    /// <summary>The Date header, or the internal date when it is missing or unreadable (RFC 5256 §2.2).</summary>
    public DateTimeOffset SentDate { get; private set; }

    public string SubjectKey { get; private set; } = string.Empty;

    public bool IsReplyOrForward { get; private set; }

    public string From { get; private set; } = string.Empty;

    public string To { get; private set; } = string.Empty;

    public string Cc { get; private set; } = string.Empty;

    public string DisplayFrom { get; private set; } = string.Empty;

    public string DisplayTo { get; private set; } = string.Empty;

    public string? MessageId { get; private set; }

    public IReadOnlyList<string> References { get; private set; } = [];

    /// <summary>
    /// The keys of each matched message, in mailbox order. The header is read only when a criterion needs it.
    /// </summary>
    public static async Task<List<ImapSortKeys>> LoadAsync(ImapSession session, ImapSelectedMailbox mailbox, IReadOnlyList<(int Sequence, MessageRecord Message)> matches,
        bool needsHeader, CancellationToken cancellationToken)
    {
        var keys = new List<ImapSortKeys>(matches.Count);
        foreach (var (sequence, message) in matches)
        {
            var entry = new ImapSortKeys(sequence, message);
            if (needsHeader)
            {
                // Content another session expunged since the last sync: the message stays, with empty header keys, as
                // the search that matched it keeps it.
                if (await session.Mail.ReadMessageContentAsync(mailbox.Mailbox.Id, message.Uid, cancellationToken) is { } content)
                {
                    entry.ReadHeader(content);
                }
            }

            keys.Add(entry);
        }

        return keys;
    }

    public static bool NeedsHeader(IEnumerable<ImapSortCriterion> criteria) => criteria.Any(c => c.Key is not (ImapSortKey.Arrival or ImapSortKey.Size));

    public static int Compare(ImapSortKeys a, ImapSortKeys b, IReadOnlyList<ImapSortCriterion> criteria)
    {
        foreach (var criterion in criteria)
        {
            var order = criterion.Key switch
            {
                ImapSortKey.Arrival => a.Message.InternalDate.CompareTo(b.Message.InternalDate),
                ImapSortKey.Date => a.SentDate.CompareTo(b.SentDate),
                ImapSortKey.Size => a.Message.Size.CompareTo(b.Message.Size),
                ImapSortKey.Subject => string.CompareOrdinal(a.SubjectKey, b.SubjectKey),
                ImapSortKey.From => string.CompareOrdinal(a.From, b.From),
                ImapSortKey.To => string.CompareOrdinal(a.To, b.To),
                ImapSortKey.Cc => string.CompareOrdinal(a.Cc, b.Cc),
                ImapSortKey.DisplayFrom => string.CompareOrdinal(a.DisplayFrom, b.DisplayFrom),
                _ => string.CompareOrdinal(a.DisplayTo, b.DisplayTo),
            };

            if (order != 0)
            {
                return criterion.Reverse ? -order : order;
            }
        }

        // RFC 5256 §3: messages that sort the same keep their mailbox order (REVERSE does not apply to it).
        return a.Sequence.CompareTo(b.Sequence);
    }

    public ImapThreadMessage ToThreadMessage(bool uid) =>
        new(uid ? (uint)Message.Uid : (uint)Sequence, Sequence, MessageId, References, SubjectKey, IsReplyOrForward, SentDate);

    private void ReadHeader(byte[] content)
    {
        HeaderList headers;
        using (var stream = new MemoryStream(content, writable: false))
        {
            try
            {
                headers = HeaderList.Load(stream);
            }
            catch (FormatException)
            {
                // No header block MimeKit can read: every header key stays empty.
                return;
            }
        }

        if (headers[HeaderId.Date] is { } date && DateUtils.TryParse(date, out var sent))
        {
            SentDate = sent;
        }

        SubjectKey = ImapBaseSubject.ComparisonKey(ImapBaseSubject.Extract(headers[HeaderId.Subject], out var isReplyOrForward));
        IsReplyOrForward = isReplyOrForward;

        var from = FirstAddress(headers, HeaderId.From);
        var to = FirstAddress(headers, HeaderId.To);
        From = AddressMailbox(from);
        To = AddressMailbox(to);
        Cc = AddressMailbox(FirstAddress(headers, HeaderId.Cc));
        DisplayFrom = DisplayName(from);
        DisplayTo = DisplayName(to);

        MessageId = headers[HeaderId.MessageId] is { } id ? MimeUtils.EnumerateReferences(id).FirstOrDefault() : null;
        var references = headers[HeaderId.References] is { } refs ? MimeUtils.EnumerateReferences(refs).ToList() : [];
        if (references.Count == 0 && headers[HeaderId.InReplyTo] is { } inReplyTo && MimeUtils.EnumerateReferences(inReplyTo).FirstOrDefault() is { } parent)
        {
            references.Add(parent);
        }

        References = references;
    }

    /// <summary>The first address of the field as ENVELOPE lists it: a mailbox, or the start of a group.</summary>
    private static InternetAddress? FirstAddress(HeaderList headers, HeaderId id)
    {
        var index = headers.IndexOf(id);
        if (index < 0)
        {
            return null;
        }

        var raw = headers[index].RawValue;
        return InternetAddressList.TryParse(ParserOptions.Default, raw, 0, raw.Length, out var addresses) && addresses.Count > 0 ? addresses[0] : null;
    }

    /// <summary>
    /// RFC 5256 §3: the addr-mailbox of the first address, compared with i;ascii-casemap. For a group that is its name,
    /// as in the group's first ENVELOPE address (RFC 3501 §7.4.2).
    /// </summary>
    private static string AddressMailbox(InternetAddress? address) => ImapBaseSubject.ComparisonKey(address switch
    {
        MailboxAddress mailbox => mailbox.LocalPart ?? string.Empty,
        GroupAddress group => group.Name ?? string.Empty,
        _ => string.Empty,
    });

    /// <summary>RFC 5957 §3: the display name of the first address (a group's name), or its addr-spec when it has none.</summary>
    private static string DisplayName(InternetAddress? address) => ImapBaseSubject.ComparisonKey(address switch
    {
        MailboxAddress mailbox => string.IsNullOrWhiteSpace(mailbox.Name) ? mailbox.Address ?? string.Empty : mailbox.Name.Trim(),
        GroupAddress group => group.Name ?? string.Empty,
        _ => string.Empty,
    });
}
