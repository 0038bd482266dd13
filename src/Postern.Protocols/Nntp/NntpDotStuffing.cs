using System.Buffers;

namespace Postern.Protocols.Nntp;

public enum DotDecodeStatus
{
    NeedMoreData = 0,

    /// <summary>The terminating "." line was read and consumed.</summary>
    Complete = 1,
}

/// <summary>RFC 3977 §3.1.1 multi-line blocks: dot-stuffing on the way out, un-stuffing on the way in.</summary>
public static class NntpDotStuffing
{
    /// <summary>
    /// Writes content as a dot-stuffed block: every line ends in CRLF (bare LF is normalized), a line
    /// starting with "." gets another, and the block ends with ".CRLF".
    /// </summary>
    public static void WriteBlock(IBufferWriter<byte> output, ReadOnlySpan<byte> content)
    {
        var atLineStart = true;
        while (!content.IsEmpty)
        {
            if (atLineStart && content[0] == (byte)'.')
            {
                output.Write("."u8);
            }

            var lf = content.IndexOf((byte)'\n');
            if (lf < 0)
            {
                output.Write(content);
                output.Write("\r\n"u8);
                atLineStart = true;
                break;
            }

            var line = content[..lf];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            output.Write(line);
            output.Write("\r\n"u8);
            content = content[(lf + 1)..];
            atLineStart = true;
        }

        output.Write(".\r\n"u8);
    }
}

/// <summary>
/// Reads a dot-stuffed block incrementally (POST, IHAVE, TAKETHIS bodies), un-stuffing and normalizing line
/// endings to CRLF, without any line-length limit: long lines are passed through in pieces.
/// </summary>
public sealed class NntpDotDecoder
{
    private bool _atLineStart = true;
    private bool _pendingCr;

    /// <summary>Bytes of decoded content so far (also counted when discarding).</summary>
    public long Length { get; private set; }

    /// <summary>Consumes from <paramref name="buffer"/>; decoded bytes go to <paramref name="output"/> (null discards them).</summary>
    public DotDecodeStatus Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte>? output)
    {
        var reader = new SequenceReader<byte>(buffer);
        try
        {
            while (!reader.End)
            {
                if (_atLineStart)
                {
                    if (!reader.TryPeek(out var first))
                    {
                        return DotDecodeStatus.NeedMoreData;
                    }

                    if (first == (byte)'.')
                    {
                        if (!reader.TryPeek(1, out var second))
                        {
                            return DotDecodeStatus.NeedMoreData;
                        }

                        if (second == (byte)'\n')
                        {
                            reader.Advance(2);
                            return DotDecodeStatus.Complete;
                        }

                        if (second == (byte)'\r')
                        {
                            if (!reader.TryPeek(2, out var third))
                            {
                                return DotDecodeStatus.NeedMoreData;
                            }

                            if (third == (byte)'\n')
                            {
                                reader.Advance(3);
                                return DotDecodeStatus.Complete;
                            }
                        }

                        // A stuffed line: drop the leading dot.
                        reader.Advance(1);
                    }

                    _atLineStart = false;
                }

                if (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
                {
                    if (_pendingCr && !line.IsEmpty)
                    {
                        // The held-back CR was not followed by LF: it was data.
                        Emit(output, "\r"u8);
                    }

                    _pendingCr = false;
                    if (!line.IsEmpty && line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r')
                    {
                        line = line.Slice(0, line.Length - 1);
                    }

                    Emit(output, line);
                    Emit(output, "\r\n"u8);
                    _atLineStart = true;
                }
                else
                {
                    // No LF yet: pass the partial line on, so a long line never has to fit in memory at once;
                    // a final CR is held back until we know whether LF follows.
                    var rest = reader.UnreadSequence;
                    if (_pendingCr)
                    {
                        Emit(output, "\r"u8);
                    }

                    _pendingCr = rest.Slice(rest.Length - 1).FirstSpan[0] == (byte)'\r';
                    Emit(output, _pendingCr ? rest.Slice(0, rest.Length - 1) : rest);
                    reader.AdvanceToEnd();
                    return DotDecodeStatus.NeedMoreData;
                }
            }

            return DotDecodeStatus.NeedMoreData;
        }
        finally
        {
            buffer = buffer.Slice(reader.Position);
        }
    }

    private void Emit(IBufferWriter<byte>? output, ReadOnlySpan<byte> bytes)
    {
        Length += bytes.Length;
        output?.Write(bytes);
    }

    private void Emit(IBufferWriter<byte>? output, ReadOnlySequence<byte> bytes)
    {
        Length += bytes.Length;
        if (output is null)
        {
            return;
        }

        foreach (var segment in bytes)
        {
            output.Write(segment.Span);
        }
    }
}
