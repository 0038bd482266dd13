using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>A cursor over a command's argument tokens, with readers for the grammar's basic productions.</summary>
public sealed class ImapArgumentReader
{
    private readonly IReadOnlyList<ImapToken> _tokens;

    public ImapArgumentReader(IReadOnlyList<ImapToken> tokens)
    {
        _tokens = tokens;
    }

    public int Position { get; private set; }

    public bool AtEnd => Position >= _tokens.Count;

    public int Remaining => _tokens.Count - Position;

    public ImapToken? Peek() => AtEnd ? null : _tokens[Position];

    public ImapToken? Read() => AtEnd ? null : _tokens[Position++];

    /// <summary>Reads an atom without section; NIL counts as the atom "NIL".</summary>
    public bool TryReadAtom(out string atom)
    {
        atom = string.Empty;
        var token = Peek();
        if (token is null || token.Kind is not (ImapTokenKind.Atom or ImapTokenKind.Nil) || token.HasSection)
        {
            return false;
        }

        atom = Encoding.ASCII.GetString(token.Raw.Span);
        Position++;
        return true;
    }

    /// <summary>Consumes the atom <paramref name="word"/> (any case) if it is next.</summary>
    public bool TryReadKeyword(string word)
    {
        var token = Peek();
        if (token is null || !token.IsAtomText(word))
        {
            return false;
        }

        Position++;
        return true;
    }

    /// <summary>astring = 1*ASTRING-CHAR / string; as raw octets.</summary>
    public bool TryReadAStringBytes(out ReadOnlyMemory<byte> value)
    {
        value = default;
        var token = Peek();
        if (token is null)
        {
            return false;
        }

        switch (token.Kind)
        {
            case ImapTokenKind.Atom or ImapTokenKind.Nil:
                value = token.Raw;
                break;
            case ImapTokenKind.QuotedString or ImapTokenKind.Literal:
                value = token.Value;
                break;
            default:
                return false;
        }

        Position++;
        return true;
    }

    public bool TryReadAString(out string value)
    {
        value = string.Empty;
        if (!TryReadAStringBytes(out var bytes))
        {
            return false;
        }

        value = Encoding.UTF8.GetString(bytes.Span);
        return true;
    }

    /// <summary>string = quoted / literal (no atom).</summary>
    public bool TryReadString(out string value)
    {
        value = string.Empty;
        var token = Peek();
        if (token is null || !token.IsString)
        {
            return false;
        }

        value = Encoding.UTF8.GetString(token.Value.Span);
        Position++;
        return true;
    }

    /// <summary>nstring = string / nil.</summary>
    public bool TryReadNString(out string? value)
    {
        value = null;
        var token = Peek();
        if (token is null)
        {
            return false;
        }

        if (token.Kind == ImapTokenKind.Nil)
        {
            Position++;
            return true;
        }

        return TryReadString(out value!);
    }

    /// <summary>number = 1*DIGIT (32-bit); number64 and mod-sequence-value use <see cref="TryReadNumber64"/>.</summary>
    public bool TryReadNumber(out uint value)
    {
        value = 0;
        var token = Peek();
        if (token is null || !token.IsAtom || token.HasSection || !ImapGrammar.TryParseNumber(token.Raw.Span, out var number) || number > uint.MaxValue)
        {
            return false;
        }

        value = (uint)number;
        Position++;
        return true;
    }

    public bool TryReadNumber64(out ulong value)
    {
        value = 0;
        var token = Peek();
        if (token is null || !token.IsAtom || token.HasSection || !ImapGrammar.TryParseNumber(token.Raw.Span, out value) || value > long.MaxValue)
        {
            return false;
        }

        Position++;
        return true;
    }

    public bool TryReadList(out IReadOnlyList<ImapToken> children)
    {
        children = [];
        var token = Peek();
        if (token is null || !token.IsList)
        {
            return false;
        }

        children = token.Children;
        Position++;
        return true;
    }

    public bool TryReadSequenceSet(out ImapSequenceSet set)
    {
        set = null!;
        var token = Peek();
        if (token is null || !token.IsAtom || token.HasSection || !ImapSequenceSet.TryParse(token.Raw.Span, out set))
        {
            return false;
        }

        Position++;
        return true;
    }

    /// <summary>mailbox = "INBOX" / astring, decoded to the stored name (see <see cref="ImapMailboxName.TryDecode"/>).</summary>
    public bool TryReadMailbox(bool utf8Enabled, out string name)
    {
        name = string.Empty;
        var save = Position;
        if (!TryReadAStringBytes(out var bytes))
        {
            return false;
        }

        if (!ImapMailboxName.TryDecode(bytes.Span, utf8Enabled, out name))
        {
            Position = save;
            return false;
        }

        return true;
    }

    /// <summary>date-time as a quoted string (APPEND).</summary>
    public bool TryReadDateTime(out DateTimeOffset value)
    {
        value = default;
        var token = Peek();
        if (token is null || token.Kind != ImapTokenKind.QuotedString || !ImapDateTime.TryParseDateTime(token.Value.Span, out value))
        {
            return false;
        }

        Position++;
        return true;
    }

    /// <summary>date = date-text / DQUOTE date-text DQUOTE (SEARCH).</summary>
    public bool TryReadDate(out DateOnly value)
    {
        value = default;
        var token = Peek();
        if (token is null || token.HasSection || token.Kind is not (ImapTokenKind.Atom or ImapTokenKind.QuotedString) ||
            !ImapDateTime.TryParseDate(token.Value.Span, out value))
        {
            return false;
        }

        Position++;
        return true;
    }

    /// <summary>flag-list = "(" [flag *(SP flag)] ")".</summary>
    public bool TryReadFlagList(out ImapFlagSet flags)
    {
        flags = ImapFlagSet.Empty;
        var token = Peek();
        if (token is null || !token.IsList || !ImapFlagSet.TryParse(token.Children, out flags))
        {
            return false;
        }

        Position++;
        return true;
    }
}

/// <summary>Small pieces of the grammar shared by the parsers.</summary>
public static class ImapGrammar
{
    /// <summary>number / number64 = 1*DIGIT; anything longer than 19 digits or above long.MaxValue fails.</summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 19)
        {
            return false;
        }

        foreach (var b in text)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            value = (value * 10) + (ulong)(b - '0');
        }

        return value <= long.MaxValue;
    }

    /// <summary>An atom as the grammar defines it (no specials, no CTL, 7-bit), so it can be written bare.</summary>
    public static bool IsAtom(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var b in text)
        {
            if (b <= 0x20 || b >= 0x7F || b is (byte)'(' or (byte)')' or (byte)'{' or (byte)'"' or (byte)'\\' or (byte)'%' or (byte)'*' or (byte)']' or (byte)'[')
            {
                return false;
            }
        }

        return true;
    }
}
