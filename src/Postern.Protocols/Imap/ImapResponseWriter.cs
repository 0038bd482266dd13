using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Postern.Protocols.Imap;

public enum ImapStatus
{
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

/// <summary>
/// Writes IMAP responses to an <see cref="IBufferWriter{T}"/>. Values are separated by single spaces automatically;
/// lists and sections manage their own brackets. Strings pick the lightest form that is correct: atom (where an
/// astring is allowed), quoted, or literal for CR, LF, NUL, long or (without UTF-8) 8-bit content.
/// </summary>
/// <remarks>
/// <code>
/// response-tagged = tag SP resp-cond-state CRLF ; resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
/// resp-text = ["[" resp-text-code "]" SP] [text] ; continue-req = "+" [SP (resp-text / base64)] CRLF
/// </code>
/// </remarks>
public sealed class ImapResponseWriter
{
    /// <summary>Longer strings go out as literals, which are cheaper for the client to parse.</summary>
    public const int MaxQuotedLength = 1024;

    // "(\Answered \Seen)" and the rest, for each combination of the five system flags, in the order Flags writes them.
    private static readonly byte[][] SystemFlagLists = [.. Enumerable.Range(0, 32)
        .Select(f => Encoding.ASCII.GetBytes("(" + string.Join(' ', ImapFlagSet.Names((ImapSystemFlags)f)) + ")"))];

    // A staged writer gathers a line's small pieces here and hands them to the output in one write at the line's end
    // (or when full): a sync's FETCH line is some fifteen pieces, each a GetSpan and Advance on the pipe otherwise.
    private const int StageSize = 512;

    private readonly IBufferWriter<byte> _output;
    private readonly byte[]? _stage;
    private int _staged;

    // The span GetSpan gave last is the output's own (too big for the stage, or no stage).
    private bool _direct;
    private bool _needSpace;

    /// <param name="staged">
    /// Hold each line until its CRLF (or <see cref="Output"/> is asked for): for a connection's output, whose owner only
    /// flushes between lines. Without it every piece goes to <paramref name="output"/> at once.
    /// </param>
    public ImapResponseWriter(IBufferWriter<byte> output, bool utf8Enabled = false, bool staged = false)
    {
        _output = output;
        Utf8Enabled = utf8Enabled;
        _stage = staged ? new byte[StageSize] : null;
    }

    /// <summary>UTF8=ACCEPT is enabled (RFC 6855) or IMAP4rev2 is: UTF-8 may go in quoted strings and mailbox names.</summary>
    public bool Utf8Enabled { get; set; }

    /// <summary>A response line was begun (<see cref="BeginUntagged"/>) and not yet ended.</summary>
    public bool IsMidLine { get; private set; }

    /// <summary>The underlying writer, for streaming a literal's octets after <see cref="LiteralHeader"/>.</summary>
    public IBufferWriter<byte> Output
    {
        get
        {
            Commit();
            return _output;
        }
    }

    /// <summary>Hands what is staged to the output (a staged writer does so by itself at every line's end).</summary>
    public void Commit()
    {
        if (_staged > 0)
        {
            _output.Write(_stage.AsSpan(0, _staged));
            _staged = 0;
        }
    }

    public void Tagged(string tag, ImapStatus status, string? code, string text)
    {
        WriteAscii(tag);
        WriteStatusAndText(status, code, text);
    }

    public void Untagged(ImapStatus status, string? code, string text)
    {
        WriteByte((byte)'*');
        WriteStatusAndText(status, code, text);
    }

    /// <summary>A whole untagged data line, already formatted: <c>* text</c>.</summary>
    public void UntaggedLine(string text)
    {
        WriteAscii("* ");
        WriteText(text);
        WriteCrLf();
    }

    /// <summary><c>+ text</c> (or a base64 SASL challenge).</summary>
    public void Continuation(string text = "Ready")
    {
        // continue-req = "+" SP (resp-text / base64) CRLF: the space is there even before an empty challenge.
        WriteAscii("+ ");
        WriteText(text);
        WriteCrLf();
    }

    public ImapResponseWriter BeginUntagged()
    {
        IsMidLine = true;
        WriteByte((byte)'*');
        _needSpace = true;
        return this;
    }

    public ImapResponseWriter EndLine()
    {
        IsMidLine = false;
        WriteCrLf();
        _needSpace = false;
        return this;
    }

