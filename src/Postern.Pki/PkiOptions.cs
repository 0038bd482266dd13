namespace Postern.Pki;

public sealed class PkiOptions
{
    /// <summary>
    /// Where relying parties fetch the CRL (<c>ca.crl</c>) and the CA certificate (<c>ca.crt</c>); <c>{hostName}</c> is
    /// replaced by the host name given at first start. Written into every issued certificate (CDP and AIA).
    /// </summary>
    public string PublicBaseUrl { get; init; } = "http://{hostName}/pki/";

    public KeyAlgorithm DefaultKeyAlgorithm { get; init; } = KeyAlgorithm.P256;

    public int CaValidityYears { get; init; } = 10;

    public int ServerCertificateValidityDays { get; init; } = 730;

    public int ClientCertificateValidityDays { get; init; } = 365;

    /// <summary>Mode of a CA created at first start; can be changed later.</summary>
    public CaMode InitialCaMode { get; init; } = CaMode.Enterprise;

    public TimeSpan CrlValidity { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Built-in-CA server certificates are renewed automatically this many days before they expire.</summary>
    public int RenewalWindowDays { get; init; } = 30;

    /// <summary>Whether certificates from public CAs (the operating system's trusted roots) may be installed.</summary>
    public bool TrustSystemRoots { get; init; } = true;

    /// <summary>Largest certificate, chain, PKCS#7 or PFX file accepted.</summary>
    public int MaxFileBytes { get; init; } = 256 * 1024;

    /// <summary>Longest PKCS#10 request accepted for signing.</summary>
    public int MaxRequestChars { get; init; } = 64 * 1024;

    public int MaxNamesPerCertificate { get; init; } = 100;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
