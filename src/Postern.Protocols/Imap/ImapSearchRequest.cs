using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>A node of a SEARCH expression. The top level is an implicit AND of its keys.</summary>
public abstract record ImapSearchKey;

public sealed record ImapSearchAll : ImapSearchKey
{
    public static ImapSearchAll Instance { get; } = new();
}

public sealed record ImapSearchAnd(IReadOnlyList<ImapSearchKey> Keys) : ImapSearchKey;

public sealed record ImapSearchOr(ImapSearchKey Left, ImapSearchKey Right) : ImapSearchKey;

public sealed record ImapSearchNot(ImapSearchKey Key) : ImapSearchKey;

public enum ImapSearchFlag
{
    Answered,
    Deleted,
    Draft,
    Flagged,
    Seen,
    Recent,
}

/// <summary>ANSWERED / UNANSWERED etc.: the flag is set (<paramref name="IsSet"/>) or not.</summary>
public sealed record ImapSearchFlagKey(ImapSearchFlag Flag, bool IsSet) : ImapSearchKey;

public sealed record ImapSearchKeyword(string Keyword, bool IsSet) : ImapSearchKey;

/// <summary>NEW = RECENT UNSEEN; OLD = NOT RECENT (RFC 3501 §6.4.4).</summary>
public sealed record ImapSearchNew : ImapSearchKey;

public sealed record ImapSearchOld : ImapSearchKey;

/// <summary>FROM / TO / CC / BCC / SUBJECT / HEADER field: substring of the header (an empty value matches any message that has it).</summary>
public sealed record ImapSearchHeader(string Field, string Value) : ImapSearchKey;

/// <summary>BODY (text of the body) or TEXT (header and body).</summary>
public sealed record ImapSearchText(bool IncludeHeader, string Value) : ImapSearchKey;

public enum ImapSearchDateComparison
{
    Before,
    On,
    Since,
}

/// <summary>BEFORE/ON/SINCE (internal date) or SENTBEFORE/SENTON/SENTSINCE (Date: header), day granularity.</summary>
public sealed record ImapSearchDate(bool SentDate, ImapSearchDateComparison Comparison, DateOnly Date) : ImapSearchKey;

public sealed record ImapSearchSize(bool Larger, ulong Size) : ImapSearchKey;

/// <summary>A bare sequence set (message numbers) or UID set.</summary>
public sealed record ImapSearchSequence(ImapSequenceSet Set, bool Uid) : ImapSearchKey;

/// <summary>MODSEQ [entry-name entry-type] value (RFC 7162 §3.1.5).</summary>
public sealed record ImapSearchModSeq(ulong ModSeq, string? EntryName, string? EntryType) : ImapSearchKey;

/// <summary>OLDER / YOUNGER interval in seconds (RFC 5032).</summary>
public sealed record ImapSearchAge(bool Older, uint Seconds) : ImapSearchKey;

/// <summary>SAVEDBEFORE / SAVEDON / SAVEDSINCE date (RFC 8514 §4), on the day the message was saved into its mailbox.</summary>
public sealed record ImapSearchSaveDate(ImapSearchDateComparison Comparison, DateOnly Date) : ImapSearchKey;

/// <summary>SAVEDATESUPPORTED (RFC 8514 §4): every message, in a mailbox that keeps save dates.</summary>
public sealed record ImapSearchSaveDateSupported : ImapSearchKey;

/// <summary>EMAILID / THREADID objectid (RFC 8474 §6).</summary>
public sealed record ImapSearchObjectId(bool Thread, string Id) : ImapSearchKey;

[Flags]
public enum ImapSearchReturnOptions
{
    None = 0,
    Min = 1,
    Max = 2,
    All = 4,
    Count = 8,
    Save = 16,
}

