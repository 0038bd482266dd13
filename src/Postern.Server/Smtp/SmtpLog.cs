using Microsoft.Extensions.Logging;

namespace Postern.Server.Smtp;

/// <summary>SMTP log events (3000–3099: sessions; 3100–3199: outbound delivery).</summary>
internal static partial class SmtpLog
{
    [LoggerMessage(3001, LogLevel.Error, "SMTP: could not store message {QueueId}")]
    public static partial void StoreFailed(this ILogger logger, Exception exception, string? queueId);

    [LoggerMessage(3002, LogLevel.Warning, "SMTP: message {QueueId} goes out without a DKIM signature")]
    public static partial void DkimSigningFailed(this ILogger logger, Exception exception, string? queueId);

    [LoggerMessage(3003, LogLevel.Warning, "SMTP: the DKIM signatures of message {QueueId} could not be checked")]
    public static partial void DkimCheckFailed(this ILogger logger, Exception exception, string? queueId);

    [LoggerMessage(3004, LogLevel.Warning, "SMTP: the delivery report asked for message {QueueId} could not be sent")]
    public static partial void DeliveredReportFailed(this ILogger logger, Exception exception, string? queueId);

    [LoggerMessage(3005, LogLevel.Warning, "SMTP: a message was refused for now (452): messages on their way in already hold the {CapacityBytes} octets serve --max-message-memory allows")]
    public static partial void MessageMemoryFull(this ILogger logger, long capacityBytes);

    [LoggerMessage(3101, LogLevel.Error, "Outbound delivery: queue run failed")]
    public static partial void QueueRunFailed(this ILogger logger, Exception exception);

    [LoggerMessage(3105, LogLevel.Warning, "Outbound delivery: an MX host of {Domain} is not in its MTA-STS policy (mode testing: delivered anyway)")]
    public static partial void MtaStsTestingMismatch(this ILogger logger, string domain);

    [LoggerMessage(3102, LogLevel.Error, "Outbound delivery: message {QueueId} failed unexpectedly")]
    public static partial void MessageFailedUnexpectedly(this ILogger logger, Exception exception, long queueId);

    [LoggerMessage(3103, LogLevel.Warning, "Outbound delivery: cannot build a bounce for message {QueueId} to {Sender}: {Error}")]
    public static partial void BounceNotBuilt(this ILogger logger, long queueId, string sender, string error);

    [LoggerMessage(3104, LogLevel.Warning, "Outbound delivery: bounce for message {QueueId} dropped, local sender {Sender} does not exist")]
    public static partial void BounceDropped(this ILogger logger, long queueId, string sender);

    // One line per recipient and attempt, as Postfix's status=sent/deferred/bounced, under the number `postern queue` shows.
    [LoggerMessage(3106, LogLevel.Information, "Outbound delivery: message {QueueId} to <{Recipient}> sent via {Relay}: {Reply}")]
    public static partial void Delivered(this ILogger logger, long queueId, string recipient, string relay, string reply);

    [LoggerMessage(3107, LogLevel.Information, "Outbound delivery: message {QueueId} to <{Recipient}> deferred: {Reason}")]
    public static partial void Deferred(this ILogger logger, long queueId, string recipient, string reason);

    [LoggerMessage(3108, LogLevel.Warning, "Outbound delivery: message {QueueId} to <{Recipient}> bounced: {Reason}")]
    public static partial void Bounced(this ILogger logger, long queueId, string recipient, string reason);
}
