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
}
