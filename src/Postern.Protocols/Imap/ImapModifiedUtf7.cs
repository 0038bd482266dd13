using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>
/// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): printable US-ASCII other than "&amp;" stands for itself,
/// "&amp;" is "&amp;-", everything else is UTF-16 in modified BASE64 ("," instead of "/", no padding) between "&amp;" and "-".
/// </summary>
public static class ImapModifiedUtf7
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

    public static string Encode(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        var i = 0;
        while (i < name.Length)
        {
            var c = name[i];
            if (c is >= '\x20' and <= '\x7e')
            {
                builder.Append(c == '&' ? "&-" : c);
                i++;
                continue;
            }

            // Collect the run of characters that need encoding and write it as one shifted sequence.
            var start = i;
            while (i < name.Length && name[i] is < '\x20' or > '\x7e')
            {
                i++;
            }

            builder.Append('&');
            int bits = 0, buffer = 0;
            for (var k = start; k < i; k++)
            {
                buffer = (buffer << 16) | name[k];
                bits += 16;
                while (bits >= 6)
                {
                    bits -= 6;
                    builder.Append(Alphabet[(buffer >> bits) & 0x3F]);
                }

                buffer &= (1 << bits) - 1;
            }

            if (bits > 0)
            {
                builder.Append(Alphabet[(buffer << (6 - bits)) & 0x3F]);
            }

            builder.Append('-');
        }

        return builder.ToString();
    }

    /// <summary>
    /// Decodes strictly: the result must encode back to exactly <paramref name="encoded"/> (RFC 3501 §5.1.3 forbids
    /// encoding printable ASCII, adjacent shifted runs, and non-zero padding bits), so every name has one spelling.
    /// </summary>
    public static bool TryDecode(string encoded, out string name)
    {
        name = string.Empty;
        var builder = new StringBuilder(encoded.Length);
        var i = 0;
        while (i < encoded.Length)
        {
            var c = encoded[i];
            if (c is < '\x20' or > '\x7e')
            {
                return false;
            }

            if (c != '&')
            {
                builder.Append(c);
                i++;
                continue;
            }

            var end = encoded.IndexOf('-', i + 1);
            if (end < 0)
            {
                return false;
            }

            if (end == i + 1)
            {
                builder.Append('&');
                i = end + 1;
                continue;
            }

            int bits = 0, buffer = 0;
            var charsInRun = 0;
            for (var k = i + 1; k < end; k++)
            {
                var value = Alphabet.IndexOf(encoded[k], StringComparison.Ordinal);
                if (value < 0)
                {
                    return false;
                }

                buffer = (buffer << 6) | value;
                bits += 6;
                if (bits >= 16)
                {
                    bits -= 16;
                    builder.Append((char)((buffer >> bits) & 0xFFFF));
                    buffer &= (1 << bits) - 1;
                    charsInRun++;
                }
            }

            // Leftover bits must be fewer than 6 and all zero.
            if (bits >= 6 || buffer != 0 || charsInRun == 0)
            {
                return false;
            }

            i = end + 1;
        }

        var decoded = builder.ToString();

        // Canonical form only (also rejects broken surrogate pairs and shifted printable ASCII).
        if (!string.Equals(Encode(decoded), encoded, StringComparison.Ordinal) || !IsWellFormedUtf16(decoded))
        {
            return false;
        }

        name = decoded;
        return true;
    }

    private static bool IsWellFormedUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}
