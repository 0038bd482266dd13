using System.Globalization;

namespace Postern.Protocols.Nntp;

/// <summary>Argument syntax of RFC 3977: ranges, message-ids, dates.</summary>
public static class NntpSyntax
{
    /// <summary>RFC 3977 §3.6: "&lt;" ... "&gt;", at most 250 octets, printable US-ASCII without "&gt;" inside.</summary>
    public static bool IsMessageId(string? text)
    {
        if (text is null || text.Length < 3 || text.Length > 250 || text[0] != '<' || text[^1] != '>')
        {
            return false;
        }

        for (var i = 1; i < text.Length - 1; i++)
        {
            var c = text[i];
            if (c is < '!' or > '~' || c == '>')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The Message-ID an injecting agent accepts in an article (RFC 5536 §3.1.3), stricter than a command's (RFC 3977 §3.6):
    /// "&lt;" id-left "@" id-right "&gt;", id-left a dot-atom-text or no-fold-quote, id-right a dot-atom-text or no-fold-literal.
    /// INN refuses the others ("&lt;@&gt;", "&lt;a&lt;b@c&gt;") too.
    /// </summary>
    /// <remarks>
    /// no-fold-quote = DQUOTE *( mqtext / "\\" / "\" DQUOTE ) mqtext *( ... ) DQUOTE;
    /// no-fold-literal = "[" *( mdtext / "\[" / "\]" / "\\" ) mdtext *( ... ) "]".
    /// </remarks>
    public static bool IsArticleMessageId(string? text)
    {
        if (!IsMessageId(text))
        {
            return false;
        }

        var core = text.AsSpan(1, text!.Length - 2);
        int at;
        if (core.StartsWith('"'))
        {
            at = EndOfEscaped(core, '"', c => c is '!' or (>= '#' and <= '=') or (>= '?' and <= '[') or (>= ']' and <= '~'), c => c is '\\' or '"');
        }
        else
        {
            at = core.IndexOf('@');
            if (at < 0 || !IsDotAtomText(core[..at]))
            {
                return false;
            }
        }

        if (at < 0 || at >= core.Length || core[at] != '@')
        {
            return false;
        }

        var right = core[(at + 1)..];
        return right.StartsWith('[')
            ? EndOfEscaped(right, ']', c => c is (>= '!' and <= '=') or (>= '?' and <= 'Z') or (>= '^' and <= '~'), c => c is '[' or ']' or '\\') == right.Length
            : IsDotAtomText(right);
    }

    // RFC 5322 §3.2.3: 1*atext *("." 1*atext).
    private static bool IsDotAtomText(ReadOnlySpan<char> text)
    {
        foreach (var atom in text.Split('.'))
        {
            if (atom.Start.Equals(atom.End) || text[atom].ContainsAnyExcept(s_atext))
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    private static readonly System.Buffers.SearchValues<char> s_atext =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~");

    /// <summary>Where a quote or literal that opens at 0 ends (the index after its closing character), or -1.</summary>
    private static int EndOfEscaped(ReadOnlySpan<char> text, char close, Func<char, bool> isText, Func<char, bool> isEscapable)
    {
        var hasText = false;
        for (var i = 1; i < text.Length; i++)
        {
            var c = text[i];
            if (c == close)
            {
                return hasText ? i + 1 : -1;
            }

            if (c == '\\' && i + 1 < text.Length && isEscapable(text[i + 1]))
            {
                i++;
            }
            else if (isText(c))
            {
                hasText = true;
            }
            else
            {
                return -1;
            }
        }

        return -1;
    }

    /// <summary>RFC 3977 §6: an article number is 1 to 16 digits; values beyond a long are refused.</summary>
    public static bool TryParseNumber(string text, out long number) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number is >= 0 && text.Length <= 16;

    /// <summary>RFC 3977 §3.2.1.1 range: "n", "n-" or "n-m". An open end is returned as long.MaxValue.</summary>
    public static bool TryParseRange(string text, out long low, out long high)
    {
        low = 0;
        high = 0;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            if (!TryParseNumber(text, out low))
            {
                return false;
            }

            high = low;
            return true;
        }

        if (!TryParseNumber(text[..dash], out low))
        {
            return false;
        }

        var rest = text[(dash + 1)..];
        if (rest.Length == 0)
        {
            high = long.MaxValue;
            return true;
        }

        return TryParseNumber(rest, out high);
    }

    /// <summary>
    /// RFC 3977 §7.3.2 date and time of NEWGROUPS/NEWNEWS: date is yymmdd or yyyymmdd, time hhmmss, UTC
    /// (the optional "GMT" changes nothing: we always use UTC). A two-digit year is taken within the current
    /// century if not in the future, otherwise the previous one.
    /// </summary>
    public static bool TryParseDateTime(string date, string time, DateTimeOffset now, out DateTimeOffset value)
    {
        value = default;
        if (time.Length != 6 || !time.All(char.IsAsciiDigit) || date.Length is not (6 or 8) || !date.All(char.IsAsciiDigit))
        {
            return false;
        }

        int year;
        if (date.Length == 6)
        {
            var yy = int.Parse(date[..2], CultureInfo.InvariantCulture);
            var century = now.Year / 100 * 100;
            year = century + yy;
            if (year > now.Year)
            {
                year -= 100;
            }
        }
        else
        {
            year = int.Parse(date[..4], CultureInfo.InvariantCulture);
        }

        var md = date[^4..];
        var month = int.Parse(md[..2], CultureInfo.InvariantCulture);
        var day = int.Parse(md[2..], CultureInfo.InvariantCulture);
        var hour = int.Parse(time[..2], CultureInfo.InvariantCulture);
        var minute = int.Parse(time[2..4], CultureInfo.InvariantCulture);
        var second = int.Parse(time[4..], CultureInfo.InvariantCulture);
        if (year is < 1 or > 9999 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        value = new DateTimeOffset(year, month, day, hour, minute, Math.Min(second, 59), TimeSpan.Zero);
        return true;
    }

    /// <summary>RFC 3977 §7.1 DATE reply value: yyyymmddhhmmss in UTC.</summary>
    public static string FormatDate(DateTimeOffset when) => when.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
}
