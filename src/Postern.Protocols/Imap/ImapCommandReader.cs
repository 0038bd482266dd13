using System.Buffers;
using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>
/// Incremental push reader of IMAP commands: feed it whatever arrived, it consumes what it can and says what happened.
/// Framing (lines and the literals between them) is incremental; a complete command is then tokenized in one go by
/// <see cref="ImapCommandTokenizer"/>. Nothing is allocated for a literal before its size has passed the limits, and
/// literal buffers grow with the octets that actually arrive, so <c>{4294967295}</c> costs nothing.
/// </summary>
/// <remarks>
/// RFC 3501 §4.3 / RFC 9051 §4.3: <c>literal = "{" number64 ["+"] "}" CRLF *CHAR8</c>;
/// RFC 3516: <c>literal8 = "~{" number64 "}" CRLF *OCTET</c>; RFC 7888: <c>{n+}</c> is not synchronizing.
/// </remarks>
public sealed class ImapCommandReader
{
    private const int TailSize = 32;
    private const int MaxDigits = 19;
    private const int TagProbeLength = 1024;

    private enum Mode
    {
        Line,
        Literal,
        DiscardLine,
        DiscardLiteral,
    }

    private readonly List<ImapLiteralSegment> _literals = [];
    private readonly byte[] _tail = new byte[TailSize];
    private byte[] _buffer = new byte[256];
    private int _length;
    private Mode _mode;
    private long _remaining;
    private int _lineLength;
    private long _commandSize;
    private bool _rawLine;

    // Per-line scan state: whether we are inside a quoted string, and the last TailSize octets of the line.
    private bool _inQuote;
    private bool _escape;
    private int _tailPosition;
    private long _lineSeen;

    public ImapCommandReader(ImapLimits? limits = null)
    {
        Limits = limits ?? ImapLimits.Default;
    }

    /// <summary>The limits in force; a session may swap them (say after login) between commands.</summary>
    public ImapLimits Limits { get; set; }

    /// <summary>True while the reader is between commands (nothing half-read, nothing being discarded).</summary>
    public bool IsIdle => _mode == Mode.Line && _length == 0 && _lineLength == 0;

    /// <summary>
    /// Reads the next command from <paramref name="input"/>, which is advanced past every octet consumed. Call again
    /// with the remaining input until it returns <see cref="ImapReadStatus.NeedMoreData"/>.
    /// </summary>
    public ImapReadResult TryRead(ref ReadOnlySequence<byte> input)
    {
        _rawLine = false;
        return Run(ref input);
    }

    /// <summary>
    /// Reads one raw line (no tag, no literals): IDLE's "DONE" (RFC 2177) or a SASL response during AUTHENTICATE.
    /// Returns <see cref="ImapReadStatus.Line"/> with the text, CRLF removed.
    /// </summary>
    public ImapReadResult TryReadLine(ref ReadOnlySequence<byte> input)
    {
        _rawLine = true;
        return Run(ref input);
    }

    /// <summary>The command read so far: at a <see cref="ImapReadStatus.NeedContinuation"/>, up to the announced literal.</summary>
    public ReadOnlySpan<byte> PendingCommand => _buffer.AsSpan(0, _length);

    /// <summary>Forgets any partly read command.</summary>
    public void Reset()
    {
        _mode = Mode.Line;
        _remaining = 0;
        StartCommand();
    }

