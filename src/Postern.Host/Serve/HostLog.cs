
namespace Postern.Host.Serve;

/// <summary>The host's log events (1000–1099: serve; 1100–1199: certificates). Event ids are stable, so a log watcher can match them as Exchange's event ids are matched.</summary>
internal static partial class HostLog
{
    [LoggerMessage(1001, LogLevel.Information, "Postern is running for {Host}; data in {Data}; admin console and API at {Url}")]
    public static partial void ServerRunning(this ILogger logger, string host, string data, string? url);

    [LoggerMessage(1002, LogLevel.Information, "{Protocol,-5} {Port,5} {Mode,-11} {VirtualServer}{Error}")]
    public static partial void Listening(this ILogger logger, object protocol, int port, object mode, string virtualServer, string error);

    [LoggerMessage(1003, LogLevel.Information, "Stopping")]
    public static partial void Stopping(this ILogger logger);

    [LoggerMessage(1004, LogLevel.Information, "First start: creating organization {Organization} with server {Server}")]
    public static partial void FirstStart(this ILogger logger, string organization, string server);

    [LoggerMessage(1005, LogLevel.Warning, "Shared configuration: cannot apply changes made elsewhere yet: {Error}")]
    public static partial void SharedConfigurationDeferred(this ILogger logger, string error);

    [LoggerMessage(1006, LogLevel.Warning, "{Problem}: writing a new admin.json with a new token")]
    public static partial void AdminCredentialsReplaced(this ILogger logger, string problem);

    [LoggerMessage(1007, LogLevel.Warning, "The previous run did not stop cleanly: every mailbox's MODSEQ moves on, so none a lost flag change took is given out again")]
    public static partial void RecoveredFromUncleanStop(this ILogger logger);

    [LoggerMessage(1008, LogLevel.Error, "Cannot write {Path}: {Error}; mail is still served, and the CLI uses the admin.json it finds")]
    public static partial void AdminFileNotSaved(this ILogger logger, string path, string error);

    [LoggerMessage(1101, LogLevel.Warning, "Certificate logon refused for {Subject}: {Reason}")]
    public static partial void CertificateLogonRefused(this ILogger logger, string subject, string? reason);

    [LoggerMessage(1102, LogLevel.Error, "Certificate expiry check failed")]
    public static partial void ExpiryCheckFailed(this ILogger logger, Exception exception);

    [LoggerMessage(1103, LogLevel.Information, "Renewed certificate {Old} as {New} for {Count} virtual server(s)")]
    public static partial void CertificateRenewed(this ILogger logger, string old, string? @new, int count);

    [LoggerMessage(1104, LogLevel.Error, "Could not renew certificate {Old}: {Error}")]
    public static partial void CertificateRenewalFailed(this ILogger logger, string old, string? error);

    [LoggerMessage(1105, LogLevel.Warning, "{Warning}")]
    public static partial void CertificateExpiring(this ILogger logger, string warning);
}
