using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>The system flags a client may set (RFC 3501 §2.3.2). Values equal the store's MessageFlags.</summary>
[Flags]
public enum ImapSystemFlags
{
    None = 0,
    Seen = 1,
    Answered = 2,
    Flagged = 4,
    Deleted = 8,
    Draft = 16,
}

/// <summary>A parsed flag list: system flags plus keywords.</summary>
/// <remarks><code>flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension</code></remarks>
public sealed record ImapFlagSet(ImapSystemFlags System, IReadOnlyList<string> Keywords)
{
    public static ImapFlagSet Empty { get; } = new(ImapSystemFlags.None, []);

    public static bool TryParseSystemFlag(string text, out ImapSystemFlags flag)
    {
        flag = text.ToUpperInvariant() switch
        {
            "\\SEEN" => ImapSystemFlags.Seen,
            "\\ANSWERED" => ImapSystemFlags.Answered,
            "\\FLAGGED" => ImapSystemFlags.Flagged,
            "\\DELETED" => ImapSystemFlags.Deleted,
            "\\DRAFT" => ImapSystemFlags.Draft,
            _ => ImapSystemFlags.None,
        };
        return flag != ImapSystemFlags.None;
    }

    /// <summary>
    /// Parses flags given as atoms. "\Recent" and unknown "\" flags are refused: \Recent is server-managed (RFC 3501 §2.3.2)
    /// and flag-extension names are reserved for future RFCs.
    /// </summary>
    public static bool TryParse(IReadOnlyList<ImapToken> tokens, out ImapFlagSet flags)
    {
        flags = Empty;
        var system = ImapSystemFlags.None;
        List<string>? keywords = null;
        foreach (var token in tokens)
        {
            if (token.Kind is not (ImapTokenKind.Atom or ImapTokenKind.Nil) || token.HasSection)
            {
                return false;
            }

            var text = Encoding.ASCII.GetString(token.Raw.Span);
            if (text.StartsWith('\\'))
            {
                if (!TryParseSystemFlag(text, out var flag))
                {
                    return false;
                }

                system |= flag;
            }
            else
            {
                if (!ImapGrammar.IsAtom(token.Raw.Span))
                {
                    return false;
                }

                keywords ??= [];
                if (!keywords.Contains(text, StringComparer.OrdinalIgnoreCase))
                {
                    keywords.Add(text);
                }
            }
        }

        flags = new ImapFlagSet(system, keywords ?? (IReadOnlyList<string>)[]);
        return true;
    }

    /// <summary>The flags as they appear in FLAGS responses.</summary>
    public static IEnumerable<string> Names(ImapSystemFlags flags)
    {
        if ((flags & ImapSystemFlags.Answered) != 0)
        {
            yield return "\\Answered";
        }

        if ((flags & ImapSystemFlags.Flagged) != 0)
        {
            yield return "\\Flagged";
        }

        if ((flags & ImapSystemFlags.Deleted) != 0)
        {
            yield return "\\Deleted";
        }

        if ((flags & ImapSystemFlags.Seen) != 0)
        {
            yield return "\\Seen";
        }

        if ((flags & ImapSystemFlags.Draft) != 0)
        {
            yield return "\\Draft";
        }
    }
}
