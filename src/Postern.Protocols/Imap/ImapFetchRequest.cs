using System.Globalization;
using System.Text;

namespace Postern.Protocols.Imap;

public enum ImapFetchItemKind
{
    Flags,
    InternalDate,
    Rfc822,
    Rfc822Header,
    Rfc822Size,
    Rfc822Text,
    Envelope,
    Body,
    BodyStructure,
    Uid,
    ModSeq,
    BodySection,
    Binary,
    BinarySize,

    /// <summary>RFC 8474 §5.1.</summary>
    EmailId,

    /// <summary>RFC 8474 §5.2.</summary>
    ThreadId,

    /// <summary>RFC 8970: a short plain-text summary of the message.</summary>
    Preview,

    /// <summary>RFC 8514: when the message was saved into this mailbox.</summary>
    SaveDate,
}

public enum ImapSectionText
{
    /// <summary>The whole part (or, with no part number, the whole message).</summary>
    None,
    Header,
    HeaderFields,
    HeaderFieldsNot,
    Text,
    Mime,
}

/// <summary>A body section specifier: part path plus what of it.</summary>
/// <remarks>
/// <code>
/// section-spec    = section-msgtext / (section-part ["." section-text])
/// section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
/// section-part    = nz-number *("." nz-number)
/// section-text    = section-msgtext / "MIME"     ; MIME only after a part number
/// </code>
/// </remarks>
public sealed record ImapSection(IReadOnlyList<uint> Part, ImapSectionText Text, IReadOnlyList<string> Fields)
{
    private static readonly System.Buffers.SearchValues<char> NotInSectionText = System.Buffers.SearchValues.Create("[]{}\r\n\0");

    public static ImapSection Whole { get; } = new([], ImapSectionText.None, []);

    /// <summary>Parses section text written on its own, as in an IMAP URL's ;SECTION= (RFC 5092): "1.2.MIME", "HEADER.FIELDS (FROM)".</summary>
    public static bool TryParse(string text, out ImapSection section)
    {
        section = Whole;
        if (text.AsSpan().IndexOfAny(NotInSectionText) >= 0)
        {
            return false;
        }

        var data = Encoding.UTF8.GetBytes("s X BODY[" + text + "]\r\n");
        var read = ImapCommandTokenizer.Tokenize(data, [], maxDepth: 2, data.Length);
        if (read.Status != ImapReadStatus.Command)
        {
            return false;
        }

        var args = read.Command!.GetReader();
        var token = args.Read();
        return token is { HasSection: true } && args.AtEnd && ImapFetchRequest.TryParseSection(token.Section!, out section);
    }

    /// <summary>The spelling used in the FETCH response name (header field names as the client sent them).</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        builder.AppendJoin('.', Part);
        var text = Text switch
        {
            ImapSectionText.Header => "HEADER",
            ImapSectionText.HeaderFields => "HEADER.FIELDS",
            ImapSectionText.HeaderFieldsNot => "HEADER.FIELDS.NOT",
            ImapSectionText.Text => "TEXT",
            ImapSectionText.Mime => "MIME",
            _ => null,
        };
        if (text is not null)
        {
            if (builder.Length > 0)
            {
                builder.Append('.');
            }

            builder.Append(text);
        }

        if (Text is ImapSectionText.HeaderFields or ImapSectionText.HeaderFieldsNot)
        {
            builder.Append(" (").AppendJoin(' ', Fields.Select(Quote)).Append(')');
        }

        return builder.ToString();
    }

    private static string Quote(string field) => ImapGrammar.IsAtom(Encoding.UTF8.GetBytes(field)) ? field : "\"" + field.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>One fetch attribute.</summary>
