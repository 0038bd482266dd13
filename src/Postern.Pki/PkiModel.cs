using System.Security.Cryptography.X509Certificates;

namespace Postern.Pki;

/// <summary>What a stored certificate is for; persisted by name (see CertificateKinds).</summary>
public enum CertificateKind
{
    Server = 0,
    Client = 1,
    Ca = 2,
    TrustedRoot = 3,
    Intermediate = 4,
}

/// <summary>Enterprise issues at once; standalone holds requests until an administrator approves them.</summary>
public enum CaMode
{
    Enterprise = 0,
    Standalone = 1,
}

/// <summary>An expected outcome: success, or a refusal with a message meant for the administrator.</summary>
public record PkiResult(bool Succeeded, string? Error)
{
    public static PkiResult Ok() => new(true, null);

    public static PkiResult Fail(string error) => new(false, error);
}

public sealed record PkiResult<T>(bool Succeeded, T? Value, string? Error) : PkiResult(Succeeded, Error)
{
    public static PkiResult<T> Ok(T value) => new(true, value, null);

    public static new PkiResult<T> Fail(string error) => new(false, default, error);
}

public sealed record CertificateInfo(
    long Id,
    string Thumbprint,
    CertificateKind Kind,
    string FriendlyName,
    string Subject,
    string Issuer,
    string SerialNumber,
    IReadOnlyList<string> SubjectAlternativeNames,
    IReadOnlyList<string> EnhancedKeyUsages,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    bool HasPrivateKey,
    IReadOnlyList<long> VirtualServerIds);

/// <summary>The summary the wizard shows after an install (the article's "certificate details").</summary>
public sealed record InstalledCertificateSummary(
    long VirtualServerId,
    string IssuedTo,
    string IssuedBy,
    DateTimeOffset NotBefore,
    DateTimeOffset Expires,
    IReadOnlyList<string> IntendedPurposes,
    string FriendlyName,
    string Thumbprint,
    IReadOnlyList<string> SubjectAlternativeNames);

public sealed record IssuedCertificate(string SerialNumber, string Thumbprint, long? CertificateId, string CertificatePem, DateTimeOffset NotAfter);

public sealed record IssuedCertificateInfo(
    string SerialNumber,
    string Profile,
    string Subject,
    IReadOnlyList<string> SubjectAlternativeNames,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset Issued,
    string? Requester,
    bool Revoked,
    X509RevocationReason? RevocationReason,
    DateTimeOffset? RevokedAt);

public sealed record CaInfo(
    string Kind,
    CaMode Mode,
    string? Subject,
    string? Thumbprint,
    DateTimeOffset? NotAfter,
    bool HasPendingSubordinateRequest,
    long CrlNumber);

public sealed record BootstrapSummary(bool CreatedCa, string CaSubject, string? ServerThumbprint, IReadOnlyList<long> AssignedVirtualServerIds);

public sealed record CaRequestInfo(long Id, string Profile, string Subject, string? Requester, string Status, DateTimeOffset Submitted, DateTimeOffset? Decided, string? SerialNumber, string? Reason);

public sealed record ExpiringCertificate(string Thumbprint, string FriendlyName, string Subject, CertificateKind Kind, DateTimeOffset NotAfter, IReadOnlyList<long> VirtualServerIds, bool Expired);

public sealed record ExpiryReport(IReadOnlyList<ExpiringCertificate> Certificates, DateTimeOffset? CrlNextUpdate, bool CrlNeedsRefresh);

public sealed record RenewalOutcome(string OldThumbprint, string? NewThumbprint, IReadOnlyList<long> VirtualServerIds, string? Error);

/// <summary>Who a user certificate belongs to, or why it belongs to nobody.</summary>
public sealed record ClientCertificateResolution(string? AccountAddress, string? Error);

internal static class CertificateKinds
{
    public static string Name(CertificateKind kind) => kind switch
    {
        CertificateKind.Server => "server",
        CertificateKind.Client => "client",
        CertificateKind.Ca => "ca",
        CertificateKind.TrustedRoot => "trusted-root",
        CertificateKind.Intermediate => "intermediate",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static CertificateKind Parse(string name) => name switch
    {
        "server" => CertificateKind.Server,
        "client" => CertificateKind.Client,
        "ca" => CertificateKind.Ca,
        "trusted-root" => CertificateKind.TrustedRoot,
        "intermediate" => CertificateKind.Intermediate,
        _ => throw new InvalidDataException("unknown certificate kind " + name),
    };

    public static string ModeName(CaMode mode) => mode == CaMode.Standalone ? "standalone" : "enterprise";

    public static CaMode ParseMode(string name) => name == "standalone" ? CaMode.Standalone : CaMode.Enterprise;
}
