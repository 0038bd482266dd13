using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using MimeKit;
using MimeKit.Utils;
using Postern.Server.Connections;

namespace Postern.Server.Smtp.Delivery;

/// <summary>What the server adds to a message it accepts: the trace field, and on submission the fields a client forgot.</summary>
internal static class SmtpMessageAcceptor
{
    public static string NewQueueId()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexString(bytes);
    }

    /// <summary>
    /// RFC 5321 §4.4 Received field, with the RFC 3848 / RFC 6531 §3.7.3 protocol keyword
    /// (ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP…) and the TLS parameters as a comment.
    /// </summary>
    public static byte[] ReceivedHeader(string helo, IPAddress client, string host, bool extended, TlsInfo? tls, bool authenticated, bool smtpUtf8, string queueId, string? recipient, DateTimeOffset now)
    {
        var protocol = (smtpUtf8 ? "UTF8SMTP" : extended ? "ESMTP" : "SMTP") + (extended && tls is not null ? "S" : "") + (extended && authenticated ? "A" : "");
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        var literal = client.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6:" + client : client.ToString();
        var builder = new StringBuilder(256);
        builder.Append("Received: from ").Append(string.IsNullOrEmpty(helo) ? "unknown" : smtpUtf8 ? helo : AsciiDomain(helo)).Append(" ([").Append(literal).Append("])\r\n");
        builder.Append("\tby ").Append(host).Append(" (Postern) with ").Append(protocol).Append(" id ").Append(queueId);
        if (tls is not null)
        {
            builder.Append("\r\n\t(using ").Append(TlsName(tls.Protocol)).Append(" with cipher ").Append(tls.CipherSuite).Append(" (")
                .Append(tls.CipherStrengthBits).Append(" bits))");
        }

        if (recipient is not null)
        {
            builder.Append("\r\n\tfor <").Append(recipient).Append('>');
        }

        builder.Append("; ").Append(DateUtils.FormatDate(now)).Append("\r\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>
    /// RFC 6531 §3.7.3: a U-label in the Received field only in an SMTPUTF8 transaction; elsewhere the EHLO name goes in
    /// as its A-labels, so a message that is not SMTPUTF8 keeps a 7-bit header.
    /// </summary>
    private static string AsciiDomain(string helo)
    {
        if (Ascii.IsValid(helo))
        {
            return helo;
        }

        try
        {
            return new System.Globalization.IdnMapping().GetAscii(helo);
        }
        catch (ArgumentException)
        {
            return "unknown";
        }
    }

    /// <summary>
    /// RFC 5321 §4.4: the server that makes final delivery inserts the reverse-path as a Return-Path field at the top
    /// (the null reverse-path as "&lt;&gt;"). Only the mailbox copies carry it; a message passed on does not.
    /// </summary>
    public static byte[] ReturnPathHeader(string sender) => Encoding.UTF8.GetBytes("Return-Path: <" + sender + ">\r\n");

    /// <summary>
    /// Adds Message-ID and Date when the header lacks them (RFC 6409 §8.3, §8.4). The header is parsed by
    /// MimeKit only to look; the body bytes stay exactly as received.
    /// </summary>
    public static ReadOnlyMemory<byte> AddMissingSubmissionHeaders(ReadOnlyMemory<byte> content, int traceLength, string host, DateTimeOffset now)
    {
        var message = content[traceLength..];
        HeaderList headers;
        var headerless = false;
        try
        {
            using var stream = new MemoryStream(message.ToArray(), writable: false);
            headers = new MimeParser(stream, MimeFormat.Entity).ParseHeaders();
        }
        catch (FormatException)
        {
            // A malformed header section is left alone; text with no header section at all (its first line is no
            // field) gets the fields and the empty line that ends them, as Postfix's cleanup does (RFC 5322 §3.6: Date
            // is required).
            if (StartsWithHeaderField(message.Span))
            {
                return content;
            }

            headers = [];
            headerless = true;
        }

        var missing = new StringBuilder();
        if (!headers.Contains(HeaderId.MessageId))
        {
            missing.Append("Message-ID: <").Append(MimeUtils.GenerateMessageId(host)).Append(">\r\n");
        }

        if (!headers.Contains(HeaderId.Date))
        {
            missing.Append("Date: ").Append(DateUtils.FormatDate(now)).Append("\r\n");
        }

        if (missing.Length == 0)
        {
            return content;
        }

        if (headerless)
        {
            missing.Append("\r\n");
        }

        var added = Encoding.ASCII.GetBytes(missing.ToString());
        var result = new byte[content.Length + added.Length];
        content.Span[..traceLength].CopyTo(result);
        added.CopyTo(result.AsSpan(traceLength));
        message.Span.CopyTo(result.AsSpan(traceLength + added.Length));
        return result;
    }

    /// <summary>Whether <paramref name="message"/> holds a CR not followed by LF or an LF not preceded by CR.</summary>
    public static bool HasBareLineEnd(ReadOnlySpan<byte> message)
    {
        var at = 0;
        while (message[at..].IndexOfAny((byte)'\r', (byte)'\n') is var found and >= 0)
        {
            var index = at + found;
            if (message[index] == '\n' || index + 1 == message.Length || message[index + 1] != '\n')
            {
                return true;
            }

            at = index + 2;
        }

        return false;
    }

    private static bool StartsWithHeaderField(ReadOnlySpan<byte> message)
    {
        // RFC 5322 §3.6.8: field-name is 1*ftext (printable ASCII but ':'), then optional WSP (obsolete syntax) and ':'.
        var name = 0;
        while (name < message.Length && message[name] is > 32 and < 127 and not (byte)':')
        {
            name++;
        }

        var colon = name;
        while (colon < message.Length && message[colon] is (byte)' ' or (byte)'\t')
        {
            colon++;
        }

        return name > 0 && colon < message.Length && message[colon] == ':';
    }

    /// <summary>
    /// How many Received fields the header section carries (RFC 5321 §6.3 loop detection); counting stops at the
    /// blank line that ends the header, or at <paramref name="enough"/>.
    /// </summary>
    public static int CountReceivedFields(ReadOnlySpan<byte> message, int enough)
    {
        var count = 0;
        while (count < enough && !message.IsEmpty)
        {
            var lf = message.IndexOf((byte)'\n');
            var line = lf < 0 ? message : message[..lf];
            if (line.IsEmpty || line is [(byte)'\r'])
            {
                break;
            }

            // field-name, optional white space (obsolete syntax), then the colon.
            if (line.Length > 8 && Ascii.EqualsIgnoreCase(line[..8], "Received"u8) && line[8..].TrimStart(" \t"u8) is [(byte)':', ..])
            {
                count++;
            }

            if (lf < 0)
            {
                break;
            }

            message = message[(lf + 1)..];
        }

        return count;
    }

    private static string TlsName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };
}
