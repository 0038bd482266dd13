namespace Postern.Pki;

public sealed partial class PkiService
{
    /// <summary>
    /// The roots the organization trusts, PEM: imported external roots and every self-issued CA certificate
    /// (the built-in root). Clients and `postern check` verify served chains against exactly these.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListTrustedRootPemsAsync(CancellationToken cancellationToken)
    {
        var roots = new List<string>();
        foreach (var row in await _repository.ListCertificatesAsync(cancellationToken))
        {
            if (row.Kind is not (CertificateKind.TrustedRoot or CertificateKind.Ca))
            {
                continue;
            }

            using var certificate = row.Load();
            if (CertificateFacts.IsSelfIssued(certificate))
            {
                roots.Add(CertificateFacts.ToPem(certificate));
            }
        }

        return roots;
    }

    /// <summary>
    /// What the CLI trusts for the admin endpoint, PEM: the CA certificate first (what `ca export` gives), the chain
    /// above it (a subordinate CA's external root), then every other root the organization trusts. The HTTPS virtual
    /// server may serve a certificate from any of them: one its CA issued before it became subordinate, or one from an
    /// external CA (the wizard installs only certificates that chain to a trusted root).
    /// </summary>
    public async Task<string?> ExportAdminTrustPemAsync(CancellationToken cancellationToken)
    {
        var pem = await ExportCaChainPemAsync(cancellationToken);
        if (pem is null)
        {
            return null;
        }

        foreach (var root in await ListTrustedRootPemsAsync(cancellationToken))
        {
            if (!pem.Contains(root, StringComparison.Ordinal))
            {
                pem += root;
            }
        }

        return pem;
    }
}
