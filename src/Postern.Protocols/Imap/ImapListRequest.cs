using System.Text;

namespace Postern.Protocols.Imap;

[Flags]
public enum ImapListSelectOptions
{
    None = 0,
    Subscribed = 1,
    Remote = 2,
    RecursiveMatch = 4,
    SpecialUse = 8,
}

[Flags]
public enum ImapListReturnOptions
{
    None = 0,
    Subscribed = 1,
    Children = 2,
    SpecialUse = 4,
    Status = 8,
}

/// <summary>A parsed LIST (RFC 3501, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154) or LSUB.</summary>
/// <param name="Reference">The reference name, decoded.</param>
/// <param name="Patterns">The mailbox patterns, decoded; "*" and "%" are wildcards.</param>
/// <param name="IsExtended">Selection or return options were given, or several patterns (RFC 5258 §3: extended LIST).</param>
public sealed record ImapListRequest(
    string Reference,
    IReadOnlyList<string> Patterns,
    ImapListSelectOptions Select,
    ImapListReturnOptions Return,
    ImapStatusItems StatusItems,
    bool IsExtended)
{
    /// <remarks>
    /// <code>
    /// list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
    /// list-select-opts = "(" [list-select-opt *(SP list-select-opt)] ")"
    /// mbox-or-pat = list-mailbox / patterns ; patterns = "(" list-mailbox *(SP list-mailbox) ")"
    /// list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
    /// return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / "STATUS" SP "(" status-att *(SP status-att) ")"
    /// </code>
    /// RFC 5258 §3.1: RECURSIVEMATCH alone is an error; REMOTE is accepted and means nothing here.
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, bool utf8Enabled, out ImapListRequest request, out string error)
    {
        request = null!;
        var select = ImapListSelectOptions.None;
        var extended = false;
        if (args.Peek() is { IsList: true })
        {
            extended = true;
            args.TryReadList(out var options);
            foreach (var option in options)
            {
                var value = option.IsAtomText("SUBSCRIBED") ? ImapListSelectOptions.Subscribed
                    : option.IsAtomText("REMOTE") ? ImapListSelectOptions.Remote
                    : option.IsAtomText("RECURSIVEMATCH") ? ImapListSelectOptions.RecursiveMatch
                    : option.IsAtomText("SPECIAL-USE") ? ImapListSelectOptions.SpecialUse
                    : ImapListSelectOptions.None;
                if (value == ImapListSelectOptions.None)
                {
                    error = "Unknown LIST selection option";
                    return false;
                }

                select |= value;
            }

            if ((select & ImapListSelectOptions.RecursiveMatch) != 0 && (select & ~(ImapListSelectOptions.RecursiveMatch | ImapListSelectOptions.Remote)) == 0)
            {
                error = "RECURSIVEMATCH needs another selection option";
                return false;
            }
        }

        if (!TryReadName(args, utf8Enabled, out var reference))
        {
            error = "Invalid reference";
            return false;
        }

        var patterns = new List<string>();
        if (args.Peek() is { IsList: true })
        {
            extended = true;
            args.TryReadList(out var list);
            var inner = new ImapArgumentReader(list);
            while (!inner.AtEnd)
            {
                if (!TryReadName(inner, utf8Enabled, out var pattern))
                {
                    error = "Invalid mailbox pattern";
                    return false;
                }

                patterns.Add(pattern);
            }

            if (patterns.Count == 0)
            {
                error = "Empty pattern list";
                return false;
            }
        }
        else if (TryReadName(args, utf8Enabled, out var pattern))
        {
            patterns.Add(pattern);
        }
        else
        {
            error = "Invalid mailbox pattern";
            return false;
        }

        var returns = ImapListReturnOptions.None;
        var statusItems = ImapStatusItems.None;
        if (args.TryReadKeyword("RETURN"))
        {
            extended = true;
            if (!args.TryReadList(out var options))
            {
                error = "RETURN needs a list";
                return false;
            }

            var reader = new ImapArgumentReader(options);
            while (!reader.AtEnd)
            {
                if (reader.TryReadKeyword("SUBSCRIBED"))
                {
                    returns |= ImapListReturnOptions.Subscribed;
                }
                else if (reader.TryReadKeyword("CHILDREN"))
                {
                    returns |= ImapListReturnOptions.Children;
                }
                else if (reader.TryReadKeyword("SPECIAL-USE"))
                {
                    returns |= ImapListReturnOptions.SpecialUse;
                }
                else if (reader.TryReadKeyword("STATUS") && reader.TryReadList(out var items) && ImapStatusRequest.TryParseItems(items, out var parsed))
                {
                    returns |= ImapListReturnOptions.Status;
                    statusItems |= parsed;
                }
                else
                {
                    error = "Invalid LIST return option";
                    return false;
                }
            }
        }

        if (!args.AtEnd)
        {
            error = "Unexpected LIST arguments";
            return false;
        }

        request = new ImapListRequest(reference, patterns, select, returns, statusItems, extended);
        error = string.Empty;
        return true;
    }

    /// <summary>LSUB reference pattern (RFC 3501 §6.3.9).</summary>
    public static bool TryParseLsub(ImapArgumentReader args, bool utf8Enabled, out ImapListRequest request, out string error)
    {
        request = null!;
        if (!TryReadName(args, utf8Enabled, out var reference) || !TryReadName(args, utf8Enabled, out var pattern) || !args.AtEnd)
        {
            error = "LSUB needs a reference and a pattern";
            return false;
        }

        request = new ImapListRequest(reference, [pattern], ImapListSelectOptions.Subscribed, ImapListReturnOptions.None, ImapStatusItems.None, false);
        error = string.Empty;
        return true;
    }

    // list-mailbox = 1*list-char / string; the empty string is allowed for the reference and the pattern.
    private static bool TryReadName(ImapArgumentReader args, bool utf8Enabled, out string name)
    {
        name = string.Empty;
        var token = args.Peek();
        if (token is null || token.IsList || !args.TryReadAStringBytes(out var bytes))
        {
            return false;
        }

        if (bytes.IsEmpty)
        {
            return true;
        }

        var text = Encoding.UTF8.GetString(bytes.Span);
        if (utf8Enabled || !Ascii.IsValid(bytes.Span))
        {
            name = text;
            return true;
        }

        name = ImapMailboxName.DecodeModifiedUtf7(text);
        return true;
    }
}

