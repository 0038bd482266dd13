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
    /// above it (a subordinate CA's external root), then every root the organization's CA has been. A CA that became
    /// subordinate still serves the certificates its old root issued until they are renewed under the new one.
    /// </summary>
    public async Task<string?> ExportAdminTrustPemAsync(CancellationToken cancellationToken)
    {
        var pem = await ExportCaChainPemAsync(cancellationToken);
        if (pem is null)
        {
            return null;
        }

        foreach (var row in await _repository.ListCertificatesAsync(cancellationToken))
        {
            using var certificate = row.Load();
            var one = CertificateFacts.ToPem(certificate);
            if (row.Kind == CertificateKind.Ca && CertificateFacts.IsSelfIssued(certificate) && !pem.Contains(one, StringComparison.Ordinal))
            {
                pem += one;
            }
        }

        return pem;
    }
}
