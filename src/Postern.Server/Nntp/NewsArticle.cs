using System.Text;
using MimeKit;

namespace Postern.Server.Nntp;

/// <summary>
/// An article as header fields (parsed by MimeKit) and the untouched body bytes, so a relay can change
/// Path or add Injection-Date without re-encoding anything else.
/// </summary>
internal sealed class NewsArticle
{
    private static readonly FormatOptions s_format = CreateFormat();

    private NewsArticle(HeaderList headers, ReadOnlyMemory<byte> body)
    {
        Headers = headers;
        Body = body;
    }

    public HeaderList Headers { get; }

    public ReadOnlyMemory<byte> Body { get; }

    public static NewsArticle? TryParse(ReadOnlyMemory<byte> content)
    {
        var (headerLength, bodyStart) = FindHeaderEnd(content.Span);
        if (headerLength == 0)
        {
            return null;
        }

        try
        {
            var headerBytes = new byte[headerLength + 2];
            content.Span[..headerLength].CopyTo(headerBytes);
            "\r\n"u8.CopyTo(headerBytes.AsSpan(headerLength));
            using var stream = new MemoryStream(headerBytes, writable: false);
            var headers = HeaderList.Load(stream);
            return headers.Count == 0 ? null : new NewsArticle(headers, content[bodyStart..]);
        }
        catch (Exception ex) when (ex is ParseException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Parses a stored header block (for OVER and HDR); an unparsable one gives an empty list.</summary>
    public static HeaderList ParseHeaders(byte[] headerBlock)
    {
        try
        {
            using var stream = new MemoryStream([.. headerBlock, .. "\r\n\r\n"u8], writable: false);
            return HeaderList.Load(stream);
        }
        catch (Exception ex) when (ex is ParseException or FormatException or ArgumentException)
        {
            return [];
        }
    }

    /// <summary>
    /// A header's octets as the article has them, unfolded: CR and LF removed, TAB (and NUL) turned into space
    /// (RFC 3977 §8.3.2). OVER and HDR send these octets, 8-bit or not, as HEAD does and as INN does.
    /// </summary>
    public static byte[]? RawOctets(HeaderList headers, string field)
    {
        var index = headers.IndexOf(field);
        if (index < 0)
        {
            return null;
        }

        var raw = headers[index].RawValue;
        var unfolded = new byte[raw.Length];
        var length = 0;
        foreach (var octet in raw)
        {
            if (octet is (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            unfolded[length++] = octet is (byte)'\t' or 0 ? (byte)' ' : octet;
        }

        return unfolded.AsSpan(0, length).Trim((byte)' ').ToArray();
    }

    /// <summary>A header's value unfolded (<see cref="RawOctets"/>), as text for matching and comparing.</summary>
    public static string? RawValue(HeaderList headers, string field) => RawOctets(headers, field) is { } octets ? Decode(octets) : null;

    public string? Get(string field) => RawValue(Headers, field);

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// A header's octets as text: UTF-8 (RFC 6532) when they are, else Latin-1, as old newsreaders wrote unencoded 8-bit
    /// headers; each octet stays a character instead of all becoming U+FFFD when an XPAT pattern is matched.
    /// </summary>
    public static string Decode(byte[] raw)
    {
        try
        {
            return s_strictUtf8.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(raw);
        }
    }

    // RFC 5322 §3.6 (at most one Date, From, Sender, Reply-To, To, Cc, Message-ID, In-Reply-To, References, Subject)
    // and RFC 5536 §3 (the news header fields): a second copy would be read one way here and another way by a peer
    // or a newsreader; INN refuses such an article too ("Duplicate header").
    private static readonly HashSet<string> s_singleFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "From", "Sender", "Reply-To", "To", "Cc", "Message-ID", "In-Reply-To", "References", "Subject",
        "Newsgroups", "Path", "Followup-To", "Expires", "Control", "Supersedes", "Distribution", "Approved", "Organization",
    };

    /// <summary>Why the header block is malformed (a line that is not "name: value", a repeated field), or null.</summary>
    public string? HeaderProblem()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in Headers)
        {
            // RFC 5322 §2.2 and §3.6.8: field-name = 1*ftext (printable US-ASCII but ':'), then the colon at once.
            if (header.RawField.Length == 0 || header.RawField.Any(b => b is < 33 or > 126 or (byte)':'))
            {
                return "Malformed header line";
            }

            if (s_singleFields.TryGetValue(header.Field, out var name) && !seen.Add(name))
            {
                return $"Duplicate {name} header";
            }
        }

        return null;
    }

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream(Body.Length + 1024);
        Headers.WriteTo(s_format, stream);

        // HeaderList.WriteTo ends the block with the empty line itself; add it only if it did not.
        if (!stream.GetBuffer().AsSpan(0, (int)stream.Length).EndsWith("\r\n\r\n"u8))
        {
            stream.Write("\r\n"u8);
        }

        // As ARTICLE sends it, so the :bytes and :lines of OVER and HDR agree with it (RFC 3977 §8.4.2).
        Store.CrlfLineEnds.Write(stream, Body.Span);
        return stream.ToArray();
    }

    /// <summary>Length of the header block and where the body starts (after the first empty line).</summary>
    internal static (int HeaderLength, int BodyStart) FindHeaderEnd(ReadOnlySpan<byte> content)
    {
        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] != (byte)'\n')
            {
                continue;
            }

            if (i + 1 < content.Length && content[i + 1] == (byte)'\n')
            {
                return (i + 1, i + 2);
            }

            if (i + 2 < content.Length && content[i + 1] == (byte)'\r' && content[i + 2] == (byte)'\n')
            {
                return (i + 1, i + 3);
            }
        }

        // No body: the whole article is headers.
        return (content.Length, content.Length);
    }

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