/// <summary>LIST pattern matching (RFC 3501 §6.3.8): "*" matches anything, "%" anything but the hierarchy delimiter.</summary>
public static class ImapMailboxPattern
{
    /// <summary>
    /// The reference and pattern combined the usual way: the pattern is appended to the reference, unless the reference
    /// is empty.
    /// </summary>
    public static string Combine(string reference, string pattern, char delimiter)
    {
        if (reference.Length == 0)
        {
            return pattern;
        }

        if (pattern.Length > 0 && pattern[0] == delimiter)
        {
            return reference.TrimEnd(delimiter) + pattern;
        }

        return reference + pattern;
    }

    /// <summary>
    /// Dynamic programming over (pattern, name) positions: linear memory, O(n·m) time, so a pattern like "*a*a*a*b"
    /// cannot make matching exponential. "INBOX" matches case-insensitively.
    /// </summary>
    public static bool IsMatch(string pattern, string name, char delimiter)
    {
        if (name.StartsWith(ImapMailboxName.Inbox, StringComparison.OrdinalIgnoreCase) && pattern.StartsWith(ImapMailboxName.Inbox, StringComparison.OrdinalIgnoreCase) &&
            (name.Length == 5 || name[5] == delimiter))
        {
            pattern = ImapMailboxName.Inbox + pattern[5..];
            name = ImapMailboxName.Inbox + name[5..];
        }

        var previous = new bool[name.Length + 1];
        var current = new bool[name.Length + 1];
        previous[0] = true;
        foreach (var p in pattern)
        {
            current[0] = previous[0] && p is '*' or '%';
            for (var j = 1; j <= name.Length; j++)
            {
                var c = name[j - 1];
                current[j] = p switch
                {
                    '*' => previous[j] || current[j - 1],
                    '%' => previous[j] || (current[j - 1] && c != delimiter),
                    _ => previous[j - 1] && p == c,
                };
            }

            (previous, current) = (current, previous);
        }

        return previous[name.Length];
    }
}