/// <summary>A parsed SEARCH / UID SEARCH.</summary>
/// <param name="Return">Null for a plain SEARCH (untagged SEARCH reply); otherwise ESEARCH (RFC 4731) with these options
/// — "RETURN ()" means ALL.</param>
public sealed record ImapSearchRequest(ImapSearchKey Key, string? Charset, ImapSearchReturnOptions? Return)
{
    /// <summary>Nesting of NOT/OR/parentheses allowed; keys chain without parentheses, so this is separate from the reader's limit.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>
    /// Parses the arguments of SEARCH.
    /// </summary>
    /// <remarks>
    /// <code>
    /// search = "SEARCH" [search-return-opts] SP ["CHARSET" SP charset SP] search-key *(SP search-key)
    /// search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"
    /// search-return-opt = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"
    /// search-key = "ALL" / "ANSWERED" / "BCC" SP astring / "BEFORE" SP date / "BODY" SP astring / "CC" SP astring / "DELETED" /
    ///   "FLAGGED" / "FROM" SP astring / "KEYWORD" SP flag-keyword / "NEW" / "OLD" / "ON" SP date / "RECENT" / "SEEN" /
    ///   "SINCE" SP date / "SUBJECT" SP astring / "TEXT" SP astring / "TO" SP astring / "UNANSWERED" / "UNDELETED" /
    ///   "UNFLAGGED" / "UNKEYWORD" SP flag-keyword / "UNSEEN" / "DRAFT" / "HEADER" SP header-fld-name SP astring /
    ///   "LARGER" SP number64 / "NOT" SP search-key / "OR" SP search-key SP search-key / "SENTBEFORE" SP date /
    ///   "SENTON" SP date / "SENTSINCE" SP date / "SMALLER" SP number64 / "UID" SP sequence-set / "UNDRAFT" /
    ///   sequence-set / "(" search-key *(SP search-key) ")" / "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer /
    ///   "OLDER" SP nz-number / "YOUNGER" SP nz-number
    /// </code>
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, out ImapSearchRequest request, out string error, int maxDepth = DefaultMaxDepth)
    {
        request = null!;
        if (!TryParseReturn(args, out var returnOptions, out error))
        {
            return false;
        }

        string? charset = null;
        if (args.TryReadKeyword("CHARSET"))
        {
            if (!args.TryReadAString(out var name))
            {
                error = "CHARSET needs a name";
                return false;
            }

            charset = name;
        }

        if (!TryParseKeys(args, out var key, out error, maxDepth))
        {
            return false;
        }

        request = new ImapSearchRequest(key, charset, returnOptions);
        return true;
    }

    /// <summary>An optional <c>RETURN (...)</c> of ESEARCH (RFC 4731 §3.1) or ESORT (RFC 5267 §3.2); null when absent.</summary>
    public static bool TryParseReturn(ImapArgumentReader args, out ImapSearchReturnOptions? returnOptions, out string error)
    {
        returnOptions = null;
        error = string.Empty;
        if (!args.TryReadKeyword("RETURN"))
        {
            return true;
        }

        if (!args.TryReadList(out var options))
        {
            error = "RETURN needs a list";
            return false;
        }

        var value = ImapSearchReturnOptions.None;
        foreach (var option in options)
        {
            value |= option.IsAtomText("MIN") ? ImapSearchReturnOptions.Min
                : option.IsAtomText("MAX") ? ImapSearchReturnOptions.Max
                : option.IsAtomText("ALL") ? ImapSearchReturnOptions.All
                : option.IsAtomText("COUNT") ? ImapSearchReturnOptions.Count
                : option.IsAtomText("SAVE") ? ImapSearchReturnOptions.Save
                : (ImapSearchReturnOptions)(-1);
            if (value < 0)
            {
                error = "Unknown search return option";
                return false;
            }
        }

        // RFC 4731 §3.1: an empty RETURN list means ALL.
        returnOptions = value == ImapSearchReturnOptions.None ? ImapSearchReturnOptions.All : value;
        return true;
    }

    /// <summary>The search keys up to the end of the arguments: <c>search-key *(SP search-key)</c>, an implicit AND.</summary>
    public static bool TryParseKeys(ImapArgumentReader args, out ImapSearchKey key, out string error, int maxDepth = DefaultMaxDepth)
    {
        key = ImapSearchAll.Instance;
        var parser = new Parser(maxDepth);
        var keys = new List<ImapSearchKey>();
        while (!args.AtEnd)
        {
            var next = parser.ParseKey(args, 0);
            if (next is null)
            {
                error = parser.Error;
                return false;
            }

            keys.Add(next);
        }

        if (keys.Count == 0)
        {
            error = "Missing search criteria";
            return false;
        }

        key = keys.Count == 1 ? keys[0] : new ImapSearchAnd(keys);
        error = string.Empty;
        return true;
    }

    /// <summary>The charsets every server must accept (RFC 9051 §6.4.4: US-ASCII and UTF-8).</summary>
    public static bool IsSupportedCharset(string? charset) =>
        charset is null || charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("US-ASCII", StringComparison.OrdinalIgnoreCase) ||
        charset.Equals("UTF8", StringComparison.OrdinalIgnoreCase);

    private sealed class Parser(int maxDepth)
    {
        public string Error { get; private set; } = "Invalid search key";

        public ImapSearchKey? ParseKey(ImapArgumentReader args, int depth)
        {
            if (depth > maxDepth)
            {
                Error = "Search expression too deeply nested";
                return null;
            }

            var token = args.Peek();
            if (token is null)
            {
                Error = "Missing search key";
                return null;
            }

            if (token.IsList)
            {
                args.Read();
                if (token.Children.Count == 0)
                {
                    Error = "Empty search sub-expression";
                    return null;
                }

                var inner = new ImapArgumentReader(token.Children);
                var keys = new List<ImapSearchKey>();
                while (!inner.AtEnd)
                {
                    var key = ParseKey(inner, depth + 1);
                    if (key is null)
                    {
                        return null;
                    }

                    keys.Add(key);
                }

                return keys.Count == 1 ? keys[0] : new ImapSearchAnd(keys);
            }

            if (!token.IsAtom && token.Kind != ImapTokenKind.Nil || token.HasSection)
            {
                Error = "Search key expected";
                return null;
            }

            // A bare sequence set (or "$").
            if (ImapSequenceSet.TryParse(token.Raw.Span, out var set))
            {
                args.Read();
                return new ImapSearchSequence(set, Uid: false);
            }

            args.Read();
            var name = Encoding.ASCII.GetString(token.Raw.Span).ToUpperInvariant();
            switch (name)
            {
                case "ALL":
                    return ImapSearchAll.Instance;
                case "ANSWERED":
                    return new ImapSearchFlagKey(ImapSearchFlag.Answered, true);
                case "UNANSWERED":
                    return new ImapSearchFlagKey(ImapSearchFlag.Answered, false);
                case "DELETED":
                    return new ImapSearchFlagKey(ImapSearchFlag.Deleted, true);
                case "UNDELETED":
                    return new ImapSearchFlagKey(ImapSearchFlag.Deleted, false);
                case "DRAFT":
                    return new ImapSearchFlagKey(ImapSearchFlag.Draft, true);
                case "UNDRAFT":
                    return new ImapSearchFlagKey(ImapSearchFlag.Draft, false);
                case "FLAGGED":
                    return new ImapSearchFlagKey(ImapSearchFlag.Flagged, true);
                case "UNFLAGGED":
                    return new ImapSearchFlagKey(ImapSearchFlag.Flagged, false);
                case "SEEN":
                    return new ImapSearchFlagKey(ImapSearchFlag.Seen, true);
                case "UNSEEN":
                    return new ImapSearchFlagKey(ImapSearchFlag.Seen, false);
                case "RECENT":
                    return new ImapSearchFlagKey(ImapSearchFlag.Recent, true);
                case "NEW":
                    return new ImapSearchNew();
                case "OLD":
                    return new ImapSearchOld();
                case "KEYWORD" or "UNKEYWORD":
                    if (!args.TryReadAtom(out var keyword) || !ImapGrammar.IsAtom(Encoding.ASCII.GetBytes(keyword)))
                    {
                        Error = name + " needs a flag keyword";
                        return null;
                    }

                    return new ImapSearchKeyword(keyword, name == "KEYWORD");
                case "FROM" or "TO" or "CC" or "BCC" or "SUBJECT":
                    return ReadString(args, name, out var value) ? new ImapSearchHeader(name, value) : null;
                case "HEADER":
                    if (!ReadString(args, name, out var field) || !ReadString(args, name, out var headerValue))
                    {
                        return null;
                    }

                    return new ImapSearchHeader(field.ToUpperInvariant(), headerValue);
                case "BODY":
                    return ReadString(args, name, out var body) ? new ImapSearchText(false, body) : null;
                case "TEXT":
                    return ReadString(args, name, out var text) ? new ImapSearchText(true, text) : null;
                case "BEFORE" or "ON" or "SINCE" or "SENTBEFORE" or "SENTON" or "SENTSINCE":
                    if (!args.TryReadDate(out var date))
                    {
                        Error = name + " needs a date";
                        return null;
                    }

                    var sent = name.StartsWith("SENT", StringComparison.Ordinal);
                    var comparison = name[(sent ? 4 : 0)..] switch
                    {
                        "BEFORE" => ImapSearchDateComparison.Before,
                        "ON" => ImapSearchDateComparison.On,
                        _ => ImapSearchDateComparison.Since,
                    };
                    return new ImapSearchDate(sent, comparison, date);
                case "SAVEDBEFORE" or "SAVEDON" or "SAVEDSINCE":
                    if (!args.TryReadDate(out var saved))
                    {
                        Error = name + " needs a date";
                        return null;
                    }

                    return new ImapSearchSaveDate(name switch
                    {
                        "SAVEDBEFORE" => ImapSearchDateComparison.Before,
                        "SAVEDON" => ImapSearchDateComparison.On,
                        _ => ImapSearchDateComparison.Since,
                    }, saved);
                case "SAVEDATESUPPORTED":
                    return new ImapSearchSaveDateSupported();
                case "LARGER" or "SMALLER":
                    if (!args.TryReadNumber64(out var size))
                    {
                        Error = name + " needs a number";
                        return null;
                    }

                    return new ImapSearchSize(name == "LARGER", size);
                case "UID":
                    if (!args.TryReadSequenceSet(out var uids))
                    {
                        Error = "UID needs a sequence set";
                        return null;
                    }

                    return new ImapSearchSequence(uids, Uid: true);
                case "NOT":
                    var negated = ParseKey(args, depth + 1);
                    return negated is null ? null : new ImapSearchNot(negated);
                case "OR":
                    var left = ParseKey(args, depth + 1);
                    if (left is null)
                    {
                        return null;
                    }

                    var right = ParseKey(args, depth + 1);
                    return right is null ? null : new ImapSearchOr(left, right);
                case "MODSEQ":
                    return ParseModSeq(args);
                case "OLDER" or "YOUNGER":
                    if (!args.TryReadNumber(out var seconds) || seconds == 0)
                    {
                        Error = name + " needs a positive number";
                        return null;
                    }

                    return new ImapSearchAge(name == "OLDER", seconds);
                case "EMAILID" or "THREADID":
                    if (!args.TryReadAtom(out var objectId) || !ImapObjectId.IsValid(objectId))
                    {
                        Error = name + " needs an object id";
                        return null;
                    }

                    return new ImapSearchObjectId(name == "THREADID", objectId);
                default:
                    Error = "Unknown search key " + name;
                    return null;
            }
        }

        private ImapSearchModSeq? ParseModSeq(ImapArgumentReader args)
        {
            // MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer; entry-name is a quoted "/flags/..." string.
            string? entryName = null;
            string? entryType = null;
            var next = args.Peek();
            if (next is not null && next.IsString)
            {
                args.TryReadString(out var entry);
                if (!args.TryReadAtom(out var type) || type.ToUpperInvariant() is not ("PRIV" or "SHARED" or "ALL"))
                {
                    Error = "MODSEQ entry needs a type (priv, shared, all)";
                    return null;
                }

                entryName = entry;
                entryType = type.ToLowerInvariant();
            }

            if (!args.TryReadNumber64(out var modseq))
            {
                Error = "MODSEQ needs a mod-sequence";
                return null;
            }

            return new ImapSearchModSeq(modseq, entryName, entryType);
        }

        private bool ReadString(ImapArgumentReader args, string name, out string value)
        {
            var token = args.Peek();
            if (token is null || token.IsList || token.HasSection || !args.TryReadAString(out value))
            {
                value = string.Empty;
                Error = name + " needs a string";
                return false;
            }

            return true;
        }
    }
}
