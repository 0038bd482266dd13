using System.Text;

namespace Postern.Protocols.Smtp;

/// <summary>The grammar of RFC 5321 §4.1 command lines and paths (with RFC 6531 UTF-8 addresses).</summary>
public static class SmtpCommandParser
{
    /// <summary>The forward-path "&lt;Postmaster&gt;" (no domain) as <see cref="TryParsePath"/> gives it.</summary>
    public const string Postmaster = "Postmaster";

    private static readonly UTF8Encoding s_strictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>Splits a command line (without CRLF). Verbs are case-insensitive (RFC 5321 §2.4).</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out SmtpCommand command)
    {
        command = default;
        string text;
        try
        {
            text = s_strictUtf8.GetString(line);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        foreach (var c in text)
        {
            // Control characters other than TAB have no place in a command line.
            if (c < ' ' && c != '\t' || c == 127)
            {
                return false;
            }
        }

        var space = text.IndexOf(' ');
        var verbText = space < 0 ? text : text[..space];
        var argument = space < 0 ? "" : text[(space + 1)..];
        command = new SmtpCommand(Verb(verbText), argument);
        return true;
    }

    /// <summary>
    /// The verb of a line that <see cref="TryParse"/> refused: a known command with invalid characters in its
    /// argument is a 501, not a 500 (RFC 5321 §4.1.2).
    /// </summary>
    public static SmtpVerb VerbOf(ReadOnlySpan<byte> line)
    {
        var space = line.IndexOf((byte)' ');
        var verb = space < 0 ? line : line[..space];
        return verb.Length is > 0 and <= 8 && Ascii.IsValid(verb) ? Verb(Encoding.ASCII.GetString(verb)) : SmtpVerb.Unknown;
    }

    private static SmtpVerb Verb(string verbText) =>
        verbText.ToUpperInvariant() switch
        {
            "HELO" => SmtpVerb.Helo,
            "EHLO" => SmtpVerb.Ehlo,
            "MAIL" => SmtpVerb.Mail,
            "RCPT" => SmtpVerb.Rcpt,
            "DATA" => SmtpVerb.Data,
            "BDAT" => SmtpVerb.Bdat,
            "RSET" => SmtpVerb.Rset,
            "NOOP" => SmtpVerb.Noop,
            "QUIT" => SmtpVerb.Quit,
            "VRFY" => SmtpVerb.Vrfy,
            "EXPN" => SmtpVerb.Expn,
            "HELP" => SmtpVerb.Help,
            "STARTTLS" => SmtpVerb.StartTls,
            "AUTH" => SmtpVerb.Auth,
            _ => SmtpVerb.Unknown,
        };

    /// <summary>
    /// Parses the EHLO/HELO argument: a domain or an address literal (RFC 5321 §4.1.1.1). Lenient about
    /// underscores and a trailing dot as real clients send them, strict about spaces and empty names.
    /// </summary>
    public static bool TryParseHeloDomain(string argument, out string domain)
    {
        domain = argument.Trim();
        if (domain.Length is 0 or > 255 || domain.Contains(' ', StringComparison.Ordinal) || domain.Contains('\t', StringComparison.Ordinal))
        {
            return false;
        }

        if (domain[0] == '[')
        {
            return IsAddressLiteral(domain);
        }

        foreach (var c in domain)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' || c > 127))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses "FROM:&lt;path&gt; params" (MAIL) or "TO:&lt;path&gt; params" (RCPT).</summary>
    /// <param name="allowPostmaster">
    /// RCPT only: "&lt;Postmaster&gt;" without a domain is a valid forward-path (RFC 5321 §4.1.1.3), given as the address "Postmaster".
    /// </param>
    public static SmtpPathError TryParsePath(string argument, string prefix, bool allowNull, out SmtpPath? path, bool allowPostmaster = false)
    {
        path = null;
        if (!argument.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return SmtpPathError.Syntax;
        }

        // Tolerate "FROM: <a@b>", a common client deviation.
        var rest = argument.AsSpan(prefix.Length).TrimStart(' ');
        if (rest.IsEmpty || rest[0] != '<')
        {
            return SmtpPathError.Syntax;
        }

        var close = FindPathEnd(rest);
        if (close < 0)
        {
            return SmtpPathError.Syntax;
        }

        var inner = rest[1..close];
        var parametersText = rest[(close + 1)..];
        if (!parametersText.IsEmpty && parametersText[0] != ' ')
        {
            return SmtpPathError.Syntax;
        }

        string address;
        if (inner.IsEmpty)
        {
            if (!allowNull)
            {
                return SmtpPathError.Syntax;
            }

            address = "";
        }
        else if (allowPostmaster && inner.Equals(Postmaster, StringComparison.OrdinalIgnoreCase))
        {
            address = Postmaster;
        }
        else
        {
            // RFC 5321 §4.1.2: a source route (A-d-l ":") is accepted and ignored (Appendix C).
            if (inner[0] == '@')
            {
                var colon = inner.IndexOf(':');
                if (colon < 0)
                {
                    return SmtpPathError.Syntax;
                }

                inner = inner[(colon + 1)..];
            }

            if (!TryParseMailbox(inner, out address))
            {
                return SmtpPathError.Syntax;
            }
        }

        if (!TryParseParameters(parametersText, out var parameters))
        {
            return SmtpPathError.BadParameter;
        }

        path = new SmtpPath(address, Ascii.IsValid(address), parameters);
        return SmtpPathError.None;
    }

    /// <summary>Mailbox = Local-part "@" ( Domain / address-literal ); Local-part = Dot-string / Quoted-string.</summary>
    public static bool TryParseMailbox(ReadOnlySpan<char> text, out string address)
    {
        address = "";
        if (text.Length is 0 or > 254 + 2)
        {
            return false;
        }

        int at;
        if (text[0] == '"')
        {
            var i = 1;
            while (i < text.Length && text[i] != '"')
            {
                if (text[i] == '\\')
                {
                    // quoted-pairSMTP = %d92 %d32-126
                    if (i + 1 >= text.Length || text[i + 1] < 32 || text[i + 1] == 127)
                    {
                        return false;
                    }

                    i += 2;
                    continue;
                }

                // qtextSMTP = %d32-33 / %d35-91 / %d93-126, plus UTF-8 (RFC 6531)
                if (text[i] < 32 || text[i] == 127)
                {
                    return false;
                }

                i++;
            }

            if (i >= text.Length || i + 1 >= text.Length || text[i + 1] != '@')
            {
                return false;
            }

            at = i + 1;
        }
        else
        {
            at = text.LastIndexOf('@');
            if (at <= 0)
            {
                return false;
            }

            if (!IsDotString(text[..at]))
            {
                return false;
            }
        }

        if (Encoding.UTF8.GetByteCount(text[..at]) > 64)
        {
            // RFC 5321 §4.5.3.1.1: 64 octets of local part.
            return false;
        }

        var domain = text[(at + 1)..];
        if (domain.IsEmpty)
        {
            return false;
        }

        if (domain[0] == '[')
        {
            if (!IsAddressLiteral(domain))
            {
                return false;
            }
        }
        else if (!IsDomain(domain))
        {
            return false;
        }

        address = text[0] == '"' && Unquoted(text[1..(at - 1)]) is { } plain ? plain + text[at..].ToString() : text.ToString();
        return true;
    }

    /// <summary>
    /// A quoted local part that needs no quoting ("john"@x) is the same mailbox as the bare one (RFC 5321 §4.1.2,
    /// RFC 5322 §3.4.1), so it is given in the bare form; null when the quoting is needed.
    /// </summary>
    private static string? Unquoted(ReadOnlySpan<char> quoted)
    {
        var text = new StringBuilder(quoted.Length);
        for (var i = 0; i < quoted.Length; i++)
        {
            text.Append(quoted[i] == '\\' && i + 1 < quoted.Length ? quoted[++i] : quoted[i]);
        }

        var local = text.ToString();
        return IsDotString(local) ? local : null;
    }

    /// <summary>Dot-string = Atom *("." Atom) (RFC 5321 §4.1.2).</summary>
    private static bool IsDotString(ReadOnlySpan<char> local)
    {
        if (local.IsEmpty || local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in local)
        {
            if (!IsAtext(c) && c != '.')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 5321 atext (RFC 5322 §3.2.3), widened to any non-ASCII character by RFC 6531 §3.3.</summary>
    public static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || c > 127 || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal);

    private static bool IsDomain(ReadOnlySpan<char> domain)
    {
        if (domain.Length > 255)
        {
            return false;
        }

        foreach (var range in domain.Split('.'))
        {
            var label = domain[range];
            if (label.IsEmpty || label.Length > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c > 127))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool IsAddressLiteral(ReadOnlySpan<char> literal)
    {
        if (literal.Length < 3 || literal[0] != '[' || literal[^1] != ']')
        {
            return false;
        }

        var inner = literal[1..^1];
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
        {
            return System.Net.IPAddress.TryParse(inner[5..], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        return System.Net.IPAddress.TryParse(inner, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && inner.Count('.') == 3;
    }

    private static int FindPathEnd(ReadOnlySpan<char> text)
    {
        var quoted = false;
        for (var i = 1; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\\' when quoted:
                    i++;
                    break;
                case '"':
                    quoted = !quoted;
                    break;
                case '>' when !quoted:
                    return i;
            }
        }

        return -1;
    }

    /// <summary>esmtp-param = esmtp-keyword ["=" esmtp-value]; keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").</summary>
    private static bool TryParseParameters(ReadOnlySpan<char> text, out List<SmtpParameter> parameters)
    {
        parameters = [];
        foreach (var range in text.Split(' '))
        {
            var item = text[range];
            if (item.IsEmpty)
            {
                continue;
            }

            var eq = item.IndexOf('=');
            var keyword = eq < 0 ? item : item[..eq];
            if (keyword.IsEmpty || !char.IsAsciiLetterOrDigit(keyword[0]))
            {
                return false;
            }

            foreach (var c in keyword)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }

            string? value = null;
            if (eq >= 0)
            {
                var v = item[(eq + 1)..];

                // esmtp-value = 1*(%d33-60 / %d62-126), widened to UTF-8 by RFC 6531.
                if (v.IsEmpty)
                {
                    return false;
                }

                foreach (var c in v)
                {
                    if (c < 33 || c == '=' || c == 127)
                    {
                        return false;
                    }
                }

                value = v.ToString();
            }

            var name = keyword.ToString().ToUpperInvariant();
            if (parameters.Exists(p => p.Keyword == name))
            {
                // A keyword given twice leaves it open which value holds (two ENVIDs, two NOTIFYs…): refused, as Postfix does.
                return false;
            }

            parameters.Add(new SmtpParameter(name, value));
        }

        return true;
    }

    /// <summary>Whether an ORCPT value has the RFC 3461 §4.2 form.</summary>
    /// <remarks>original-recipient-address = addr-type ";" xtext; addr-type = atom.</remarks>
    public static bool IsOriginalRecipient(string value)
    {
        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        if (semicolon <= 0 || semicolon == value.Length - 1)
        {
            return false;
        }

        foreach (var c in value.AsSpan(0, semicolon))
        {
            if (c > 127 || !IsAtext(c))
            {
                return false;
            }
        }

        return TryDecodeXtext(value[(semicolon + 1)..], out _);
    }

    /// <summary>Decodes xtext (RFC 3461 §4): "+" followed by two upper-case hex digits.</summary>
    public static bool TryDecodeXtext(string text, out string decoded)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '+')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    decoded = "";
                    return false;
                }

                builder.Append((char)Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }

            if (c < 33 || c > 126 && c < 128)
            {
                decoded = "";
                return false;
            }

            builder.Append(c);
        }

        decoded = builder.ToString();
        return true;
    }

    /// <summary>Encodes xtext for the queue's ENVID/ORCPT round trip.</summary>
    public static string EncodeXtext(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is < '!' or > '~' or '+' or '=')
            {
                foreach (var b in Encoding.UTF8.GetBytes(c.ToString()))
                {
                    builder.Append('+').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