    /// <summary>An atom or keyword written as is (the caller guarantees it is one: FETCH, FLAGS, \Seen, BODY[1]&lt;0&gt;).</summary>
    public ImapResponseWriter Atom(string atom)
    {
        Space();
        WriteAscii(atom);
        _needSpace = true;
        return this;
    }

    /// <summary>An atom given as its ASCII octets ("FETCH"u8): no conversion on paths that write one per message.</summary>
    public ImapResponseWriter Atom(ReadOnlySpan<byte> atom)
    {
        Space();
        WriteBytes(atom);
        _needSpace = true;
        return this;
    }

    public ImapResponseWriter Number(ulong value)
    {
        Space();
        var span = GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        Advance(written);
        _needSpace = true;
        return this;
    }

    public ImapResponseWriter Nil() => Atom("NIL");

    /// <summary>The next value follows without a space (body-type-mpart is <c>1*body SP media-subtype</c>: parts are adjacent).</summary>
    public ImapResponseWriter Adjoin()
    {
        _needSpace = false;
        return this;
    }

    public ImapResponseWriter BeginList()
    {
        Space();
        WriteByte((byte)'(');
        _needSpace = false;
        return this;
    }

    public ImapResponseWriter EndList()
    {
        WriteByte((byte)')');
        _needSpace = true;
        return this;
    }

    /// <summary>A string: quoted when it can be, else a literal.</summary>
    public ImapResponseWriter String(string value) => String(Encoding.UTF8.GetBytes(value));

    public ImapResponseWriter String(ReadOnlySpan<byte> value)
    {
        Space();
        if (CanQuote(value))
        {
            WriteQuoted(value);
        }
        else
        {
            WriteLiteral(value, binary: false);
        }

        _needSpace = true;
        return this;
    }

    /// <summary>A value this class wrote earlier into another buffer (a list, strings and all), written again as it was.</summary>
    public ImapResponseWriter Rendered(ReadOnlySpan<byte> value)
    {
        Space();
        WriteBytes(value);
        _needSpace = true;
        return this;
    }

    /// <summary>An astring: a bare atom when it is one (and not "NIL", which would read as nil in an nstring), else a string.</summary>
    public ImapResponseWriter AString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (ImapGrammar.IsAtom(bytes) && !value.Equals("NIL", StringComparison.OrdinalIgnoreCase))
        {
            return Atom(value);
        }

        return String(bytes);
    }

    public ImapResponseWriter NString(string? value) => value is null ? Nil() : String(value);

    public ImapResponseWriter NString(ReadOnlySpan<byte> value, bool isNil) => isNil ? Nil() : String(value);

    /// <summary>A literal (or literal8 for BINARY content with NUL, RFC 3516) with its octets.</summary>
    public ImapResponseWriter Literal(ReadOnlySpan<byte> value, bool binary = false)
    {
        Space();
        WriteLiteral(value, binary);
        _needSpace = true;
        return this;
    }

    /// <summary>
    /// Only the <c>{n}CRLF</c> of a literal; the caller then writes exactly <paramref name="length"/> octets to
    /// <see cref="Output"/> (streaming a large body in chunks).
    /// </summary>
    public ImapResponseWriter LiteralHeader(long length, bool binary = false)
    {
        Space();
        if (binary)
        {
            WriteByte((byte)'~');
        }

        WriteByte((byte)'{');
        var span = GetSpan(20);
        Utf8Formatter.TryFormat(length, span, out var written);
        Advance(written);
        WriteAscii("}\r\n");
        _needSpace = true;
        return this;
    }

    /// <summary>A mailbox name: modified UTF-7 unless UTF-8 is enabled (RFC 3501 §5.1.3, RFC 6855 §3).</summary>
    public ImapResponseWriter Mailbox(string name) => AString(ImapMailboxName.Encode(name, Utf8Enabled));

    public ImapResponseWriter DateTime(DateTimeOffset value) => Atom(ImapDateTime.FormatDateTime(value));

    /// <summary>A flag list: system flags, then keywords, then \Recent when asked.</summary>
    public ImapResponseWriter Flags(ImapSystemFlags flags, IEnumerable<string> keywords, bool recent = false)
    {
        // Most messages carry system flags only: their list is written from octets built once (a sync sends one per message).
        if (!recent && keywords is IReadOnlyCollection<string> { Count: 0 } && (uint)flags < (uint)SystemFlagLists.Length)
        {
            return Rendered(SystemFlagLists[(int)flags]);
        }

        BeginList();
        foreach (var name in ImapFlagSet.Names(flags))
        {
            Atom(name);
        }

        if (recent)
        {
            Atom("\\Recent");
        }

        foreach (var keyword in keywords)
        {
            Atom(keyword);
        }

        return EndList();
    }

