using Microsoft.Extensions.Logging;

namespace Postern.Server.Imap;

/// <summary>IMAP log events (5000–5099).</summary>
internal static partial class ImapLog
{
    [LoggerMessage(5001, LogLevel.Information, "IMAP login {Account} from {Remote}")]
    public static partial void LoggedIn(this ILogger logger, string account, object remote);

    [LoggerMessage(5002, LogLevel.Error, "IMAP {Command} failed")]
    public static partial void CommandFailed(this ILogger logger, Exception exception, string command);

    [LoggerMessage(5003, LogLevel.Debug, "IMAP session {Id} ended")]
    public static partial void SessionEnded(this ILogger logger, Exception exception, object id);
}
