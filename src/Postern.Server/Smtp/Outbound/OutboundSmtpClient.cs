using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace Postern.Server.Smtp.Outbound;

/// <summary>
/// MailKit's client with the queue's envelope: per-recipient NOTIFY and ENVID/RET are passed on (RFC 3461), and a
/// refused recipient is recorded instead of failing the whole message. ORCPT is MailKit's own (the recipient as sent,
/// with NOTIFY only): its client offers no way to pass on the one received (RFC 3461 §5.2.1(d)); docs/rfcs.md says so.
/// </summary>
internal sealed class OutboundSmtpClient : SmtpClient
{
    private readonly IReadOnlyDictionary<string, string?> _notify;
    private readonly string? _envelopeId;

    private readonly bool _eightBit;

    /// <param name="eightBit">Whether the message as queued has any octet above 127 (header or body).</param>
    public OutboundSmtpClient(IReadOnlyDictionary<string, string?> notify, string? envelopeId, string? ret, bool eightBit = false)
    {
        _notify = notify;
        _envelopeId = envelopeId;
        _eightBit = eightBit;
        DeliveryStatusNotificationType =
            string.Equals(ret, "HDRS", StringComparison.OrdinalIgnoreCase) ? DeliveryStatusNotificationType.HeadersOnly
            : string.Equals(ret, "FULL", StringComparison.OrdinalIgnoreCase) ? DeliveryStatusNotificationType.Full
            : DeliveryStatusNotificationType.Unspecified;
    }

    public Dictionary<string, SmtpResponse> Refused { get; } = new(StringComparer.OrdinalIgnoreCase);

    protected override string? GetEnvelopeId(MimeMessage message) => _envelopeId is null ? null : Protocols.Smtp.SmtpCommandParser.TryDecodeXtext(_envelopeId, out var id) ? id : null;

    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox)
    {
        if (!_notify.TryGetValue(mailbox.Address, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        var result = DeliveryStatusNotification.Never;
        foreach (var item in value.Split(','))
        {
            result |= item.Trim().ToUpperInvariant() switch
            {
                "SUCCESS" => DeliveryStatusNotification.Success,
                "FAILURE" => DeliveryStatusNotification.Failure,
                "DELAY" => DeliveryStatusNotification.Delay,
                _ => DeliveryStatusNotification.Never,
            };
        }

        return result;
    }

    /// <summary>
    /// Makes 8-bit content fit a next hop that cannot take it. MailKit leaves a DKIM- or ARC-signed message as it is
    /// (re-encoding breaks the signature), which sent raw 8-bit to a 7-bit server: RFC 6152 §3 allows only converting
    /// or not sending, so the body is converted anyway, as Postfix does. Without SMTPUTF8, 8-bit header fields are
    /// put in RFC 2047 encoded words; what cannot be (a UTF-8 address) is not sent (RFC 6531 §3.2).
    /// </summary>
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        if (!_eightBit)
        {
            base.Prepare(options, message, constraint, maxLineLength);
            return;
        }

        if ((Capabilities & SmtpCapabilities.UTF8) == 0)
        {
            var ascii = options.Clone();
            ascii.International = false;
            var headers = message.Headers.Concat(Entities(message).SelectMany(e => e.Headers));
            foreach (var header in headers.Where(h => !IsAscii(h.RawValue)).ToList())
            {
                header.SetValue(ascii, System.Text.Encoding.UTF8, header.Value);
                if (!IsAscii(header.RawValue))
                {
                    throw new NotSupportedException($"the {header.Field} header field needs SMTPUTF8, which the server does not offer");
                }
            }
        }

        if (constraint == EncodingConstraint.SevenBit)
        {
            message.Prepare(constraint, maxLineLength);

            // A Content-Transfer-Encoding means nothing without MIME-Version (RFC 2045 §4): a message that had neither
            // would reach the reader as raw base64.
            message.MimeVersion ??= new Version(1, 0);
        }
        else
        {
            base.Prepare(options, message, constraint, maxLineLength);
        }
    }

    private static bool IsAscii(byte[] value) => System.Text.Ascii.IsValid(value);

    private static IEnumerable<MimeEntity> Entities(MimeMessage message)
    {
        using var iterator = new MimeIterator(message);
        while (iterator.MoveNext())
        {
            yield return iterator.Current;
        }
    }

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        Refused[mailbox.Address] = response;

    protected override void OnNoRecipientsAccepted(MimeMessage message) => throw new NoRecipientsAcceptedException();
}

/// <summary>Every recipient was refused at RCPT time; the individual replies are in <see cref="OutboundSmtpClient.Refused"/>.</summary>
internal sealed class NoRecipientsAcceptedException : Exception
{
    public NoRecipientsAcceptedException()
        : base("no recipients accepted")
    {
    }

    public NoRecipientsAcceptedException(string message)
        : base(message)
    {
    }

    public NoRecipientsAcceptedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
