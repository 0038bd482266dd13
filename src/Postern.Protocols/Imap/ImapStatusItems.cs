namespace Postern.Protocols.Imap;

[Flags]
public enum ImapStatusItems
{
    None = 0,
    Messages = 1,
    Recent = 2,
    UidNext = 4,
    UidValidity = 8,
    Unseen = 16,
    Deleted = 32,
    Size = 64,
    HighestModSeq = 128,

    /// <summary>RFC 8474 §4.</summary>
    MailboxId = 256,

    /// <summary>RFC 7889 §3.</summary>
    AppendLimit = 512,
}

/// <summary>STATUS items: <c>status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"</c>.</summary>
public static class ImapStatusRequest
{
    /// <summary>The items in a canonical order for the response.</summary>
    public static IEnumerable<(ImapStatusItems Item, string Name)> Names =>
    [
        (ImapStatusItems.Messages, "MESSAGES"),
        (ImapStatusItems.Recent, "RECENT"),
        (ImapStatusItems.UidNext, "UIDNEXT"),
        (ImapStatusItems.UidValidity, "UIDVALIDITY"),
        (ImapStatusItems.Unseen, "UNSEEN"),
        (ImapStatusItems.Deleted, "DELETED"),
        (ImapStatusItems.Size, "SIZE"),
        (ImapStatusItems.HighestModSeq, "HIGHESTMODSEQ"),
        (ImapStatusItems.MailboxId, "MAILBOXID"),
        (ImapStatusItems.AppendLimit, "APPENDLIMIT"),
    ];

    public static bool TryParseItems(IReadOnlyList<ImapToken> tokens, out ImapStatusItems items)
    {
        items = ImapStatusItems.None;
        if (tokens.Count == 0)
        {
            return false;
        }

        foreach (var token in tokens)
        {
            var match = Names.FirstOrDefault(n => token.IsAtomText(n.Name));
            if (match.Item == ImapStatusItems.None)
            {
                return false;
            }

            items |= match.Item;
        }

        return true;
    }

    public static bool TryParse(ImapArgumentReader args, bool utf8Enabled, out string mailbox, out ImapStatusItems items, out string error)
    {
        items = ImapStatusItems.None;
        if (!args.TryReadMailbox(utf8Enabled, out mailbox))
        {
            error = "Invalid mailbox name";
            return false;
        }

        if (!args.TryReadList(out var list) || !TryParseItems(list, out items) || !args.AtEnd)
        {
            error = "Invalid status items";
            return false;
        }

        error = string.Empty;
        return true;
    }
}
