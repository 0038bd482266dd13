using System.Buffers;

namespace Postern.Protocols.Pop3;

/// <summary>
/// Turns message content, fed in chunks of any size, into the body of a RETR or TOP reply:
/// CRLF line ends, dot-stuffing, and for TOP only the header and the first n body lines.
/// </summary>
/// <remarks>
/// RFC 1939 §3: "each line is terminated by a CRLF pair ... If any line of the multi-line response begins with
/// the termination octet, the line is 'byte-stuffed' by pre-pending the termination octet to that line".
/// RFC 1939 §7 TOP: "the POP3 server sends the headers of the message, the blank line separating the headers
/// from the body, and then the number of lines of the indicated message's body". A bare LF in stored content
/// is sent as CRLF, so the reply is always well-formed whatever the content.
/// </remarks>
public sealed class Pop3MessageEncoder(long? bodyLineLimit = null)
{
    private bool _atLineStart = true;
    private bool _lastWasCr;
    private long _lineLength;
    private bool _inHeader = true;
    private long _bodyLines;

    /// <summary>TOP has sent all it wants; further content is ignored.</summary>
    public bool IsComplete { get; private set; }

    public void Write(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
    {
        while (!chunk.IsEmpty && !IsComplete)
        {
            if (_atLineStart)
            {
                if (chunk[0] == (byte)'.')
                {
                    output.Write("."u8);
                }

                _atLineStart = false;
                _lineLength = 0;
                _lastWasCr = false;
            }

            var lf = chunk.IndexOf((byte)'\n');
            if (lf < 0)
            {
                output.Write(chunk);
                _lineLength += chunk.Length;
                _lastWasCr = chunk[^1] == (byte)'\r';
                return;
            }

            var segment = chunk[..lf];
            var endsWithCr = segment.IsEmpty ? _lastWasCr : segment[^1] == (byte)'\r';
            output.Write(segment);
            output.Write(endsWithCr ? "\n"u8 : "\r\n"u8);
            var length = _lineLength + segment.Length - (endsWithCr ? 1 : 0);
            EndLine(length == 0);
            chunk = chunk[(lf + 1)..];
        }
    }

    /// <summary>Ends the last line if the content did not, and writes the terminating ".CRLF".</summary>
    public void Finish(IBufferWriter<byte> output)
    {
        if (!_atLineStart)
        {
            output.Write(_lastWasCr ? "\n"u8 : "\r\n"u8);
            _atLineStart = true;
        }

        output.Write(".\r\n"u8);
    }

    private void EndLine(bool empty)
    {
        _atLineStart = true;
        _lastWasCr = false;
        if (bodyLineLimit is not { } limit)
        {
            return;
        }

        if (_inHeader)
        {
            if (empty)
            {
                _inHeader = false;
                IsComplete = limit <= 0;
            }

            return;
        }

        _bodyLines++;
        IsComplete = _bodyLines >= limit;
    }
}