/// <param name="PartialOffset">&lt;offset.length&gt;: first octet wanted.</param>
/// <param name="PartialLength">&lt;offset.length&gt;: how many octets at most.</param>
public sealed record ImapFetchItem(ImapFetchItemKind Kind, ImapSection? Section = null, bool Peek = false, ulong? PartialOffset = null, ulong? PartialLength = null)
{
    /// <summary>
    /// The item's name in the FETCH response: <c>BODY[1.TEXT]&lt;0&gt;</c> — RFC 3501 §7.4.2 reports only the origin of a partial,
    /// and a PEEK is answered as plain BODY.
    /// </summary>
    public string ResponseName
    {
        get
        {
            var origin = PartialOffset is { } offset ? "<" + offset.ToString(CultureInfo.InvariantCulture) + ">" : string.Empty;
            return Kind switch
            {
                ImapFetchItemKind.BodySection => "BODY[" + Section + "]" + origin,
                ImapFetchItemKind.Binary => "BINARY[" + Section + "]" + origin,
                ImapFetchItemKind.BinarySize => "BINARY.SIZE[" + Section + "]",
                ImapFetchItemKind.Rfc822 => "RFC822",
                ImapFetchItemKind.Rfc822Header => "RFC822.HEADER",
                ImapFetchItemKind.Rfc822Size => "RFC822.SIZE",
                ImapFetchItemKind.Rfc822Text => "RFC822.TEXT",
                ImapFetchItemKind.InternalDate => "INTERNALDATE",
                ImapFetchItemKind.BodyStructure => "BODYSTRUCTURE",
                _ => Kind.ToString().ToUpperInvariant(),
            };
        }
    }

    /// <summary>Fetching it sets \Seen unless the mailbox is read-only (RFC 3501 §6.4.5).</summary>
    public bool SetsSeen => !Peek && Kind is ImapFetchItemKind.BodySection or ImapFetchItemKind.Binary or ImapFetchItemKind.Rfc822 or ImapFetchItemKind.Rfc822Text;
}

