using System.Diagnostics.CodeAnalysis;
using System.Text;
using MimeKit;
using MimeKit.Utils;
using Postern.Protocols.Imap;

namespace Postern.Server.Imap;

/// <summary>ENVELOPE, BODY and BODYSTRUCTURE from a MimeKit tree (RFC 3501 §7.4.2, RFC 9051 §7.5.2).</summary>
internal static class ImapFetchFormatter
{
    /// <remarks>
    /// <code>
    /// envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to SP env-cc SP env-bcc SP
    ///            env-in-reply-to SP env-message-id ")"
    /// address  = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
    /// </code>
    /// Header values are sent as they appear (unfolded), so encoded-words stay for the client to decode. RFC 3501 §7.4.2:
    /// a missing Sender or Reply-To is the From value.
    /// </remarks>
    public static void WriteEnvelope(ImapResponseWriter writer, MimeMessage message)
    {
        var headers = message.Headers;
        writer.BeginList();
        writer.NString(RawValue(headers, HeaderId.Date));
        writer.NString(RawValue(headers, HeaderId.Subject));
        var from = VerbatimAddresses(headers, HeaderId.From, message.From);
        var sender = VerbatimAddresses(headers, HeaderId.Sender, message.Sender is { } parsedSender ? [parsedSender] : []);
        var replyTo = VerbatimAddresses(headers, HeaderId.ReplyTo, message.ReplyTo);
        WriteAddresses(writer, from, writer.Utf8Enabled);
        WriteAddresses(writer, sender.Addresses.Count > 0 ? sender with { Addresses = [sender.Addresses[0]] } : from, writer.Utf8Enabled);
        WriteAddresses(writer, replyTo.Addresses.Count > 0 ? replyTo : from, writer.Utf8Enabled);
        WriteAddresses(writer, VerbatimAddresses(headers, HeaderId.To, message.To), writer.Utf8Enabled);
        WriteAddresses(writer, VerbatimAddresses(headers, HeaderId.Cc, message.Cc), writer.Utf8Enabled);
        WriteAddresses(writer, VerbatimAddresses(headers, HeaderId.Bcc, message.Bcc), writer.Utf8Enabled);
        writer.NString(RawValue(headers, HeaderId.InReplyTo));
        writer.NString(RawValue(headers, HeaderId.MessageId));
        writer.EndList();
    }

    /// <summary>
    /// body = "(" (body-type-1part / body-type-mpart) ")"; with <paramref name="extended"/> the extension data of
    /// BODYSTRUCTURE is added (MD5, disposition, language, location).
    /// </summary>
    public static void WriteBodyStructure(ImapResponseWriter writer, ImapMessageView view, MimeEntity entity, bool extended)
    {
        writer.BeginList();
        if (entity is Multipart multipart)
        {
            if (multipart.Count == 0)
            {
                // RFC 3501 requires at least one body; an empty multipart is shown as an empty text part.
                writer.String("TEXT").String("PLAIN").Nil().Nil().Nil().String("7BIT").Number(0).Number(0);
            }
            else
            {
                for (var i = 0; i < multipart.Count; i++)
                {
                    if (i > 0)
                    {
                        writer.Adjoin();
                    }

                    WriteBodyStructure(writer, view, multipart[i], extended);
                }

                writer.String(multipart.ContentType.MediaSubtype.ToUpperInvariant());
                if (extended)
                {
                    WriteParameters(writer, multipart, multipart.ContentType, skipBoundary: false);
                    WriteDisposition(writer, multipart);
                    WriteLanguage(writer, multipart);
                    writer.NString(NonEmpty(RawValue(multipart.Headers, HeaderId.ContentLocation)));
                }
            }

            writer.EndList();
            return;
        }

        var type = entity.ContentType;
        var offsets = view.OffsetsOf(entity);
        writer.String(type.MediaType.ToUpperInvariant());
        writer.String(type.MediaSubtype.ToUpperInvariant());
        WriteParameters(writer, entity, type, skipBoundary: true);
        writer.NString(NonEmpty(RawValue(entity.Headers, HeaderId.ContentId)));
        writer.NString(NonEmpty(RawValue(entity.Headers, HeaderId.ContentDescription)));
        writer.String(entity.Headers[HeaderId.ContentTransferEncoding] is { Length: > 0 } encoding ? encoding.Trim().ToUpperInvariant() : "7BIT");
        writer.Number((ulong)offsets.ContentLength);
        if (entity is MessagePart { Message: { Body: { } body } encapsulated } && (type.IsMimeType("message", "rfc822") || type.IsMimeType("message", "global")))
        {
            WriteEnvelope(writer, encapsulated);
            WriteBodyStructure(writer, view, body, extended);
            writer.Number((ulong)offsets.Lines);
        }
        else if (type.MediaType.Equals("text", StringComparison.OrdinalIgnoreCase))
        {
            writer.Number((ulong)offsets.Lines);
        }

        if (extended)
        {
            // body-fld-md5, -dsp, -lang and -loc: the header's own text, as everything else here (RFC 3501 §7.4.2).
            writer.NString(NonEmpty(RawValue(entity.Headers, HeaderId.ContentMd5)));
            WriteDisposition(writer, entity);
            WriteLanguage(writer, entity);
            writer.NString(NonEmpty(RawValue(entity.Headers, HeaderId.ContentLocation)));
        }

        writer.EndList();
    }

