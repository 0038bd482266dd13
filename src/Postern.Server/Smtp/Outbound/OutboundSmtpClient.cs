using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace Postern.Server.Smtp.Outbound;

/// <summary>
/// MailKit's client with the queue's envelope: per-recipient NOTIFY/ORCPT and ENVID/RET are passed on (RFC 3461),
/// and a refused recipient is recorded instead of failing the whole message.
/// </summary>
internal sealed class OutboundSmtpClient : SmtpClient
{
    private readonly IReadOnlyDictionary<string, string?> _notify;
    private readonly string? _envelopeId;

    public OutboundSmtpClient(IReadOnlyDictionary<string, string?> notify, string? envelopeId, string? ret)
    {
        _notify = notify;
        _envelopeId = envelopeId;
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
