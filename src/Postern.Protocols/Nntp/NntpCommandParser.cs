using System.Text;

namespace Postern.Protocols.Nntp;

/// <summary>A command line split into its keyword (upper-cased) and arguments.</summary>
public sealed record NntpCommand(string Keyword, IReadOnlyList<string> Arguments)
{
    /// <summary>The command line as sent (decoded, without CRLF).</summary>
    public string Line { get; init; } = "";

    public string? Argument(int index) => index < Arguments.Count ? Arguments[index] : null;

    /// <summary>
    /// The rest of the line after the first <paramref name="words"/> words (the keyword counts) and the one space or tab
    /// that follows them, verbatim: spaces inside or at the end of a password are part of it (RFC 4643 §2.3).
    /// Null when the line has nothing after those words.
    /// </summary>
    public string? RestAfter(int words)
    {
        var line = Line.AsSpan();
        var position = 0;
        for (var word = 0; word < words; word++)
        {
            while (position < line.Length && line[position] is ' ' or '\t')
            {
                position++;
            }

            if (position == line.Length)
            {
                return null;
            }

            while (position < line.Length && line[position] is not (' ' or '\t'))
            {
                position++;
            }
        }

        return position < line.Length ? Line[(position + 1)..] : null;
    }
}

public enum NntpParseStatus
{
    Ok = 0,
    Empty = 1,

    /// <summary>Not UTF-8, or contains control characters (RFC 3977 §3.1 forbids NUL, CR and LF in arguments).</summary>
    Invalid = 2,
}

/// <summary>RFC 3977 §3.1 command syntax: keyword and arguments separated by one or more spaces or tabs.</summary>
public static class NntpCommandParser
{
    private static readonly UTF8Encoding s_strictUtf8 = new(false, throwOnInvalidBytes: true);

    public const int MaxArguments = 32;

    public static NntpParseStatus TryParse(ReadOnlySpan<byte> line, out NntpCommand command)
    {
        command = new NntpCommand("", []);
        foreach (var b in line)
        {
            if (b < 0x20 && b != (byte)'\t' || b == 0x7F)
            {
                return NntpParseStatus.Invalid;
            }
        }

        string text;
        try
        {
            text = s_strictUtf8.GetString(line);
        }
        catch (DecoderFallbackException)
        {
            return NntpParseStatus.Invalid;
        }

        var parts = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return NntpParseStatus.Empty;
        }

        if (parts.Length > MaxArguments + 1 || parts[0].Length > 32 || !parts[0].All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            return NntpParseStatus.Invalid;
        }

        // RFC 3977 §3.1: keywords are case-insensitive.
        command = new NntpCommand(parts[0].ToUpperInvariant(), parts[1..]) { Line = text };
        return NntpParseStatus.Ok;
    }
}
