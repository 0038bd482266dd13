namespace Postern.Protocols.Imap;

/// <summary>One message of an APPEND (several with MULTIAPPEND, RFC 3502).</summary>
public sealed record ImapAppendMessage(ImapFlagSet Flags, DateTimeOffset? InternalDate, ReadOnlyMemory<byte> Content, bool IsBinary);

public sealed record ImapAppendRequest(string Mailbox, IReadOnlyList<ImapAppendMessage> Messages)
{
    /// <remarks>
    /// <code>
    /// append = "APPEND" SP mailbox 1*append-message                ; RFC 3502 MULTIAPPEND
    /// append-message = [SP flag-list] [SP date-time] SP append-data
    /// append-data = literal / literal8 / "UTF8" SP "(" literal8 ")" ; RFC 3516, RFC 6855
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
}
