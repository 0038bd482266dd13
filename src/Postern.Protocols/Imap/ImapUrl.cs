using System.Globalization;

namespace Postern.Protocols.Imap;

/// <summary>
/// An IMAP URL naming one message or a part of it (RFC 5092), as CATENATE's URL parts use it (RFC 4469 §3).
/// </summary>
/// <remarks>
/// <code>
/// imapurl-rel  = "/" enc-mailbox [uidvalidity] iuid [isection] [ipartial]       ; the absolute path form
/// imapurl      = "imap://" [iuserinfo "@"] host [":" port] imapurl-rel
/// uidvalidity  = ";UIDVALIDITY=" nz-number
/// iuid         = "/;UID=" nz-number
/// isection     = "/;SECTION=" enc-section
/// ipartial     = "/;PARTIAL=" number ["." nz-number]
/// </code>
/// URLAUTH (RFC 4467) and other parameters are not understood: such a URL does not parse.
/// </remarks>
public sealed record ImapUrl(string? User, string? Host, string Mailbox, uint? UidValidity, uint Uid, ImapSection Section, ulong? PartialOffset, ulong? PartialLength)
{
    private const string Scheme = "imap://";

    public static bool TryParse(string url, out ImapUrl parsed)
    {
        parsed = null!;
        string? user = null;
        string? host = null;
        var path = url;
        if (url.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            var slash = url.IndexOf('/', Scheme.Length);
            if (slash < 0)
            {
                return false;
            }

            var authority = url[Scheme.Length..slash];
            path = url[slash..];
            var at = authority.LastIndexOf('@');
            if (at >= 0)
            {
                var userInfo = authority[..at];
                var semicolon = userInfo.IndexOf(';', StringComparison.Ordinal);
                user = Unescape(semicolon < 0 ? userInfo : userInfo[..semicolon]);
                authority = authority[(at + 1)..];
            }

            host = authority.StartsWith('[') ? authority[..(authority.IndexOf(']', StringComparison.Ordinal) + 1)] : authority.Split(':')[0];
            if (host.Length == 0)
            {
                return false;
            }
        }

        if (!path.StartsWith('/'))
        {
            return false;
        }

        path = path[1..];
        var firstParameter = path.IndexOf(';', StringComparison.Ordinal);
        if (firstParameter <= 0)
        {
            return false;
        }

        // "/INBOX/;UID=1" or "/INBOX;UIDVALIDITY=5/;UID=1": UIDVALIDITY sits right after the name, everything else after "/".
        var encodedMailbox = path[..firstParameter];
        var validityFirst = !encodedMailbox.EndsWith('/');
        if (!validityFirst)
        {
            encodedMailbox = encodedMailbox[..^1];
        }

        var mailbox = Unescape(encodedMailbox);
        if (mailbox.Length == 0)
        {
            return false;
        }

        var parameters = path[(firstParameter + 1)..].Split("/;");
        var index = 0;
        uint? uidValidity = null;
        if (validityFirst)
        {
            if (!TryReadNumber(parameters[index++], "UIDVALIDITY", out var validity))
            {
                return false;
            }

            uidValidity = validity;
        }

        if (index >= parameters.Length || !TryReadNumber(parameters[index++], "UID", out var uid))
        {
            return false;
        }

        var section = ImapSection.Whole;
        if (index < parameters.Length && TryReadValue(parameters[index], "SECTION", out var sectionText))
        {
            index++;
            if (!ImapSection.TryParse(Unescape(sectionText), out section))
            {
                return false;
            }
        }

        ulong? offset = null;
        ulong? length = null;
        if (index < parameters.Length && TryReadValue(parameters[index], "PARTIAL", out var partial))
        {
            index++;
            var dot = partial.IndexOf('.', StringComparison.Ordinal);
            if (!ulong.TryParse(dot < 0 ? partial : partial[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                return false;
            }

            offset = start;
            if (dot >= 0)
            {
                if (!ulong.TryParse(partial[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count == 0)
                {
                    return false;
                }

                length = count;
            }
        }

        if (index != parameters.Length)
        {
            return false;
        }

        parsed = new ImapUrl(user, host, mailbox, uidValidity, uid, section, offset, length);
        return true;
    }

    private static bool TryReadValue(string parameter, string name, out string value)
    {
        value = string.Empty;
        if (parameter.Length <= name.Length || parameter[name.Length] != '=' || !parameter.StartsWith(name, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        value = parameter[(name.Length + 1)..];
        return value.Length > 0;
    }

    private static bool TryReadNumber(string parameter, string name, out uint value)
    {
        value = 0;
        return TryReadValue(parameter, name, out var text) && uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
    }

    // RFC 5092 §3: names and sections are UTF-8, %-escaped; an escape that is not valid UTF-8 stays as written.
    private static string Unescape(string text) => Uri.UnescapeDataString(text);
}
