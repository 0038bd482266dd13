namespace Postern.Store;

/// <summary>
/// Content as the line-oriented protocols send it: every line ending in CRLF, the last one included (a bare LF goes as
/// CRLF; content without a final line break gets one, as the terminating "." needs a line of its own). POP3's sizes
/// (RFC 1939 §5) and NNTP's :bytes (RFC 3977 §8.4.2) must be what is sent; one rule here for the size and the octets.
/// </summary>
public static class CrlfLineEnds
{
    /// <summary>The size of the content once every line ends in CRLF, without building it.</summary>
    public static long Size(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            return 0;
        }

        var bareLineFeeds = content.Count((byte)'\n') - content.Count("\r\n"u8);
        var finalLineBreak = content[^1] switch
        {
            (byte)'\n' => 0,
            (byte)'\r' => 1,
            _ => 2,
        };
        return content.Length + bareLineFeeds + finalLineBreak;
    }

    /// <summary>The content with every line ending in CRLF.</summary>
    public static byte[] ToArray(ReadOnlySpan<byte> content)
    {
        using var stream = new MemoryStream((int)Size(content));
        Write(stream, content);
        return stream.ToArray();
    }

    /// <summary>Writes the content with every line ending in CRLF.</summary>
    public static void Write(Stream stream, ReadOnlySpan<byte> content)
    {
        if (Size(content) == content.Length)
        {
            stream.Write(content);
            return;
        }

        while (!content.IsEmpty)
        {
            var lf = content.IndexOf((byte)'\n');
            var line = lf < 0 ? content : content[..lf];
            stream.Write(line.EndsWith("\r"u8) ? line[..^1] : line);
            stream.Write("\r\n"u8);
            content = lf < 0 ? [] : content[(lf + 1)..];
        }
    }
}