    /// <summary>Free text up to the line end; CR and LF become spaces so a reply can never inject a line.</summary>
    public ImapResponseWriter Text(string text)
    {
        Space();
        WriteText(text);
        _needSpace = true;
        return this;
    }

    /// <summary>Can <paramref name="value"/> be a quoted string here?</summary>
    public bool CanQuote(ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxQuotedLength)
        {
            return false;
        }

        var eightBit = false;
        foreach (var b in value)
        {
            if (b is 0 or (byte)'\r' or (byte)'\n')
            {
                return false;
            }

            eightBit |= b >= 0x80;
        }

        return !eightBit || (Utf8Enabled && System.Text.Unicode.Utf8.IsValid(value));
    }

    private void Space()
    {
        if (_needSpace)
        {
            WriteByte((byte)' ');
        }
    }

    private void WriteStatusAndText(ImapStatus status, string? code, string text)
    {
        WriteAscii(status switch
        {
            ImapStatus.Ok => " OK ",
            ImapStatus.No => " NO ",
            ImapStatus.Bad => " BAD ",
            ImapStatus.PreAuth => " PREAUTH ",
            _ => " BYE ",
        });
        if (!string.IsNullOrEmpty(code))
        {
            WriteByte((byte)'[');
            WriteText(code);
            WriteAscii("] ");
        }

        WriteText(text.Length == 0 ? "done" : text);
        WriteCrLf();
        _needSpace = false;
    }

    private void WriteQuoted(ReadOnlySpan<byte> value)
    {
        var span = GetSpan((value.Length * 2) + 2);
        var i = 0;
        span[i++] = (byte)'"';
        foreach (var b in value)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                span[i++] = (byte)'\\';
            }

            span[i++] = b;
        }

        span[i++] = (byte)'"';
        Advance(i);
    }

    private void WriteLiteral(ReadOnlySpan<byte> value, bool binary)
    {
        if (binary)
        {
            WriteByte((byte)'~');
        }

        WriteByte((byte)'{');
        var span = GetSpan(20);
        Utf8Formatter.TryFormat(value.Length, span, out var written);
        Advance(written);
        WriteAscii("}\r\n");
        if (binary)
        {
            WriteBytes(value);
        }
        else
        {
            LiteralOctets(value);
        }
    }

    /// <summary>
    /// Octets of a (non-binary) literal: a NUL, which no IMAP literal may carry (RFC 3501 §4.3, CHAR8), goes out as 0x80,
    /// as Dovecot sends it. Mail that arrived with NUL over SMTP or NNTP is then still readable by every client.
    /// </summary>
    public void LiteralOctets(ReadOnlySpan<byte> value)
    {
        while (value.IndexOf((byte)0) is var nul and >= 0)
        {
            WriteBytes(value[..nul]);
            WriteByte(0x80);
            value = value[(nul + 1)..];
        }

        WriteBytes(value);
    }

    private void WriteText(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] is (byte)'\r' or (byte)'\n' or 0)
            {
                bytes[i] = (byte)' ';
            }
        }

        WriteBytes(bytes);
    }

    private void WriteAscii(string text)
    {
        var span = GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        Advance(written);
    }

    private void WriteByte(byte b)
    {
        var span = GetSpan(1);
        span[0] = b;
        Advance(1);
    }

    private void WriteCrLf()
    {
        WriteBytes("\r\n"u8);
        Commit();
    }

    private void WriteBytes(ReadOnlySpan<byte> value)
    {
        if (_stage is not null && value.Length <= StageSize - _staged)
        {
            value.CopyTo(_stage.AsSpan(_staged));
            _staged += value.Length;
            return;
        }

        Commit();
        _output.Write(value);
    }

    /// <summary>Room for <paramref name="sizeHint"/> octets; <see cref="Advance"/> takes what was used.</summary>
    private Span<byte> GetSpan(int sizeHint)
    {
        if (_stage is not null && sizeHint <= StageSize)
        {
            if (sizeHint > StageSize - _staged)
            {
                Commit();
            }

            _direct = false;
            return _stage.AsSpan(_staged);
        }

        Commit();
        _direct = true;
        return _output.GetSpan(sizeHint);
    }

    private void Advance(int count)
    {
        if (_direct)
        {
            _output.Advance(count);
        }
        else
        {
            _staged += count;
        }
    }
}
