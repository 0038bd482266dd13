namespace Postern.Protocols.Imap;

/// <summary>A sort key of RFC 5256 §3, with DISPLAYFROM and DISPLAYTO of RFC 5957.</summary>
public enum ImapSortKey
{
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

public readonly record struct ImapSortCriterion(ImapSortKey Key, bool Reverse);

/// <summary>A parsed SORT / UID SORT (RFC 5256 §3), with the ESORT return options of RFC 5267 §3.2.</summary>
public sealed record ImapSortRequest(IReadOnlyList<ImapSortCriterion> Criteria, string Charset, ImapSearchKey Key, ImapSearchReturnOptions? Return)
{
    /// <summary>Parses the arguments of SORT.</summary>
    /// <remarks>
    /// <code>
    /// sort            = ["UID" SP] "SORT" [SP sort-return-opts] SP sort-criteria SP search-criteria
    /// sort-criteria   = "(" sort-criterion *(SP sort-criterion) ")"
    /// sort-criterion  = ["REVERSE" SP] sort-key
    /// sort-key        = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" / "SUBJECT" / "TO" / "DISPLAYFROM" / "DISPLAYTO"
    /// search-criteria = charset 1*(SP search-key)
    /// </code>
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, out ImapSortRequest request, out string error, int maxDepth = ImapSearchRequest.DefaultMaxDepth)
    {
        request = null!;
        if (!ImapSearchRequest.TryParseReturn(args, out var returnOptions, out error))
        {
            return false;
        }

        if (!args.TryReadList(out var items) || items.Count == 0)
        {
            error = "SORT needs a list of sort criteria";
            return false;
        }

        var criteria = new List<ImapSortCriterion>(items.Count);
        var reverse = false;
        foreach (var item in items)
        {
            if (item.IsAtomText("REVERSE") && !reverse)
            {
                reverse = true;
                continue;
            }

            ImapSortKey? key = item.IsAtomText("ARRIVAL") ? ImapSortKey.Arrival
                : item.IsAtomText("CC") ? ImapSortKey.Cc
                : item.IsAtomText("DATE") ? ImapSortKey.Date
                : item.IsAtomText("FROM") ? ImapSortKey.From
                : item.IsAtomText("SIZE") ? ImapSortKey.Size
                : item.IsAtomText("SUBJECT") ? ImapSortKey.Subject
                : item.IsAtomText("TO") ? ImapSortKey.To
                : item.IsAtomText("DISPLAYFROM") ? ImapSortKey.DisplayFrom
                : item.IsAtomText("DISPLAYTO") ? ImapSortKey.DisplayTo
                : null;
            if (key is null)
            {
                error = "Unknown sort criterion";
                return false;
            }

            criteria.Add(new ImapSortCriterion(key.Value, reverse));
            reverse = false;
        }

        if (reverse)
        {
            error = "REVERSE needs a sort key";
            return false;
        }

        if (!TryParseCriteria(args, out var charset, out var searchKey, out error, maxDepth))
        {
            return false;
        }

        request = new ImapSortRequest(criteria, charset, searchKey, returnOptions);
        return true;
    }

    /// <summary><c>search-criteria = charset 1*(SP search-key)</c>: unlike SEARCH, the charset is not optional.</summary>
    internal static bool TryParseCriteria(ImapArgumentReader args, out string charset, out ImapSearchKey key, out string error, int maxDepth)
    {
        key = ImapSearchAll.Instance;
        if (!args.TryReadAString(out charset))
        {
            error = "Missing charset";
            return false;
        }

        return ImapSearchRequest.TryParseKeys(args, out key, out error, maxDepth);
    }
}

public enum ImapThreadAlgorithm
{
    OrderedSubject,
    References,
}

/// <summary>A parsed THREAD / UID THREAD (RFC 5256 §3).</summary>
public sealed record ImapThreadRequest(ImapThreadAlgorithm Algorithm, string Charset, ImapSearchKey Key)
{
    /// <remarks>
    /// <code>
    /// thread     = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
    /// thread-alg = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext
    /// </code>
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, out ImapThreadRequest request, out string error, int maxDepth = ImapSearchRequest.DefaultMaxDepth)
    {
        request = null!;
        ImapThreadAlgorithm algorithm;
        if (args.TryReadKeyword("ORDEREDSUBJECT"))
        {
            algorithm = ImapThreadAlgorithm.OrderedSubject;
        }
        else if (args.TryReadKeyword("REFERENCES"))
        {
            algorithm = ImapThreadAlgorithm.References;
        }
        else
        {
            error = "Unknown threading algorithm";
            return false;
        }

        if (!ImapSortRequest.TryParseCriteria(args, out var charset, out var key, out error, maxDepth))
        {
            return false;
        }

        request = new ImapThreadRequest(algorithm, charset, key);
        return true;
    }
}
