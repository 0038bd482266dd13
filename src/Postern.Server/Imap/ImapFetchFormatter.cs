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
        var from = message.From;
        WriteAddresses(writer, from, writer.Utf8Enabled);
        WriteAddresses(writer, message.Sender is { } sender ? [sender] : from, writer.Utf8Enabled);
        WriteAddresses(writer, message.ReplyTo.Count > 0 ? message.ReplyTo : from, writer.Utf8Enabled);
        WriteAddresses(writer, message.To, writer.Utf8Enabled);
        WriteAddresses(writer, message.Cc, writer.Utf8Enabled);
        WriteAddresses(writer, message.Bcc, writer.Utf8Enabled);
        writer.NString(RawValue(headers, HeaderId.InReplyTo));
        writer.NString(RawValue(headers, HeaderId.MessageId));
        writer.EndList();
    }

    /// <summary>
    /// body = "(" (body-type-1part / body-type-mpart) ")"; with <paramref name="extended"/> the extension data of
    /// BODYSTRUCTURE is added (MD5 is NIL; disposition, language, location).
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
                    WriteParameters(writer, multipart.ContentType, skipBoundary: false);
                    WriteDisposition(writer, multipart);
                    WriteLanguage(writer, multipart);
                    writer.NString(multipart.Headers[HeaderId.ContentLocation] is { Length: > 0 } location ? location.Trim() : null);
                }
            }

            writer.EndList();
            return;
        }

        var type = entity.ContentType;
        var offsets = view.OffsetsOf(entity);
        writer.String(type.MediaType.ToUpperInvariant());
        writer.String(type.MediaSubtype.ToUpperInvariant());
        WriteParameters(writer, type, skipBoundary: true);
        writer.NString(entity.Headers[HeaderId.ContentId] is { Length: > 0 } id ? id.Trim() : null);
        writer.NString(entity.Headers[HeaderId.ContentDescription] is { Length: > 0 } description ? description.Trim() : null);
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
            writer.Nil();
            WriteDisposition(writer, entity);
            WriteLanguage(writer, entity);
            writer.NString(entity.Headers[HeaderId.ContentLocation] is { Length: > 0 } location ? location.Trim() : null);
        }

        writer.EndList();
    }

    private static void WriteParameters(ImapResponseWriter writer, ContentType type, bool skipBoundary)
    {
        var parameters = type.Parameters.Where(p => !(skipBoundary && p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))).ToList();
        if (parameters.Count == 0)
        {
            writer.Nil();
            return;
        }

        writer.BeginList();
        foreach (var parameter in parameters)
        {
            WriteParameter(writer, parameter);
        }

        writer.EndList();
    }

    /// <summary>
    /// One body-fld-param pair. MimeKit gives the decoded value; a client without UTF-8 on the wire gets a non-ASCII one
    /// back as an RFC 2231 extended parameter (NAME* "utf-8''%C3%A9.pdf", as Dovecot sends it), never as raw 8-bit octets.
    /// </summary>
    private static void WriteParameter(ImapResponseWriter writer, Parameter parameter)
    {
        var name = parameter.Name.ToUpperInvariant();
        if (writer.Utf8Enabled || Ascii.IsValid(parameter.Value))
        {
            writer.String(name).String(parameter.Value);
            return;
        }

        var encoded = new StringBuilder("utf-8''");
        foreach (var octet in Encoding.UTF8.GetBytes(parameter.Value))
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
        if (disposition.Parameters.Count == 0)
        {
            writer.Nil();
        }
        else
        {
            writer.BeginList();
            foreach (var parameter in disposition.Parameters)
            {
                WriteParameter(writer, parameter);
            }

            writer.EndList();
        }

        writer.EndList();
    }

    private static void WriteLanguage(ImapResponseWriter writer, MimeEntity entity)
    {
        var value = entity.Headers[HeaderId.ContentLanguage];
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

    private static void WriteAddresses(ImapResponseWriter writer, IEnumerable<InternetAddress> addresses, bool utf8)
    {
        var list = addresses.ToList();
        if (list.Count == 0)
        {
            writer.Nil();
            return;
        }

        // env-from = "(" 1*address ")": addresses follow each other without a space.
        writer.BeginList();
        foreach (var address in list)
        {
            writer.Adjoin();
            WriteAddress(writer, address, utf8);
        }

        writer.EndList();
    }

    private static void WriteAddress(ImapResponseWriter writer, InternetAddress address, bool utf8)
    {
        if (address is GroupAddress group)
        {
            // RFC 3501 §7.4.2: a group is (NIL NIL "name" NIL), its members, then (NIL NIL NIL NIL).
            writer.BeginList().Nil().Nil().String(Phrase(group.Name, utf8) ?? string.Empty).Nil().EndList();
            foreach (var member in group.Members)
            {
                writer.Adjoin();
                WriteAddress(writer, member, utf8);
            }

            writer.Adjoin().BeginList().Nil().Nil().Nil().Nil().EndList();
            return;
        }

        if (address is MailboxAddress mailbox)
        {
            var at = mailbox.Address.LastIndexOf('@');
            var local = at < 0 ? mailbox.Address : mailbox.Address[..at];
            var host = at < 0 ? null : mailbox.Address[(at + 1)..];
            // addr-adl: an obsolete source route ("<@route:user@domain>") is kept as "@route[,@route2]" (RFC 3501 §9).
            var route = mailbox.Route.Count == 0 ? null : string.Join(',', mailbox.Route.Select(d => "@" + d));
            writer.BeginList().NString(Phrase(mailbox.Name, utf8)).NString(route).String(local).NString(host).EndList();
        }
    }

    private static string? Phrase(string? name, bool utf8)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        // Without UTF-8 on the wire, non-ASCII display names go back into encoded-words (RFC 2047) as a client expects.
        return utf8 || Ascii.IsValid(name) ? name : Encoding.ASCII.GetString(Rfc2047.EncodePhrase(Encoding.UTF8, name));
    }

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