    private static void WriteParameters(ImapResponseWriter writer, MimeEntity entity, ContentType type, bool skipBoundary)
    {
        var parameters = VerbatimParameters(entity.Headers, HeaderId.ContentType, type.Parameters, out var marker)
            .Where(p => !(skipBoundary && p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))).ToList();
        if (parameters.Count == 0)
        {
            writer.Nil();
            return;
        }

        writer.BeginList();
        foreach (var parameter in parameters)
        {
            WriteParameter(writer, parameter, marker);
        }

        writer.EndList();
    }

    /// <summary>
    /// One body-fld-param pair. An encoded-word in a value stays as written (RFC 3501 §7.4.2, as Dovecot sends it). A value
    /// MimeKit decoded from RFC 2231 or that arrived as raw 8-bit goes to a client without UTF-8 on the wire as an RFC 2231
    /// extended parameter (NAME* "utf-8''%C3%A9.pdf", as Dovecot sends it), never as raw 8-bit octets.
    /// </summary>
    private static void WriteParameter(ImapResponseWriter writer, Parameter parameter, string? marker)
    {
        var name = parameter.Name.ToUpperInvariant();
        var value = Unmask(parameter.Value, marker);
        if (writer.Utf8Enabled || Ascii.IsValid(value))
        {
            writer.String(name).String(value);
            return;
        }

        var encoded = new StringBuilder("utf-8''");
        foreach (var octet in Encoding.UTF8.GetBytes(value))
        {
            // RFC 2231 §7: attribute-char is any CHAR except SPACE, CTLs, "*", "'", "%" and the tspecials of RFC 2045.
            if (octet is > 0x20 and < 0x7F && "*'%()<>@,;:\\\"/[]?=".IndexOf((char)octet, StringComparison.Ordinal) < 0)
            {
                encoded.Append((char)octet);
            }
            else
            {
                encoded.Append('%').Append(octet.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        writer.String(name + "*").String(encoded.ToString());
    }

    private static void WriteDisposition(ImapResponseWriter writer, MimeEntity entity)
    {
        var disposition = entity.ContentDisposition;
        if (disposition is null)
        {
            writer.Nil();
            return;
        }

        writer.BeginList().String(disposition.Disposition.ToUpperInvariant());
        var parameters = VerbatimParameters(entity.Headers, HeaderId.ContentDisposition, disposition.Parameters, out var marker);
        if (parameters.Count == 0)
        {
            writer.Nil();
        }
        else
        {
            writer.BeginList();
            foreach (var parameter in parameters)
            {
                WriteParameter(writer, parameter, marker);
            }

            writer.EndList();
        }

        writer.EndList();
    }

    private static void WriteLanguage(ImapResponseWriter writer, MimeEntity entity)
    {
        var value = RawValue(entity.Headers, HeaderId.ContentLanguage);
        var languages = string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (languages.Length == 0)
        {
            writer.Nil();
            return;
        }

        writer.BeginList();
        foreach (var language in languages)
        {
            writer.String(language);
        }

        writer.EndList();
    }

    private static void WriteAddresses(ImapResponseWriter writer, VerbatimAddressList addresses, bool utf8)
    {
        if (addresses.Addresses.Count == 0)
        {
            writer.Nil();
            return;
        }

        // env-from = "(" 1*address ")": addresses follow each other without a space.
        writer.BeginList();
        foreach (var address in addresses.Addresses)
        {
            writer.Adjoin();
            WriteAddress(writer, address, addresses.Marker, utf8);
        }

        writer.EndList();
    }

    private static void WriteAddress(ImapResponseWriter writer, InternetAddress address, string? marker, bool utf8)
    {
        if (address is GroupAddress group)
        {
            // RFC 3501 §7.4.2: a group is (NIL NIL "name" NIL), its members, then (NIL NIL NIL NIL).
            writer.BeginList().Nil().Nil().String(Phrase(Unmask(group.Name, marker), utf8) ?? string.Empty).Nil().EndList();
            foreach (var member in group.Members)
            {
                writer.Adjoin();
                WriteAddress(writer, member, marker, utf8);
            }

            writer.Adjoin().BeginList().Nil().Nil().Nil().Nil().EndList();
            return;
        }

        if (address is MailboxAddress mailbox)
        {
            var addrSpec = Unmask(mailbox.Address, marker);
            var at = addrSpec.LastIndexOf('@');
            var local = at < 0 ? addrSpec : addrSpec[..at];
            var host = at < 0 ? null : addrSpec[(at + 1)..];
            // addr-adl: an obsolete source route ("<@route:user@domain>") is kept as "@route[,@route2]" (RFC 3501 §9).
            var route = mailbox.Route.Count == 0 ? null : string.Join(',', mailbox.Route.Select(d => "@" + d));
            writer.BeginList().NString(Phrase(Unmask(mailbox.Name, marker), utf8)).NString(route).String(local).NString(host).EndList();
        }
    }

    private static string? Phrase(string? name, bool utf8)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        // The phrase as written, encoded-words and all (RFC 3501 §7.4.2). Only a raw 8-bit one (RFC 6532) goes to a
        // client without UTF-8 on the wire as encoded-words (RFC 2047), which it can read, rather than as 8-bit octets.
        return utf8 || Ascii.IsValid(name) ? name : Encoding.ASCII.GetString(Rfc2047.EncodePhrase(Encoding.UTF8, name));
    }

    /// <summary>Addresses of one header field, with the marker to undo in their text (see <see cref="MaskEncodedWords"/>).</summary>
    private readonly record struct VerbatimAddressList(IReadOnlyList<InternetAddress> Addresses, string? Marker);

    private static VerbatimAddressList VerbatimAddresses(HeaderList headers, HeaderId id, IEnumerable<InternetAddress> parsed)
    {
        var raw = JoinedRawValues(headers, id, ", "u8);
        if (raw is null || raw.AsSpan().IndexOf("=?"u8) < 0)
        {
            // No encoded-word: what MimeKit parsed is the header's own text.
            return new([.. parsed], null);
        }

        var masked = MaskEncodedWords(raw, out var marker);
        return InternetAddressList.TryParse(ParserOptions.Default, masked, out var list) ? new([.. list], marker) : new([.. parsed], null);
    }

    private static IReadOnlyList<Parameter> VerbatimParameters(HeaderList headers, HeaderId id, ParameterList parsed, out string? marker)
    {
        marker = null;
        var index = headers.IndexOf(id);
        if (index < 0 || headers[index].RawValue.AsSpan().IndexOf("=?"u8) < 0)
        {
            return [.. parsed];
        }

        var masked = MaskEncodedWords(headers[index].RawValue, out var mask);
        ParameterList? verbatim = id == HeaderId.ContentType
            ? ContentType.TryParse(ParserOptions.Default, masked, out var type) ? type.Parameters : null
            : ContentDisposition.TryParse(ParserOptions.Default, masked, out var disposition) ? disposition.Parameters : null;
        if (verbatim is null)
        {
            return [.. parsed];
        }

        marker = mask;
        return [.. verbatim];
    }

    /// <summary>
    /// MimeKit decodes RFC 2047 encoded-words as it parses addresses and parameters, but ENVELOPE and BODYSTRUCTURE give
    /// the header's own text (RFC 3501 §7.4.2, RFC 9051 §7.5.2; Dovecot sends them as stored). So every "=?" becomes a
    /// marker the raw text does not contain before MimeKit parses it, and <see cref="Unmask"/> turns it back.
    /// </summary>
    private static byte[] MaskEncodedWords(byte[] raw, out string marker)
    {
        var number = 0;
        do
        {
            marker = "=~" + number++.ToString(System.Globalization.CultureInfo.InvariantCulture) + "~";
        }
        while (raw.AsSpan().IndexOf(Encoding.ASCII.GetBytes(marker)) >= 0);

        // Latin-1 maps each octet to one char and back, so 8-bit octets reach MimeKit as they were.
        return Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(raw).Replace("=?", marker, StringComparison.Ordinal));
    }

    [return: NotNullIfNotNull(nameof(text))]
    private static string? Unmask(string? text, string? marker) => marker is null ? text : text?.Replace(marker, "=?", StringComparison.Ordinal);

    private static byte[]? JoinedRawValues(HeaderList headers, HeaderId id, ReadOnlySpan<byte> separator)
    {
        byte[]? joined = null;
        foreach (var header in headers)
        {
            if (header.Id == id)
            {
                joined = joined is null ? header.RawValue : [.. joined, .. separator, .. header.RawValue];
            }
        }

        return joined;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string? RawValue(HeaderList headers, HeaderId id)
    {
        var index = headers.IndexOf(id);
        if (index < 0)
        {
            return null;
        }

        // Unfold (RFC 5322 §2.2.3) and trim; keep the octets as sent (UTF-8 headers decode as UTF-8).
        var text = Encoding.UTF8.GetString(headers[index].RawValue);
        return text.Replace("\r\n", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal).Trim();
    }
}
