namespace Postern.Pki;

public sealed record PkiOptions
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

    /// <summary>
    /// How long a logon may wait for another CA's CRL (fetched from the user certificate's CRL distribution point, then
    /// cached until its next update). A certificate whose CRL cannot be had in that time is refused.
    /// </summary>
    public TimeSpan ExternalCrlTimeout { get; init; } = TimeSpan.FromSeconds(5);

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

    /// <summary>The limits an administrator sets with <c>postern serve --pki-limit NAME=VALUE</c>.</summary>
    public static IReadOnlyList<string> LimitNames { get; } =
    [
        "ca-validity-years", "server-certificate-days", "client-certificate-days", "renewal-window-days", "crl-validity-hours",
        "external-crl-timeout-seconds", "max-file-kb", "max-request-kb", "max-names",
    ];

    /// <summary>These options with one limit set, or null for a name not in <see cref="LimitNames"/>.</summary>
    public PkiOptions? WithLimit(string name, int value) => name switch
    {
        "ca-validity-years" => this with { CaValidityYears = value },
        "server-certificate-days" => this with { ServerCertificateValidityDays = value },
        "client-certificate-days" => this with { ClientCertificateValidityDays = value },
        "renewal-window-days" => this with { RenewalWindowDays = value },
        "crl-validity-hours" => this with { CrlValidity = TimeSpan.FromHours(value) },
        "external-crl-timeout-seconds" => this with { ExternalCrlTimeout = TimeSpan.FromSeconds(value) },
        "max-file-kb" => this with { MaxFileBytes = value * 1024 },
        "max-request-kb" => this with { MaxRequestChars = value * 1024 },
        "max-names" => this with { MaxNamesPerCertificate = value },
        _ => null,
    };

    /// <summary>
    /// These options with every NAME=VALUE pair applied and checked together, or null and why (an unknown name, a value
    /// that is no number, a combination <see cref="Validate"/> refuses).
    /// </summary>
    public PkiOptions? WithLimits(IEnumerable<string> pairs, out string? error)
    {
        var options = this;
        foreach (var pair in pairs)
        {
            if (!Store.NamedLimit.TryParse(pair, out var name, out var value))
            {
                error = $"PKI limit '{pair}' is not NAME=NUMBER";
                return null;
            }

            options = options.WithLimit(name, value);
            if (options is null)
            {
                error = $"unknown PKI limit '{name}' (one of {string.Join(", ", LimitNames)})";
                return null;
            }
        }

        var problems = options.Validate();
        error = problems.Count == 0 ? null : string.Join("; ", problems);
        return problems.Count == 0 ? options : null;
    }

    /// <summary>Every problem with these options (empty when they are usable), for validation at start; named as `--pki-limit` names them.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (PublicBaseUrl.Length > 0 && !Uri.TryCreate(PublicBaseUrl.Replace("{hostName}", "host.invalid", StringComparison.Ordinal), UriKind.Absolute, out _))
        {
            problems.Add("PublicBaseUrl must be an absolute URL (or empty to leave CRL and AIA URLs out)");
        }

        if (CaValidityYears is < 1 or > 30)
        {
            problems.Add("ca-validity-years must be 1 to 30");
        }

        if (ServerCertificateValidityDays is < 1 or > 3650 || ClientCertificateValidityDays is < 1 or > 3650)
        {
            problems.Add("server-certificate-days and client-certificate-days must be 1 to 3650");
        }

        if (RenewalWindowDays < 1 || RenewalWindowDays >= ServerCertificateValidityDays)
        {
            problems.Add("renewal-window-days must be at least 1 and shorter than server-certificate-days");
        }

        if (CrlValidity < TimeSpan.FromHours(1) || CrlValidity > TimeSpan.FromDays(365))
        {
            problems.Add("crl-validity-hours must be 1 to 8760 (an hour to a year)");
        }

        if (ExternalCrlTimeout < TimeSpan.FromSeconds(1) || ExternalCrlTimeout > TimeSpan.FromMinutes(1))
        {
            problems.Add("external-crl-timeout-seconds must be 1 to 60");
        }

        if (MaxFileBytes < 4096 || MaxRequestChars < 1024 || MaxNamesPerCertificate < 1)
        {
            problems.Add("max-file-kb must be at least 4, max-request-kb at least 1 and max-names at least 1");
        }

        return problems;
    }
}
