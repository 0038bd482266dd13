using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>Turns one complete, framed command (lines and literals, ending in CRLF) into a tag, a name and a token tree.</summary>
/// <remarks>
/// <code>
/// command   = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
/// tag       = 1*&lt;any ASTRING-CHAR except "+"&gt;
/// string    = quoted / literal
/// quoted    = DQUOTE *QUOTED-CHAR DQUOTE            ; QUOTED-CHAR: any TEXT-CHAR except quoted-specials, or "\" quoted-specials
/// list      = "(" [token *(SP token)] ")"
/// section   = "[" [section-spec] "]"                 ; attached to an atom: BODY[1.HEADER.FIELDS (FROM)]&lt;0.100&gt;
/// </code>
/// </remarks>
internal sealed class ImapCommandTokenizer
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly IReadOnlyList<ImapLiteralSegment> _literals;
    private readonly int _maxDepth;
    private readonly int _end;
    private int _position;
    private int _nextLiteral;
    private string? _error;
    private bool _tooDeep;

    private ImapCommandTokenizer(ReadOnlyMemory<byte> data, IReadOnlyList<ImapLiteralSegment> literals, int maxDepth)
    {
        _data = data;
        _literals = literals;
        _maxDepth = maxDepth;

        // The framer always ends a command with CRLF.
        _end = data.Length - 2;
    }

    public static ImapReadResult Tokenize(ReadOnlyMemory<byte> data, IReadOnlyList<ImapLiteralSegment> literals, int maxDepth, long size)
    {
        var tokenizer = new ImapCommandTokenizer(data, literals, maxDepth);
        return tokenizer.Run(size);
    }

    /// <summary>Best-effort tag and upper-cased command name from the start of a command, for error replies.</summary>
    public static (string? Tag, string? Name) ProbeTagAndName(ReadOnlySpan<byte> line)
    {
        var tagLength = 0;
        while (tagLength < line.Length && IsTagChar(line[tagLength]))
        {
            tagLength++;
        }

        if (tagLength == 0 || tagLength >= line.Length || line[tagLength] != (byte)' ')
        {
            return (null, null);
        }

        var tag = Encoding.ASCII.GetString(line[..tagLength]);
        var rest = line[(tagLength + 1)..];
        var nameLength = 0;
        while (nameLength < rest.Length && IsAtomChar(rest[nameLength]) && rest[nameLength] != (byte)'[' && rest[nameLength] != (byte)']')
        {
            nameLength++;
        }

        if (nameLength == 0)
        {
            return (tag, null);
        }

        var name = Encoding.ASCII.GetString(rest[..nameLength]).ToUpperInvariant();
        if (name == "UID" && nameLength < rest.Length && rest[nameLength] == (byte)' ')
        {
            var sub = rest[(nameLength + 1)..];
            var subLength = 0;
            while (subLength < sub.Length && IsAtomChar(sub[subLength]) && sub[subLength] != (byte)'[' && sub[subLength] != (byte)']')
            {
                subLength++;
            }

            if (subLength > 0)
            {
                name = "UID " + Encoding.ASCII.GetString(sub[..subLength]).ToUpperInvariant();
            }
        }

        return (tag, name);
    }

    /// <summary>ATOM-CHAR plus resp-specials ("]") and '[' — '[' is handled by the caller as the start of a section.</summary>
    internal static bool IsAtomChar(byte b) =>
        b > 0x20 && b < 0x7F && b is not ((byte)'(' or (byte)')' or (byte)'{' or (byte)'"');

    // RFC 3501: tag = 1*<any ASTRING-CHAR except "+">; list-wildcards and "\" are atom-specials too.
    internal static bool IsTagChar(byte b) =>
        IsAtomChar(b) && b is not ((byte)'+' or (byte)'%' or (byte)'*' or (byte)'\\');

    private ReadOnlySpan<byte> Span => _data.Span;

    private ImapReadResult Run(long size)
    {
        var span = Span;
        var tagStart = _position;
        while (_position < _end && IsTagChar(span[_position]))
        {
            _position++;
        }

        if (_position == tagStart || _position >= _end || span[_position] != (byte)' ')
        {
            return new ImapReadResult(ImapReadStatus.SyntaxError, Message: "Missing or invalid tag");
        }

        var tag = Encoding.ASCII.GetString(span[tagStart.._position]);
        _position++;
        var name = ReadCommandName();
        if (name is null)
        {
            return new ImapReadResult(ImapReadStatus.SyntaxError, tag, Message: "Missing command");
        }

        if (name == "UID")
        {
            if (_position >= _end || span[_position] != (byte)' ')
            {
                return new ImapReadResult(ImapReadStatus.SyntaxError, tag, name, Message: "UID needs a command");
            }

            _position++;
            var sub = ReadCommandName();
            if (sub is null)
            {
                return new ImapReadResult(ImapReadStatus.SyntaxError, tag, name, Message: "UID needs a command");
            }

            name = "UID " + sub;
        }

        var arguments = new List<ImapToken>();
        while (_position < _end)
        {
            if (span[_position] != (byte)' ')
            {
                return Fail(tag, name, "Expected a space between arguments");
            }

            _position++;
            if (_position == _end)
            {
                // Tolerate one trailing space.
                break;
            }

            var token = ReadToken(depth: 0, inSection: false);
            if (token is null)
            {
                return Fail(tag, name, _error ?? "Syntax error");
            }

            arguments.Add(token);
        }

        if (_nextLiteral != _literals.Count)
        {
            return Fail(tag, name, "Literal out of place");
        }

        return new ImapReadResult(ImapReadStatus.Command, tag, name, new ImapCommand(tag, name, arguments, size));
    }

    private ImapReadResult Fail(string tag, string name, string message) =>
        new(_tooDeep ? ImapReadStatus.NestingTooDeep : ImapReadStatus.SyntaxError, tag, name, Message: message);

    private string? ReadCommandName()
    {
        var span = Span;
        var start = _position;
        while (_position < _end && IsAtomChar(span[_position]) && span[_position] is not ((byte)'[' or (byte)']' or (byte)'%' or (byte)'*' or (byte)'\\'))
        {
            _position++;
        }

        if (_position == start || (_position < _end && span[_position] != (byte)' '))
        {
            return null;
        }

        return Encoding.ASCII.GetString(span[start.._position]).ToUpperInvariant();
    }

    private ImapToken? ReadToken(int depth, bool inSection)
    {
        var span = Span;
        if (_position >= _end)
        {
            _error = "Unexpected end of command";
            return null;
        }

        var b = span[_position];
        switch (b)
        {
            case (byte)'(':
                return ReadList(depth + 1, inSection);
            case (byte)'"':
                return ReadQuoted();
            case (byte)'{':
                return ReadLiteral(binary: false);
            case (byte)'~' when _position + 1 < _end && span[_position + 1] == (byte)'{':
                _position++;
                return ReadLiteral(binary: true);
            case (byte)')':
                _error = "Unexpected ')'";
                return null;
            default:
                return ReadAtom(depth, inSection);
        }
    }

    private ImapToken? ReadList(int depth, bool inSection)
    {
        if (depth > _maxDepth)
        {
            _tooDeep = true;
            _error = "Too deeply nested";
            return null;
        }

        _position++;
        var children = new List<ImapToken>();
        var span = Span;
        while (true)
        {
            if (_position >= _end)
            {
                _error = "Missing ')'";
                return null;
            }

            if (span[_position] == (byte)')')
            {
                _position++;
                return ImapToken.List(children);
            }

            if (children.Count > 0)
            {
                if (span[_position] != (byte)' ')
                {
                    _error = "Expected a space in list";
                    return null;
                }

                _position++;
            }

            var child = ReadToken(depth, inSection);
            if (child is null)
            {
                return null;
            }

            children.Add(child);
        }
    }

    private ImapToken? ReadQuoted()
    {
        var span = Span;
        _position++;
        var start = _position;
        var escaped = false;
        while (true)
        {
            if (_position >= _end)
            {
                _error = "Unterminated quoted string";
                return null;
            }

            var b = span[_position];
            if (b == (byte)'"')
            {
                break;
            }

            if (b is (byte)'\r' or (byte)'\n' or 0)
            {
                _error = "CR, LF or NUL in quoted string";
                return null;
            }

            if (b == (byte)'\\')
            {
                // RFC 3501 §4.3: only "\\" and "\"" are escapes.
                if (_position + 1 >= _end || span[_position + 1] is not ((byte)'"' or (byte)'\\'))
                {
                    _error = "Bad escape in quoted string";
                    return null;
                }

                escaped = true;
                _position++;
            }

            _position++;
        }

        var raw = _data[start.._position];
        _position++;
        if (!escaped)
        {
            return ImapToken.Quoted(raw);
        }

        var unescaped = new byte[raw.Length];
        var length = 0;
        var rawSpan = raw.Span;
        for (var i = 0; i < rawSpan.Length; i++)
        {
            if (rawSpan[i] == (byte)'\\')
            {
                i++;
            }

            unescaped[length++] = rawSpan[i];
        }

        return ImapToken.Quoted(unescaped.AsMemory(0, length));
    }

    private ImapToken? ReadLiteral(bool binary)
    {
        var span = Span;

        // The framer already checked the marker; here it is only matched to the literal it recorded.
        _position++;
        while (_position < _end && char.IsAsciiDigit((char)span[_position]))
        {
            _position++;
        }

        var nonSync = false;
        if (_position < _end && span[_position] == (byte)'+')
        {
            nonSync = true;
            _position++;
        }

        if (_position + 2 >= _data.Length || span[_position] != (byte)'}' || span[_position + 1] != (byte)'\r' || span[_position + 2] != (byte)'\n')
        {
            _error = "Malformed literal";
            return null;
        }

        _position += 3;
        if (_nextLiteral >= _literals.Count || _literals[_nextLiteral].Start != _position)
        {
            _error = "Malformed literal";
            return null;
        }

        var segment = _literals[_nextLiteral++];
        _position += segment.Length;
        return ImapToken.Literal(_data.Slice(segment.Start, segment.Length), binary, nonSync);
    }

    private ImapToken? ReadAtom(int depth, bool inSection)
    {
        var start = _position;
        var span = Span;
        while (_position < _end && IsAtomChar(span[_position]) && span[_position] != (byte)'[' && !(inSection && span[_position] == (byte)']'))
        {
            _position++;
        }

        if (_position < _end && span[_position] == (byte)'[' && !inSection)
        {
            var prefixEnd = _position;
            var section = ReadSection(depth + 1);
            if (section is not null)
            {
                var suffixStart = _position;
                while (_position < _end && IsAtomChar(span[_position]))
                {
                    _position++;
                }

                return ImapToken.SectionAtom(_data[start..prefixEnd], section, _data[suffixStart.._position], _data[start.._position]);
            }

            if (_tooDeep)
            {
                return null;
            }

            // Not a section after all (a mailbox such as "foo[bar"): read it as a plain atom.
            _error = null;
            _position = start;
            while (_position < _end && IsAtomChar(span[_position]))
            {
                _position++;
            }
        }

        if (_position == start)
        {
            _error = "Unexpected character";
            return null;
        }

        var raw = _data[start.._position];
        return raw.Length == 3 && Ascii.EqualsIgnoreCase(raw.Span, "NIL") ? ImapToken.Nil(raw) : ImapToken.Atom(raw);
    }

    private List<ImapToken>? ReadSection(int depth)
    {
        if (depth > _maxDepth)
        {
            _tooDeep = true;
            _error = "Too deeply nested";
            return null;
        }

        var saveLiteral = _nextLiteral;
        _position++;
        var children = new List<ImapToken>();
        var span = Span;
        while (true)
        {
            if (_position >= _end)
            {
                _nextLiteral = saveLiteral;
                return null;
            }

            if (span[_position] == (byte)']')
            {
                _position++;
                return children;
            }

            if (children.Count > 0)
            {
                if (span[_position] != (byte)' ')
                {
                    _nextLiteral = saveLiteral;
                    return null;
                }

                _position++;
            }

            var child = ReadToken(depth, inSection: true);
            if (child is null)
            {
                _nextLiteral = saveLiteral;
                return null;
            }

            children.Add(child);
        }
    }
}
