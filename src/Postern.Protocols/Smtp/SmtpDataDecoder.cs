using System.Buffers;

namespace Postern.Protocols.Smtp;

/// <summary>
/// Decodes the DATA stream (RFC 5321 §4.1.1.4, §4.5.2): removes dot-stuffing and finds the one terminator
/// CRLF "." CRLF. A bare CR or bare LF anywhere is remembered (SMTP smuggling, CVE-2023-51764) but never
/// ends the data, so the session stays in step with the client and can refuse the message afterwards.
/// Output stops at the size limit (the rest is read and dropped), so memory stays bounded.
/// </summary>
public sealed class SmtpDataDecoder
{
    private readonly IBufferWriter<byte> _output;
    private readonly long _maxSize;
    private readonly int _maxLineLength;
    private State _state = State.LineStart;
    private int _lineLength;

    /// <param name="maxLineLength">Longest text line in octets, CRLF included (RFC 5321 §4.5.3.1.6: 1000).</param>
    public SmtpDataDecoder(IBufferWriter<byte> output, long maxSize, int maxLineLength)
    {
        _output = output;
        _maxSize = maxSize;
        _maxLineLength = maxLineLength;
    }

    private enum State
    {
        LineStart = 0,
        InLine = 1,
        SawCarriageReturn = 2,
        DotAtLineStart = 3,
        DotCarriageReturn = 4,
        Done = 5,
    }

    /// <summary>Octets of message content (after unstuffing), counted even past the limit.</summary>
    public long Size { get; private set; }

    public bool TooLarge => Size > _maxSize;

    public bool SawBareLineFeed { get; private set; }

    public bool SawBareCarriageReturn { get; private set; }

    public bool LineTooLong { get; private set; }

    public bool IsComplete => _state == State.Done;

    /// <summary>Feeds bytes; returns true once CRLF.CRLF was seen. <paramref name="consumed"/> counts bytes used (up to the terminator).</summary>
    public bool Decode(ReadOnlySpan<byte> input, out int consumed)
    {
        var i = 0;
        while (i < input.Length)
        {
            switch (_state)
            {
                case State.Done:
                    consumed = i;
                    return true;
                case State.LineStart:
                    if (input[i] == (byte)'.')
                    {
                        _state = State.DotAtLineStart;
                        i++;
                        continue;
                    }

                    _state = State.InLine;
                    continue;
                case State.DotAtLineStart:
                    if (input[i] == (byte)'\r')
                    {
                        _state = State.DotCarriageReturn;
                        i++;
                        continue;
                    }

                    // RFC 5321 §4.5.2: a leading period is removed; the rest of the line is content. The removed
                    // period does not count towards the line limit (§4.5.3.1.6: "not counting the leading dot
                    // duplicated for transparency").
                    _state = State.InLine;
                    continue;
                case State.DotCarriageReturn:
                    if (input[i] == (byte)'\n')
                    {
                        _state = State.Done;
                        consumed = i + 1;
                        return true;
                    }

                    // ".\r" followed by anything but LF: a bare CR; keep it as content.
                    SawBareCarriageReturn = true;
                    Emit("\r"u8);
                    _state = State.InLine;
                    continue;
                case State.SawCarriageReturn:
                    if (input[i] == (byte)'\n')
                    {
                        Emit("\r\n"u8);
                        EndLine(2);
                        i++;
                        _state = State.LineStart;
                        continue;
                    }

                    SawBareCarriageReturn = true;
                    Emit("\r"u8);
                    _lineLength++;
                    _state = State.InLine;
                    continue;
                default:
                    {
                        var rest = input[i..];
                        var stop = rest.IndexOfAny((byte)'\r', (byte)'\n');
                        var run = stop < 0 ? rest : rest[..stop];
                        Emit(run);
                        _lineLength += run.Length;
                        CheckLine(0);
                        i += run.Length;
                        if (stop < 0)
                        {
                            continue;
                        }

                        if (rest[stop] == (byte)'\r')
                        {
                            _state = State.SawCarriageReturn;
                        }
                        else
                        {
                            // A bare LF is content, not a line end: "\n.\n" can never terminate the data.
                            SawBareLineFeed = true;
                            Emit("\n"u8);
                            EndLine(1);
                        }

                        i++;
                        continue;
                    }
            }
        }

        consumed = i;
        return _state == State.Done;
    }

    private void EndLine(int terminatorLength)
    {
        CheckLine(terminatorLength);
        _lineLength = 0;
    }

    private void CheckLine(int terminatorLength)
    {
        if (_lineLength + terminatorLength > _maxLineLength)
        {
            LineTooLong = true;
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var before = Size;
        Size += bytes.Length;
        if (before >= _maxSize)
        {
            return;
        }

        var room = (int)Math.Min(bytes.Length, _maxSize - before);
        _output.Write(bytes[..room]);
    }
}