    private ImapReadResult Run(ref ReadOnlySequence<byte> input)
    {
        while (true)
        {
            switch (_mode)
            {
                case Mode.Line:
                    {
                        var result = ReadLinePart(ref input, out var again);
                        if (!again)
                        {
                            return result;
                        }

                        // An ignored empty line, or a non-synchronizing literal whose octets follow at once.
                        break;
                    }

                case Mode.Literal:
                    {
                        var take = (int)Math.Min(_remaining, input.Length);
                        if (take > 0)
                        {
                            Append(input.Slice(0, take));
                            input = input.Slice(take);
                            _remaining -= take;
                        }

                        if (_remaining > 0)
                        {
                            return ImapReadResult.NeedMoreData;
                        }

                        _mode = Mode.Line;
                        break;
                    }

                case Mode.DiscardLiteral:
                    {
                        var skip = Math.Min(_remaining, input.Length);
                        input = input.Slice(skip);
                        _remaining -= skip;
                        if (_remaining > 0)
                        {
                            return ImapReadResult.NeedMoreData;
                        }

                        _mode = Mode.DiscardLine;
                        break;
                    }

                case Mode.DiscardLine:
                    {
                        var position = input.PositionOf((byte)'\n');
                        if (position is null)
                        {
                            Scan(input);
                            input = input.Slice(input.End);
                            return ImapReadResult.NeedMoreData;
                        }

                        Scan(input.Slice(0, position.Value));
                        input = input.Slice(input.GetPosition(1, position.Value));
                        var marker = ReadMarker(out var size, out var nonSync, out _);
                        ResetLineScan();
                        if (marker && nonSync)
                        {
                            // The client keeps sending what it announced; swallow it to stay in sync, or give up.
                            if (size > Limits.MaxDiscardedLiteralSize)
                            {
                                Reset();
                                return new ImapReadResult(ImapReadStatus.LiteralTooLarge, LiteralSize: size, IsSynchronizing: false, MustClose: true,
                                    Message: "Literal too large to discard");
                            }

                            _remaining = size;
                            _mode = Mode.DiscardLiteral;
                            break;
                        }

                        // End of the refused command (a synchronizing literal ends it too: the client waits for "+" in vain
                        // and reads our tagged reply instead, RFC 3501 §7.5).
                        Reset();
                        break;
                    }
            }
        }
    }

