using MimeKit;

namespace Postern.Server.Imap;

/// <summary>
/// Whether a part's encoded content decodes without guessing. MimeKit's decoders are lenient (they skip what they cannot
/// read), which is right for displaying mail but not for BINARY, whose answer claims to be the decoded octets (RFC 3516
/// §4.2): content that does not decode strictly gets NO [PARSE], as Dovecot answers ("Invalid data in MIME part").
/// </summary>
internal static class ImapEncodedContent
{
    public static bool IsDecodable(MimePart part)
    {
        if (part.Content is null || part.ContentTransferEncoding is not (ContentEncoding.Base64 or ContentEncoding.QuotedPrintable))
        {
            return true;
        }

        using var encoded = new MemoryStream();
        part.Content.WriteTo(encoded);
        var octets = encoded.GetBuffer().AsSpan(0, (int)encoded.Length);
        return part.ContentTransferEncoding == ContentEncoding.Base64 ? IsBase64(octets) : IsQuotedPrintable(octets);
    }

    /// <summary>RFC 2045 §6.8: the alphabet, with line breaks and blanks between; "=" pads only the end of the data.</summary>
    public static bool IsBase64(ReadOnlySpan<byte> octets)
    {
        var symbols = 0;
        var padding = 0;
        foreach (var b in octets)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            if (b == (byte)'=')
            {
                padding++;
                continue;
            }

            // Data after padding ("aGVsbG8=aGVsbG8=") or a character outside the alphabet.
            if (padding > 0 || !(b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'+' or (byte)'/'))
            {
                return false;
            }

            symbols++;
        }

        // Whole quanta only (RFC 2045 §6.8: a short last one is padded with "="): MimeKit's decoder drops an unpadded
        // tail, so "aGVsbG8" would answer "hel" as if it were all. A lone symbol holds no whole octet; padding never
        // exceeds two nor fills a quantum of its own.
        return symbols % 4 != 1 && padding <= 2 && (symbols + padding) % 4 == 0;
    }

    /// <summary>RFC 2045 §6.7: "=" is followed by two hexadecimal digits, or ends the line (a soft line break).</summary>
    public static bool IsQuotedPrintable(ReadOnlySpan<byte> octets)
    {
        for (var i = 0; i < octets.Length; i++)
        {
            if (octets[i] != (byte)'=')
            {
                continue;
            }

            // A soft line break; blanks before the line end were added in transport (rule 3).
            var rest = octets[(i + 1)..].TrimStart(" \t"u8);
            if (rest.IsEmpty || rest[0] == (byte)'\n' || (rest[0] == (byte)'\r' && (rest.Length == 1 || rest[1] == (byte)'\n')))
            {
                continue;
            }

            if (octets.Length - i < 3 || !Uri.IsHexDigit((char)octets[i + 1]) || !Uri.IsHexDigit((char)octets[i + 2]))
            {
                return false;
            }

            i += 2;
        }

        return true;
    }
}
