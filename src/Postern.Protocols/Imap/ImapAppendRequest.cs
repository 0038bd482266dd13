namespace Postern.Protocols.Imap;

/// <summary>One message of an APPEND (several with MULTIAPPEND, RFC 3502).</summary>
/// <param name="Catenate">With CATENATE (RFC 4469), the parts the message is to be made of; <paramref name="Content"/> is then empty.</param>
public sealed record ImapAppendMessage(ImapFlagSet Flags, DateTimeOffset? InternalDate, ReadOnlyMemory<byte> Content, bool IsBinary, IReadOnlyList<ImapCatenatePart>? Catenate = null);

/// <summary>A part of a CATENATE: literal text, or a URL of (part of) a message the user can read.</summary>
public abstract record ImapCatenatePart;

public sealed record ImapCatenateText(ReadOnlyMemory<byte> Content, bool IsBinary) : ImapCatenatePart;

public sealed record ImapCatenateUrl(string Url) : ImapCatenatePart;

public sealed record ImapAppendRequest(string Mailbox, IReadOnlyList<ImapAppendMessage> Messages)
{
    /// <remarks>
    /// <code>
    /// append = "APPEND" SP mailbox 1*append-message                ; RFC 3502 MULTIAPPEND
    /// append-message = [SP flag-list] [SP date-time] SP append-data
    /// append-data = literal / literal8 / "UTF8" SP "(" literal8 ")" ; RFC 3516, RFC 6855
    ///             / "CATENATE" SP "(" cat-part *(SP cat-part) ")"    ; RFC 4469
    /// cat-part    = "TEXT" SP (literal / literal8) / "URL" SP astring
    /// </code>
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, bool utf8Enabled, out ImapAppendRequest request, out string error)
    {
        request = null!;
        if (!args.TryReadMailbox(utf8Enabled, out var mailbox))
        {
            error = "Invalid mailbox name";
            return false;
        }

        var messages = new List<ImapAppendMessage>();
        while (!args.AtEnd)
        {
            var flags = ImapFlagSet.Empty;
            if (args.Peek() is { IsList: true } && !args.TryReadFlagList(out flags))
            {
                error = "Invalid flag list";
                return false;
            }

            DateTimeOffset? date = null;
            if (args.Peek() is { Kind: ImapTokenKind.QuotedString })
            {
                if (!args.TryReadDateTime(out var parsed))
                {
                    error = "Invalid date-time";
                    return false;
                }

                date = parsed;
            }

            if (args.TryReadKeyword("CATENATE"))
            {
                if (!args.TryReadList(out var list) || !TryParseCatenate(list, out var parts))
                {
                    error = "CATENATE needs a list of TEXT literals and URLs";
                    return false;
                }

                messages.Add(new ImapAppendMessage(flags, date, ReadOnlyMemory<byte>.Empty, parts.Any(p => p is ImapCatenateText { IsBinary: true }), parts));
                continue;
            }

            ImapToken? literal;
            if (args.TryReadKeyword("UTF8"))
            {
                // RFC 6855 §4: UTF8 (~{n}...) carries a message with UTF-8 headers.
                if (!args.TryReadList(out var inner) || inner.Count != 1 || inner[0].Kind != ImapTokenKind.Literal || !inner[0].IsBinary)
                {
                    error = "UTF8 needs a parenthesised literal8";
                    return false;
                }

                literal = inner[0];
            }
            else
            {
                literal = args.Read();
            }

            if (literal is null || literal.Kind != ImapTokenKind.Literal)
            {
                error = "APPEND needs a literal";
                return false;
            }

            messages.Add(new ImapAppendMessage(flags, date, literal.Value, literal.IsBinary));
        }

        if (messages.Count == 0)
        {
            error = "APPEND needs a message";
            return false;
        }

        request = new ImapAppendRequest(mailbox, messages);
        error = string.Empty;
        return true;
    }

    private static bool TryParseCatenate(IReadOnlyList<ImapToken> tokens, out List<ImapCatenatePart> parts)
    {
        parts = [];
        var reader = new ImapArgumentReader(tokens);
        while (!reader.AtEnd)
        {
            if (reader.TryReadKeyword("TEXT"))
            {
                if (reader.Read() is not { Kind: ImapTokenKind.Literal } literal)
                {
                    return false;
                }

                parts.Add(new ImapCatenateText(literal.Value, literal.IsBinary));
            }
            else if (reader.TryReadKeyword("URL"))
            {
                if (!reader.TryReadAString(out var url))
                {
                    return false;
                }

                parts.Add(new ImapCatenateUrl(url));
            }
            else
            {
                return false;
            }
        }

        return parts.Count > 0;
    }
}
