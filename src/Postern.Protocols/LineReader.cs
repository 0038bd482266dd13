using System.Buffers;

namespace Postern.Protocols;

public enum LineReadStatus
{
    /// <summary>A whole line was read (without its terminator).</summary>
    Line = 0,

    /// <summary>No line terminator yet; read more.</summary>
    NeedMoreData = 1,

    /// <summary>The line exceeds the limit; the bytes up to the next LF (or all buffered bytes) were consumed.</summary>
    TooLong = 2,
}

/// <summary>Reads CRLF-terminated command lines, the framing shared by SMTP, POP3, IMAP and NNTP.</summary>
public static class LineReader
{
    /// <summary>
    /// Reads one line terminated by LF (a preceding CR is stripped; a bare LF is accepted as a
    /// terminator for commands, as Postfix and Dovecot do). A line longer than <paramref name="maxLength"/>
    /// is reported as <see cref="LineReadStatus.TooLong"/> without waiting for its end.
    /// </summary>
    public static LineReadStatus TryReadLine(ref ReadOnlySequence<byte> buffer, int maxLength, out ReadOnlySequence<byte> line)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n', advancePastDelimiter: true))
        {
            if (raw.Length > 0 && raw.Slice(raw.Length - 1).FirstSpan[0] == (byte)'\r')
            {
                raw = raw.Slice(0, raw.Length - 1);
            }

            buffer = buffer.Slice(reader.Position);
            if (raw.Length > maxLength)
            {
                line = default;
                return LineReadStatus.TooLong;
            }

            line = raw;
            return LineReadStatus.Line;
        }

        if (buffer.Length > maxLength + 1)
        {
            // Drop what we have; the caller replies and then keeps discarding until the next LF.
            buffer = buffer.Slice(buffer.End);
            line = default;
            return LineReadStatus.TooLong;
        }

        line = default;
        return LineReadStatus.NeedMoreData;
    }
}