    /// <summary>Reads up to the end of a line. <paramref name="again"/> says the caller should keep reading instead of returning.</summary>
    private ImapReadResult ReadLinePart(ref ReadOnlySequence<byte> input, out bool again)
    {
        again = false;
        var position = input.PositionOf((byte)'\n');
        var chunk = position is null ? input : input.Slice(0, position.Value);
        var consumed = position is null ? input.End : input.GetPosition(1, position.Value);

        // The CR of CRLF is not part of the line; allow one octet for it.
        if (_lineLength + chunk.Length > Limits.MaxLineLength + 1L)
        {
            return Refuse(ref input, chunk, position, ImapReadStatus.LineTooLong, "Line too long");
        }

        if (_commandSize + chunk.Length > Limits.MaxCommandSize)
        {
            return Refuse(ref input, chunk, position, ImapReadStatus.CommandTooLong, "Command too long");
        }

        Scan(chunk);
        Append(chunk);
        _lineLength += (int)chunk.Length;
        _commandSize += chunk.Length + (position is null ? 0 : 1);
        input = input.Slice(consumed);
        if (position is null)
        {
            return ImapReadResult.NeedMoreData;
        }

        // Normalise the line end to CRLF (a bare LF is tolerated). Only this line's own CR goes: a literal just before
        // an empty line may end in CR itself.
        if (_lineLength > 0 && _buffer[_length - 1] == (byte)'\r')
        {
            _length--;
        }

        if (_rawLine)
        {
            var text = Encoding.UTF8.GetString(_buffer, 0, _length);
            StartCommand();
            return new ImapReadResult(ImapReadStatus.Line, Line: text);
        }

        if (!ReadMarker(out var size, out var nonSync, out var binary))
        {
            AppendCrLf();
            ResetLineScan();
            return Complete(out again);
        }

        AppendCrLf();
        ResetLineScan();
        _lineLength = 0;
        var (tag, name) = ProbeTagAndName();
        // A message literal: APPEND's, or REPLACE's (RFC 8508), which carries the same append-message.
        var isAppend = name is "APPEND" or "REPLACE" or "UID REPLACE";
        var max = isAppend ? Limits.MaxAppendLiteralSize : Limits.MaxLiteralSize;
        ImapReadStatus? refusal = null;
        string? message = null;
        if (size > max)
        {
            refusal = ImapReadStatus.LiteralTooLarge;
            message = "Literal too large";
        }
        else if (nonSync && Limits.NonSynchronizingLiterals == ImapLiteralExtension.LiteralMinus && size > ImapLimits.LiteralMinusMaximum)
        {
            // RFC 7888 §4: LITERAL- allows {n+} only up to 4096 octets.
            refusal = ImapReadStatus.LiteralTooLarge;
            message = "Non-synchronizing literal larger than 4096 octets";
        }
        else if (_commandSize + size > Limits.MaxCommandSize || _length + size > Array.MaxLength)
        {
            refusal = ImapReadStatus.CommandTooLong;
            message = "Command too long";
        }
        else if (_literals.Count >= Limits.MaxLiteralCount)
        {
            refusal = ImapReadStatus.CommandTooLong;
            message = "Too many literals";
        }

        if (refusal is { } status)
        {
            if (!nonSync)
            {
                // The client sends nothing until it sees "+": refusing now costs nothing (RFC 3501 §7.5).
                Reset();
                return new ImapReadResult(status, tag, name, LiteralSize: size, IsSynchronizing: true, Message: message);
            }

            if (size > Limits.MaxDiscardedLiteralSize)
            {
                Reset();
                return new ImapReadResult(status, tag, name, LiteralSize: size, IsSynchronizing: false, MustClose: true, Message: message);
            }

            _mode = Mode.DiscardLiteral;
            _remaining = size;
            _length = 0;
            _literals.Clear();
            return new ImapReadResult(status, tag, name, LiteralSize: size, IsSynchronizing: false, Message: message);
        }

        _literals.Add(new ImapLiteralSegment(_length, (int)size, binary, nonSync));
        _commandSize += size;
        _mode = Mode.Literal;
        _remaining = size;
        if (!nonSync)
        {
            return new ImapReadResult(ImapReadStatus.NeedContinuation, tag, name, LiteralSize: size, IsSynchronizing: true);
        }

        // Non-synchronizing: carry on reading the literal's octets straight away.
        again = true;
        return ImapReadResult.NeedMoreData;
    }

    private ImapReadResult Refuse(ref ReadOnlySequence<byte> input, ReadOnlySequence<byte> chunk, SequencePosition? lineEnd, ImapReadStatus status,
        string message)
    {
        // Keep the start of the command so the reply can carry its tag; the rest is only scanned for a trailing literal.
        if (_length < TagProbeLength)
        {
            Append(chunk.Slice(0, Math.Min(chunk.Length, TagProbeLength - _length)));
        }

        var (tag, name) = ProbeTagAndName();
        _length = 0;
        _literals.Clear();
        _mode = Mode.DiscardLine;
        // Leave any line end in the input so DiscardLine sees it and checks for a trailing literal.
        Scan(chunk);
        input = input.Slice(lineEnd is null ? input.End : chunk.End);

        _lineLength = 0;
        return new ImapReadResult(status, tag, name, Message: message, Line: null);
    }

    private ImapReadResult Complete(out bool again)
    {
        again = false;
        if (_length == 2 && _literals.Count == 0)
        {
            // An empty line is not a command; ignore it rather than answer it.
            StartCommand();
            again = true;
            return ImapReadResult.NeedMoreData;
        }

        // Small commands are copied out so the working buffer can be reused; big ones take the buffer with them.
        byte[] data;
        if (_buffer.Length <= 4096)
        {
            data = _buffer.AsSpan(0, _length).ToArray();
        }
        else
        {
            data = _buffer;
            _buffer = new byte[256];
        }

        var result = ImapCommandTokenizer.Tokenize(data.AsMemory(0, _length), _literals, Limits.MaxNestingDepth, _commandSize);
        StartCommand();
        return result;
    }

