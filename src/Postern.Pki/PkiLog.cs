using Microsoft.Extensions.Logging;

namespace Postern.Pki;

/// <summary>Certificate and CA log events (7000–7099).</summary>
internal static partial class PkiLog
{
    [LoggerMessage(7001, LogLevel.Information, "Assigned server certificate {Thumbprint} for {Host} to {Count} virtual server(s)")]
    public static partial void HostCertificateAssigned(this ILogger logger, string? thumbprint, string host, int count);

    [LoggerMessage(7002, LogLevel.Information, "Created the organization's root CA {Subject} ({Thumbprint})")]
    public static partial void RootCreated(this ILogger logger, string subject, string thumbprint);

    [LoggerMessage(7003, LogLevel.Warning, "Revoked serial {Serial} ({Subject}), reason {Reason}")]
    public static partial void Revoked(this ILogger logger, string serial, string subject, object reason);

    [LoggerMessage(7004, LogLevel.Warning, "Revoked certificate {Thumbprint} is still assigned to a virtual server; renew or replace it")]
    public static partial void RevokedStillAssigned(this ILogger logger, string thumbprint);

    [LoggerMessage(7005, LogLevel.Information, "Issued {Profile} certificate serial {Serial} to {Subject}")]
    public static partial void Issued(this ILogger logger, string profile, string serial, string subject);

    [LoggerMessage(7006, LogLevel.Information, "Imported {Count} trusted root certificate(s)")]
    public static partial void TrustedRootsImported(this ILogger logger, int count);

    [LoggerMessage(7007, LogLevel.Information, "Installed subordinate CA certificate {Subject} issued by {Issuer}")]
    public static partial void SubordinateInstalled(this ILogger logger, string subject, string issuer);

    [LoggerMessage(7008, LogLevel.Error, "Automatic renewal of {Thumbprint} failed: {Reason}")]
    public static partial void AutomaticRenewalFailed(this ILogger logger, string thumbprint, string? reason);

    [LoggerMessage(7009, LogLevel.Warning, "Certificate wizard {Action} on virtual server {Id} refused: {Reason}")]
    public static partial void WizardRefused(this ILogger logger, object action, long id, string? reason);

    [LoggerMessage(7010, LogLevel.Information, "Renewed certificate {Old} as {New}")]
    public static partial void Renewed(this ILogger logger, string old, string @new);

    [LoggerMessage(7011, LogLevel.Warning, "Certificate {Thumbprint} ({Name}) is assigned but has no private key; skipped")]
    public static partial void NoPrivateKey(this ILogger logger, string thumbprint, string? name);

    [LoggerMessage(7012, LogLevel.Error, "Certificate {Thumbprint} ({Name}) cannot be loaded: {Reason}")]
    public static partial void CannotLoad(this ILogger logger, string thumbprint, string? name, string reason);
}
