using MimeKit;
using MimeKit.Utils;
using Postern.Protocols.Smtp;
using Postern.Store;

namespace Postern.Server.Smtp.Outbound;

/// <summary>One recipient's line in a delivery status notification.</summary>
/// <param name="FromPeer">
/// Whether <paramref name="Diagnostic"/> is a reply of the remote MTA (diagnostic type "smtp", RFC 3464 §2.3.6) or
/// this server's own words ("X-Postern", as Postfix writes "X-Postfix").
/// </param>
internal sealed record RecipientReport(QueuedRecipient Recipient, string Action, string Status, string Diagnostic, string? RemoteMta, bool FromPeer = true);

/// <summary>Builds RFC 3464 delivery status notifications (multipart/report; report-type=delivery-status, RFC 6522) with MimeKit.</summary>
internal static class DeliveryStatusReport
{
    public static MimeMessage Build(string reportingHost, QueuedMessage queued, IReadOnlyList<RecipientReport> recipients, MimeMessage? original, DateTimeOffset now, DateTimeOffset? willRetryUntil = null)
    {
        // A diagnostic of several lines (a multi-line reply, a local error) is one line here: header folding would
        // drop the line breaks and run its sentences together.
        recipients = [.. recipients.Select(r => r with { Diagnostic = string.Join(' ', r.Diagnostic.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) })];
        var delayed = recipients.All(r => r.Action == "delayed");
        var succeeded = recipients.All(r => r.Action is "relayed" or "delivered");
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + reportingHost));
        message.To.Add(MailboxAddress.Parse(queued.Sender));
        message.Subject = delayed ? "Delayed Mail (still being retried)" : succeeded ? "Successful Mail Delivery Report" : "Undelivered Mail Returned to Sender";
        message.Date = now;
        message.MessageId = MimeUtils.GenerateMessageId(reportingHost);

        // RFC 3834 §5: automatic responses must not trigger further automatic responses.
        message.Headers.Add("Auto-Submitted", "auto-replied");

        var text = new System.Text.StringBuilder();
        text.Append("This is the mail system at host ").Append(reportingHost).Append(".\n\n");
        text.Append(delayed
            ? "Your message could not be delivered yet to the recipients below. The mail system will keep trying.\n\n"
            : recipients.All(r => r.Action == "delivered")
            ? "Your message was delivered to the mailboxes of the recipients below.\n\n"
            : succeeded
            ? "Your message was passed on to the recipients' mail systems below. They do not report delivery, so you will get no further notice.\n\n"
            : "Your message could not be delivered to one or more recipients. It is attached below.\n\n");
        foreach (var r in recipients)
        {
            text.Append('<').Append(r.Recipient.Address).Append(">: ").Append(r.Diagnostic).Append('\n');
        }

        var report = new MultipartReport("delivery-status");
        report.Add(new TextPart("plain") { Text = text.ToString() });

        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList
        {
            { "Reporting-MTA", "dns; " + reportingHost },
        };
        if (!string.IsNullOrEmpty(queued.EnvelopeId) && SmtpCommandParser.TryDecodeXtext(queued.EnvelopeId, out var envelopeId))
        {
            // RFC 3461 §4.4: the ENVID as the sender gave it, decoded from xtext (as Postfix reports it); one that decodes
            // to control or non-ASCII characters stays xtext, so it cannot break the field.
            perMessage.Add("Original-Envelope-Id", envelopeId.All(c => c is >= ' ' and <= '~') ? envelopeId : queued.EnvelopeId);
        }

        perMessage.Add("Arrival-Date", DateUtils.FormatDate(queued.Created));
        status.StatusGroups.Add(perMessage);
        foreach (var r in recipients)
        {
            var group = new HeaderList();
            if (!string.IsNullOrEmpty(r.Recipient.OriginalRecipient))
            {
                group.Add("Original-Recipient", DecodedOriginalRecipient(r.Recipient.OriginalRecipient));
            }

            group.Add("Final-Recipient", IsAscii(r.Recipient.Address) ? "rfc822; " + r.Recipient.Address : "utf-8; " + Utf8AddrXtext(r.Recipient.Address));
            group.Add("Action", r.Action);
            group.Add("Status", r.Status);
            if (r.RemoteMta is not null)
            {
                group.Add("Remote-MTA", "dns; " + r.RemoteMta);
            }

            group.Add("Diagnostic-Code", (r.FromPeer ? "smtp; " : "X-Postern; ") + r.Diagnostic);
            group.Add("Last-Attempt-Date", DateUtils.FormatDate(now));
            if (r.Action == "delayed" && willRetryUntil is { } until)
            {
                group.Add("Will-Retry-Until", DateUtils.FormatDate(until));
            }
            status.StatusGroups.Add(group);
        }

        report.Add(status);
        if (original is not null)
        {
            // RFC 3461 §4.3: RET=HDRS asks for the header only, and a DSN reporting no failure returns only the header.
            if (succeeded || string.Equals(queued.Ret, "HDRS", StringComparison.OrdinalIgnoreCase))
            {
                using var headers = new MemoryStream();
                original.Headers.WriteTo(headers);
                headers.Position = 0;
                report.Add(new MimePart("text", "rfc822-headers") { Content = new MimeContent(new MemoryStream(headers.ToArray())) });
            }
            else
            {
                report.Add(new MessagePart("rfc822") { Message = original });
            }
        }

        message.Body = report;
        return message;
    }

    /// <summary>
    /// RFC 3464 §2.3.1: the ORCPT as the sender gave it, "addr-type; address", its rfc822 address decoded from xtext as
    /// Postfix reports it; any other type, or one that decodes to control or non-ASCII characters, stays as received.
    /// </summary>
    private static string DecodedOriginalRecipient(string orcpt)
    {
        var semicolon = orcpt.IndexOf(';', StringComparison.Ordinal);
        return semicolon > 0 && orcpt[..semicolon].Trim().Equals("rfc822", StringComparison.OrdinalIgnoreCase)
            && SmtpCommandParser.TryDecodeXtext(orcpt[(semicolon + 1)..].Trim(), out var address) && address.All(c => c is > ' ' and <= '~')
            ? orcpt[..(semicolon + 1)] + address
            : orcpt;
    }

    /// <summary>Whether the recipient asked for this kind of notification (RFC 3461 §4.1; default: failures only).</summary>
    public static bool Wants(QueuedRecipient recipient, string kind)
    {
        if (string.IsNullOrEmpty(recipient.Notify))
        {
            return kind == "FAILURE";
        }

        return recipient.Notify.Split(',').Contains(kind, StringComparer.OrdinalIgnoreCase);
    }

    private static bool IsAscii(string text) => System.Text.Ascii.IsValid(text);

    /// <summary>
    /// RFC 6533 §3 utf-8-addr-xtext, the 7-bit form of a UTF-8 address that message/delivery-status needs (its fields
    /// are US-ASCII, RFC 3464 §2.1): printable ASCII but '\', '+' and '=' stays, anything else is \x{HEX}.
    /// </summary>
    internal static string Utf8AddrXtext(string address)
    {
        var text = new System.Text.StringBuilder(address.Length * 2);
        foreach (var rune in address.EnumerateRunes())
        {
            if (rune.Value is >= 0x21 and <= 0x7E and not '\\' and not '+' and not '=')
            {
                text.Append((char)rune.Value);
            }
            else
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\x{{{rune.Value:X2}}}");
            }
        }

        return text.ToString();
    }
}
