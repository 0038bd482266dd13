using Microsoft.Extensions.Logging;

namespace Postern.Server.Pop3;

/// <summary>POP3 log events (4000–4099).</summary>
internal static partial class Pop3Log
{
    [LoggerMessage(4001, LogLevel.Information, "POP3 login {Account} ({Mechanism}) from {Remote}")]
    public static partial void LoggedIn(this ILogger logger, string account, string mechanism, object remote);

    [LoggerMessage(4002, LogLevel.Error, "POP3: cannot open the maildrop of {Account}")]
    public static partial void MaildropUnavailable(this ILogger logger, Exception exception, string account);

    [LoggerMessage(4003, LogLevel.Error, "POP3: removing deleted messages of {Account} failed")]
    public static partial void UpdateFailed(this ILogger logger, Exception exception, string account);

    [LoggerMessage(4004, LogLevel.Warning, "POP3: could not refresh maildrop locks")]
    public static partial void LockRefreshFailed(this ILogger logger, Exception exception);

    [LoggerMessage(4005, LogLevel.Warning, "POP3: the disk is full; maildrop {MailboxId} is locked in this process only")]
    public static partial void LockWithoutRow(this ILogger logger, long mailboxId);
}