    private void StartCommand()
    {
        _length = 0;
        _lineLength = 0;
        _commandSize = 0;
        _literals.Clear();
        ResetLineScan();
        if (_buffer.Length > 64 * 1024)
        {
            _buffer = new byte[256];
        }
    }

    private void ResetLineScan()
    {
        _inQuote = false;
        _escape = false;
        _tailPosition = 0;
        _lineSeen = 0;
    }

    private void Scan(ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            foreach (var b in segment.Span)
            {
                if (_inQuote)
                {
                    if (_escape)
                    {
                        _escape = false;
                    }
                    else if (b == (byte)'\\')
                    {
                        _escape = true;
                    }
                    else if (b == (byte)'"')
                    {
                        _inQuote = false;
                    }
                }
                else if (b == (byte)'"')
                {
                    _inQuote = true;
                }

                _tail[_tailPosition] = b;
                _tailPosition = (_tailPosition + 1) % TailSize;
                _lineSeen++;
            }
        }
    }

    /// <summary>Octet <paramref name="back"/> places from the end of the scanned line (0 = last).</summary>
    private byte TailAt(int back) => _tail[((_tailPosition - 1 - back) % TailSize + TailSize) % TailSize];

    /// <summary>Does the scanned line end with <c>{n}</c>, <c>{n+}</c> or <c>~{n}</c> outside a quoted string?</summary>
    private bool ReadMarker(out long size, out bool nonSync, out bool binary)
    {
        size = 0;
        nonSync = false;
        binary = false;
        if (_inQuote)
        {
            return false;
        }

        var available = (int)Math.Min(_lineSeen, TailSize);
        var i = 0;
        if (i < available && TailAt(i) == (byte)'\r')
        {
            i++;
        }

        if (i >= available || TailAt(i) != (byte)'}')
        {
            return false;
        }

        i++;
        if (i < available && TailAt(i) == (byte)'+')
        {
            nonSync = true;
            i++;
        }

        var digitsEnd = i;
        while (i < available && char.IsAsciiDigit((char)TailAt(i)))
        {
            i++;
        }

        var digitCount = i - digitsEnd;
        if (digitCount == 0)
        {
            return false;
        }

        if (digitCount > MaxDigits)
        {
            // More digits than any size we could honour: report it as the largest possible literal.
            size = long.MaxValue;
            return true;
        }

        if (i >= available || TailAt(i) != (byte)'{')
        {
            return false;
        }

        i++;
        if (i < available && TailAt(i) == (byte)'~')
        {
            binary = true;
            i++;
        }

        if (i >= available)
        {
            return false;
        }

        var before = TailAt(i);
        if (before != (byte)' ' && before != (byte)'(')
        {
            return false;
        }

        ulong value = 0;
        for (var d = digitsEnd + digitCount - 1; d >= digitsEnd; d--)
        {
            value = (value * 10) + (ulong)(TailAt(d) - '0');
        }

        size = value > long.MaxValue ? long.MaxValue : (long)value;
        return true;
    }

    private (string? Tag, string? Name) ProbeTagAndName() => ImapCommandTokenizer.ProbeTagAndName(_buffer.AsSpan(0, _length));

    private void Append(ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        EnsureCapacity(_length + (int)bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += (int)bytes.Length;
    }

    private void AppendCrLf()
    {
        EnsureCapacity(_length + 2);
        _buffer[_length++] = (byte)'\r';
        _buffer[_length++] = (byte)'\n';
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length)
        {
            return;
        }

        // Grow by doubling, but only as far as octets actually arrive (never to an announced size up front).
        var size = (int)Math.Min(Math.Max((long)needed, _buffer.Length * 2L), Array.MaxLength);
        Array.Resize(ref _buffer, size);
    }
}

/// <summary>Where one literal's octets lie in a command's buffer.</summary>
internal readonly record struct ImapLiteralSegment(int Start, int Length, bool Binary, bool NonSynchronizing);
