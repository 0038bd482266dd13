using System.Buffers;
using System.Text;

namespace Postern.Protocols.Pop3;

/// <summary>Parses POP3 command lines into <see cref="Pop3Command"/> values.</summary>
public static class Pop3CommandParser
{
    /// <summary>RFC 2449 §4: a command line is at most 255 octets including CRLF.</summary>
    public const int MaxCommandLength = 255;

    private static readonly UTF8Encoding s_strictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>Frames one line from <paramref name="buffer"/> and parses it.</summary>
    /// <returns><see cref="LineReadStatus.Line"/> when a command (or a parse error) is produced.</returns>
    public static LineReadStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxLength, out Pop3Command? command, out Pop3ParseError error)
    {
        command = null;
        error = Pop3ParseError.None;
        var status = LineReader.TryReadLine(ref buffer, maxLength, out var line);
        if (status == LineReadStatus.Line)
        {
            var bytes = line.IsSingleSegment ? line.FirstSpan : line.ToArray();
            _ = TryParse(bytes, out command, out error);
        }

        return status;
    }

    /// <summary>Parses one command line (without its CRLF).</summary>
    /// <remarks>
    /// RFC 2449 §3 (after RFC 1939 §3):
    /// <code>
    /// command = keyword *(SP param) CRLF   ; 255 octets maximum
    /// keyword = 3*4VCHAR                   ; case-insensitive
    /// param   = 1*VCHAR
    /// </code>
    /// RFC 1939 §7 (PASS): "since the PASS command has exactly one argument, a POP3 server may treat spaces in
    /// the argument as part of the password" — PASS and USER take the rest of the line. Postern accepts runs of
    /// spaces between other arguments (Postel) and UTF-8 in arguments; control characters are refused.
    /// </remarks>
    public static bool TryParse(ReadOnlySpan<byte> line, out Pop3Command? command, out Pop3ParseError error)
    {
        command = null;
        foreach (var b in line)
        {
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
            {
                error = Pop3ParseError.InvalidCharacters;
                return false;
            }
        }

        string text;
        try
        {
            text = s_strictUtf8.GetString(line);
        }
        catch (DecoderFallbackException)
        {
            error = Pop3ParseError.InvalidCharacters;
            return false;
        }

        var trimmed = text.AsSpan().TrimStart(' ');
        if (trimmed.IsWhiteSpace())
        {
            error = Pop3ParseError.Empty;
            return false;
        }

        var space = trimmed.IndexOf(' ');
        var keyword = space < 0 ? trimmed : trimmed[..space];
        var rest = space < 0 ? [] : trimmed[(space + 1)..];
        if (!TryGetVerb(keyword, out var verb))
        {
            error = Pop3ParseError.UnknownCommand;
            return false;
        }

        command = verb switch
        {
            Pop3Verb.User or Pop3Verb.Pass => ParseRestOfLine(verb, rest),
            Pop3Verb.Apop => ParseWords(verb, rest, 2, 2),
            Pop3Verb.Auth => ParseWords(verb, rest, 0, 2),
            Pop3Verb.Stls or Pop3Verb.Capa or Pop3Verb.Quit or Pop3Verb.Stat or Pop3Verb.Noop or Pop3Verb.Rset => ParseWords(verb, rest, 0, 0),
            Pop3Verb.List or Pop3Verb.Uidl => ParseNumbers(verb, rest, 0, 1),
            Pop3Verb.Retr or Pop3Verb.Dele => ParseNumbers(verb, rest, 1, 1),
            Pop3Verb.Top => ParseNumbers(verb, rest, 2, 2),
            _ => null,
        };
        error = command is null ? Pop3ParseError.BadArguments : Pop3ParseError.None;
        return command is not null;
    }

    /// <summary>Case-insensitive keyword lookup.</summary>
    public static bool TryGetVerb(ReadOnlySpan<char> keyword, out Pop3Verb verb)
    {
        verb = default;
        if (keyword.Length is < 3 or > 4)
        {
            return false;
        }

        Span<char> upper = stackalloc char[4];
        var length = keyword.ToUpperInvariant(upper);
        verb = upper[..length] switch
        {
            "USER" => Pop3Verb.User,
            "PASS" => Pop3Verb.Pass,
            "APOP" => Pop3Verb.Apop,
            "AUTH" => Pop3Verb.Auth,
            "STLS" => Pop3Verb.Stls,
            "CAPA" => Pop3Verb.Capa,
            "QUIT" => Pop3Verb.Quit,
            "STAT" => Pop3Verb.Stat,
            "LIST" => Pop3Verb.List,
            "RETR" => Pop3Verb.Retr,
            "DELE" => Pop3Verb.Dele,
            "NOOP" => Pop3Verb.Noop,
            "RSET" => Pop3Verb.Rset,
            "TOP" => Pop3Verb.Top,
            "UIDL" => Pop3Verb.Uidl,
            _ => (Pop3Verb)(-1),
        };
        return (int)verb >= 0;
    }

    private static Pop3Command? ParseRestOfLine(Pop3Verb verb, ReadOnlySpan<char> rest)
    {
        // USER names never contain spaces at the ends; a password is taken verbatim.
        var value = verb == Pop3Verb.User ? rest.Trim(' ') : rest;
        return value.IsEmpty ? null : new Pop3Command(verb, Argument: value.ToString());
    }

    private static Pop3Command? ParseWords(Pop3Verb verb, ReadOnlySpan<char> rest, int min, int max)
    {
        Span<Range> ranges = stackalloc Range[max + 1];
        var count = rest.Split(ranges, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count < min || count > max)
        {
            return null;
        }

        return new Pop3Command(
            verb,
            Argument: count > 0 ? rest[ranges[0]].ToString() : null,
            SecondArgument: count > 1 ? rest[ranges[1]].ToString() : null);
    }

    private static Pop3Command? ParseNumbers(Pop3Verb verb, ReadOnlySpan<char> rest, int min, int max)
    {
        Span<Range> ranges = stackalloc Range[max + 1];
        var count = rest.Split(ranges, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count < min || count > max)
        {
            return null;
        }

        long? first = null;
        long? second = null;
        for (var i = 0; i < count; i++)
        {
            if (!TryParseNumber(rest[ranges[i]], out var value))
            {
                return null;
            }

            if (i == 0)
            {
                first = value;
            }
            else
            {
                second = value;
            }
        }

        return new Pop3Command(verb, MessageNumber: first, LineCount: second);
    }

    /// <summary>1*DIGIT; values past the range of a long saturate (they name no message anyway).</summary>
    private static bool TryParseNumber(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : (value * 10) + (c - '0');
        }

        return true;
    }
}
