namespace Postern.Store;

/// <summary>The size of message content as the line-oriented protocols send it.</summary>
public static class MessageSizes
{
    /// <summary>
    /// The size once every line ends in CRLF, the last one included: what POP3 RETR sends before byte-stuffing
    /// (a bare LF goes as CRLF; content without a final line break gets one, as the terminating "." needs a line of its own).
    /// </summary>
    public static long WithCrlfLineEnds(ReadOnlySpan<byte> content)
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
}
