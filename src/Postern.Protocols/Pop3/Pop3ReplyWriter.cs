using System.Buffers;
using System.Text;

namespace Postern.Protocols.Pop3;

/// <summary>Extended response codes (RFC 2449 §8, RFC 3206).</summary>
public static class Pop3ResponseCode
{
    /// <summary>RFC 3206 §5: the credentials were wrong (not a temporary problem).</summary>
    public const string Auth = "AUTH";

    /// <summary>RFC 2449 §8.1.1: the maildrop is locked by another session.</summary>
    public const string InUse = "IN-USE";

    /// <summary>RFC 2449 §8.1.2: logged in too recently.</summary>
    public const string LoginDelay = "LOGIN-DELAY";

    /// <summary>RFC 3206 §4: a temporary system problem; try again later.</summary>
    public const string SysTemp = "SYS/TEMP";

    /// <summary>RFC 3206 §4: a permanent system problem.</summary>
    public const string SysPerm = "SYS/PERM";
}

/// <summary>Formats POP3 replies (RFC 1939 §3) into a buffer writer.</summary>
public static class Pop3ReplyWriter
{
    public static void WriteOk(IBufferWriter<byte> output, string text)
    {
        Write(output, text.Length == 0 ? "+OK" : "+OK ");
        WriteText(output, text);
        Write(output, "\r\n");
    }

    /// <summary>"-ERR [CODE] text"; the code is written only when given.</summary>
    public static void WriteError(IBufferWriter<byte> output, string? code, string text)
    {
        Write(output, "-ERR ");
        if (code is not null)
        {
            Write(output, "[");
            Write(output, code);
            Write(output, "] ");
        }

        WriteText(output, text);
        Write(output, "\r\n");
    }

    /// <summary>RFC 5034 §4: a server challenge, "+ " and base64 (empty for PLAIN).</summary>
    public static void WriteContinuation(IBufferWriter<byte> output, ReadOnlySpan<byte> challenge)
    {
        Write(output, "+ ");
        if (!challenge.IsEmpty)
        {
            Write(output, Convert.ToBase64String(challenge));
        }

        Write(output, "\r\n");
    }

    /// <summary>One line of a multi-line reply, dot-stuffed (RFC 1939 §3).</summary>
    public static void WriteLine(IBufferWriter<byte> output, string line)
    {
        if (line.StartsWith('.'))
        {
            Write(output, ".");
        }

        WriteText(output, line);
        Write(output, "\r\n");
    }

    /// <summary>The terminator of a multi-line reply.</summary>
    public static void WriteEnd(IBufferWriter<byte> output) => Write(output, ".\r\n");

    /// <summary>"n octets" pieces of scan listings (RFC 1939 §5 LIST: "msg size").</summary>
    public static void WriteScanLine(IBufferWriter<byte> output, long number, long size) =>
        Write(output, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{number} {size}\r\n"));

    /// <summary>RFC 1939 §7 UIDL: "msg unique-id".</summary>
    public static void WriteUniqueIdLine(IBufferWriter<byte> output, long number, string uniqueId) =>
        Write(output, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{number} {uniqueId}\r\n"));

    // Reply text comes from the server, but never let a CR or LF inside it end the line early.
    private static void WriteText(IBufferWriter<byte> output, string text)
    {
        if (text.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            text = text.Replace('\r', ' ').Replace('\n', ' ');
        }

        Write(output, text);
    }

    private static void Write(IBufferWriter<byte> output, string text)
    {
        var count = Encoding.UTF8.GetByteCount(text);
        var span = output.GetSpan(count);
        Encoding.UTF8.GetBytes(text, span);
        output.Advance(count);
    }
}