/// <summary>A parsed FETCH / UID FETCH.</summary>
public sealed record ImapFetchRequest(ImapSequenceSet Set, IReadOnlyList<ImapFetchItem> Items, ulong? ChangedSince, bool Vanished)
{
    /// <summary>
    /// Parses the arguments of FETCH (after the name).
    /// </summary>
    /// <remarks>
    /// <code>
    /// fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
    /// fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".SIZE" / ".TEXT"] / "BODY" ["STRUCTURE"] / "UID" /
    ///             "BODY" section [partial] / "BODY.PEEK" section [partial] / "BINARY" [".PEEK"] section-binary [partial] /
    ///             "BINARY.SIZE" section-binary / "MODSEQ" / "EMAILID" / "THREADID" / "PREVIEW" [SP "(" "LAZY" ")"] / "SAVEDATE"
    /// partial = "&lt;" number64 "." nz-number64 "&gt;"
    /// fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")" ; "CHANGEDSINCE" SP mod-sequence-value / "VANISHED" (RFC 7162)
    /// </code>
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, out ImapFetchRequest request, out string error)
    {
        request = null!;
        if (!args.TryReadSequenceSet(out var set))
        {
            error = "Invalid sequence set";
            return false;
        }

        var items = new List<ImapFetchItem>();
        var token = args.Read();
        if (token is null)
        {
            error = "Missing fetch attributes";
            return false;
        }

        if (token.IsList)
        {
            if (token.Children.Count == 0)
            {
                error = "Empty fetch attribute list";
                return false;
            }

            for (var i = 0; i < token.Children.Count; i++)
            {
                if (!TryParseItem(token.Children[i], items, allowMacro: false, out error))
                {
                    return false;
                }

                // RFC 8970 §3: PREVIEW [SP "(" preview-mod *(SP preview-mod) ")"], preview-mod = "LAZY". Postern always has
                // a preview to give, so LAZY changes nothing.
                if (items[^1].Kind == ImapFetchItemKind.Preview && i + 1 < token.Children.Count && token.Children[i + 1].IsList)
                {
                    i++;
                    if (!token.Children[i].Children.All(m => m.IsAtomText("LAZY")) || token.Children[i].Children.Count == 0)
                    {
                        error = "Unknown preview modifier";
                        return false;
                    }
                }
            }
        }
        else if (!TryParseItem(token, items, allowMacro: true, out error))
        {
            return false;
        }

        ulong? changedSince = null;
        var vanished = false;
        if (args.TryReadList(out var modifiers))
        {
            var reader = new ImapArgumentReader(modifiers);
            while (!reader.AtEnd)
            {
                if (reader.TryReadKeyword("CHANGEDSINCE"))
                {
                    if (changedSince is not null || !reader.TryReadNumber64(out var modseq))
                    {
                        error = "CHANGEDSINCE needs one mod-sequence";
                        return false;
                    }

                    changedSince = modseq;
                }
                else if (reader.TryReadKeyword("VANISHED"))
                {
                    vanished = true;
                }
                else
                {
                    error = "Unknown fetch modifier";
                    return false;
                }
            }

            // RFC 7162 §3.2.6: VANISHED requires CHANGEDSINCE.
            if (vanished && changedSince is null)
            {
                error = "VANISHED requires CHANGEDSINCE";
                return false;
            }
        }

        if (!args.AtEnd)
        {
            error = "Unexpected arguments after fetch attributes";
            return false;
        }

        // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ in every response.
        if (changedSince is not null && !items.Any(i => i.Kind == ImapFetchItemKind.ModSeq))
        {
            items.Add(new ImapFetchItem(ImapFetchItemKind.ModSeq));
        }

        request = new ImapFetchRequest(set, items, changedSince, vanished);
        error = string.Empty;
        return true;
    }

    private static bool TryParseItem(ImapToken token, List<ImapFetchItem> items, bool allowMacro, out string error)
    {
        error = "Unknown fetch attribute";
        if (token.Kind is not ImapTokenKind.Atom)
        {
            return false;
        }

        var name = Encoding.ASCII.GetString(token.Value.Span).ToUpperInvariant();
        if (token.HasSection)
        {
            return TryParseSectionItem(name, token, items, out error);
        }

        switch (name)
        {
            case "ALL" when allowMacro:
                items.Add(new(ImapFetchItemKind.Flags));
                items.Add(new(ImapFetchItemKind.InternalDate));
                items.Add(new(ImapFetchItemKind.Rfc822Size));
                items.Add(new(ImapFetchItemKind.Envelope));
                return true;
            case "FAST" when allowMacro:
                items.Add(new(ImapFetchItemKind.Flags));
                items.Add(new(ImapFetchItemKind.InternalDate));
                items.Add(new(ImapFetchItemKind.Rfc822Size));
                return true;
            case "FULL" when allowMacro:
                items.Add(new(ImapFetchItemKind.Flags));
                items.Add(new(ImapFetchItemKind.InternalDate));
                items.Add(new(ImapFetchItemKind.Rfc822Size));
                items.Add(new(ImapFetchItemKind.Envelope));
                items.Add(new(ImapFetchItemKind.Body));
                return true;
            case "FLAGS":
                items.Add(new(ImapFetchItemKind.Flags));
                return true;
            case "INTERNALDATE":
                items.Add(new(ImapFetchItemKind.InternalDate));
                return true;
            case "RFC822":
                items.Add(new(ImapFetchItemKind.Rfc822));
                return true;
            case "RFC822.HEADER":
                items.Add(new(ImapFetchItemKind.Rfc822Header));
                return true;
            case "RFC822.SIZE":
                items.Add(new(ImapFetchItemKind.Rfc822Size));
                return true;
            case "RFC822.TEXT":
                items.Add(new(ImapFetchItemKind.Rfc822Text));
                return true;
            case "ENVELOPE":
                items.Add(new(ImapFetchItemKind.Envelope));
                return true;
            case "BODY":
                items.Add(new(ImapFetchItemKind.Body));
                return true;
            case "BODYSTRUCTURE":
                items.Add(new(ImapFetchItemKind.BodyStructure));
                return true;
            case "UID":
                items.Add(new(ImapFetchItemKind.Uid));
                return true;
            case "MODSEQ":
                items.Add(new(ImapFetchItemKind.ModSeq));
                return true;
            case "EMAILID":
                items.Add(new(ImapFetchItemKind.EmailId));
                return true;
            case "THREADID":
                items.Add(new(ImapFetchItemKind.ThreadId));
                return true;
            case "PREVIEW":
                items.Add(new(ImapFetchItemKind.Preview));
                return true;
            case "SAVEDATE":
                items.Add(new(ImapFetchItemKind.SaveDate));
                return true;
            default:
                return false;
        }
    }

    private static bool TryParseSectionItem(string name, ImapToken token, List<ImapFetchItem> items, out string error)
    {
        error = "Invalid section";
        ImapFetchItemKind kind;
        var peek = false;
        switch (name)
        {
            case "BODY":
                kind = ImapFetchItemKind.BodySection;
                break;
            case "BODY.PEEK":
                kind = ImapFetchItemKind.BodySection;
                peek = true;
                break;
            case "BINARY":
                kind = ImapFetchItemKind.Binary;
                break;
            case "BINARY.PEEK":
                kind = ImapFetchItemKind.Binary;
                peek = true;
                break;
            case "BINARY.SIZE":
                kind = ImapFetchItemKind.BinarySize;
                break;
            default:
                error = "Unknown fetch attribute";
                return false;
        }

        ImapSection section;
        if (kind == ImapFetchItemKind.BodySection)
        {
            if (!TryParseSection(token.Section!, out section))
            {
                return false;
            }
        }
        else
        {
            // RFC 3516: section-binary = "[" [section-part] "]".
            if (!TryParseBinarySection(token.Section!, out section))
            {
                return false;
            }
        }

        ulong? offset = null;
        ulong? length = null;
        var suffix = token.Suffix.Span;
        if (!suffix.IsEmpty)
        {
            if (kind == ImapFetchItemKind.BinarySize || !TryParsePartial(suffix, out var o, out var l))
            {
                error = "Invalid partial";
                return false;
            }

            offset = o;
            length = l;
        }

        items.Add(new ImapFetchItem(kind, section, peek, offset, length));
        error = string.Empty;
        return true;
    }

    /// <summary>Parses the tokens between the brackets of BODY[...].</summary>
    public static bool TryParseSection(IReadOnlyList<ImapToken> tokens, out ImapSection section)
    {
        section = ImapSection.Whole;
        if (tokens.Count == 0)
        {
            return true;
        }

        if (!tokens[0].IsAtom || tokens[0].HasSection)
        {
            return false;
        }

        var spec = Encoding.ASCII.GetString(tokens[0].Raw.Span).ToUpperInvariant();
        var parts = new List<uint>();
        var position = 0;
        while (position < spec.Length && char.IsAsciiDigit(spec[position]))
        {
            var end = position;
            while (end < spec.Length && char.IsAsciiDigit(spec[end]))
            {
                end++;
            }

            if (spec[position] == '0' || !uint.TryParse(spec.AsSpan(position, end - position), NumberStyles.None, CultureInfo.InvariantCulture, out var part))
            {
                return false;
            }

            parts.Add(part);
            position = end;
            if (position < spec.Length)
            {
                if (spec[position] != '.')
                {
                    return false;
                }

                position++;
                if (position == spec.Length)
                {
                    return false;
                }
            }
        }

        var text = spec[position..];
        var kind = text switch
        {
            "" => ImapSectionText.None,
            "HEADER" => ImapSectionText.Header,
            "HEADER.FIELDS" => ImapSectionText.HeaderFields,
            "HEADER.FIELDS.NOT" => ImapSectionText.HeaderFieldsNot,
            "TEXT" => ImapSectionText.Text,
            "MIME" when parts.Count > 0 => ImapSectionText.Mime,
            _ => (ImapSectionText)(-1),
        };
        if (kind < 0)
        {
            return false;
        }

        var fields = new List<string>();
        if (kind is ImapSectionText.HeaderFields or ImapSectionText.HeaderFieldsNot)
        {
            // header-list = "(" header-fld-name *(SP header-fld-name) ")" ; header-fld-name = astring
            if (tokens.Count != 2 || !tokens[1].IsList || tokens[1].Children.Count == 0)
            {
                return false;
            }

            foreach (var field in tokens[1].Children)
            {
                if (field.Kind == ImapTokenKind.List || field.HasSection)
                {
                    return false;
                }

                var name = field.AsString()!;
                if (name.Length == 0 || name.Any(c => c <= ' ' || c >= '\x7f' || c == ':'))
                {
                    return false;
                }

                // Kept as sent: the response echoes the client's spelling; matching ignores case.
                fields.Add(name);
            }
        }
        else if (tokens.Count != 1)
        {
            return false;
        }

        section = new ImapSection(parts, kind, fields);
        return true;
    }

    private static bool TryParseBinarySection(IReadOnlyList<ImapToken> tokens, out ImapSection section)
    {
        section = ImapSection.Whole;
        if (tokens.Count == 0)
        {
            return true;
        }

        if (tokens.Count != 1 || !TryParseSection(tokens, out section))
        {
            return false;
        }

        return section.Text == ImapSectionText.None;
    }

    private static bool TryParsePartial(ReadOnlySpan<byte> text, out ulong offset, out ulong length)
    {
        offset = 0;
        length = 0;
        if (text.Length < 5 || text[0] != (byte)'<' || text[^1] != (byte)'>')
        {
            return false;
        }

        var inner = text[1..^1];
        var dot = inner.IndexOf((byte)'.');
        if (dot <= 0 || !ImapGrammar.TryParseNumber(inner[..dot], out offset) || !ImapGrammar.TryParseNumber(inner[(dot + 1)..], out length))
        {
            return false;
        }

        // The length is an nz-number.
        return length > 0;
    }
}
