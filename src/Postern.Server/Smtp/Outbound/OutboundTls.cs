using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Postern.Server.Smtp.Outbound;

/// <summary>Whether a peer's certificate is valid for the name it was reached by: the system's roots or the organization's.</summary>
internal static class OutboundTls
{
    /// <param name="errors">What the TLS layer found, with the name checked against the host connected to.</param>
    /// <param name="roots">The organization's trusted roots (the built-in CA, imported ones), besides the system's.</param>
    public static bool IsTrusted(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, IReadOnlyCollection<X509Certificate2> roots)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // A wrong name or no certificate is never made good by another root.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0 || roots.Count == 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots.ToArray());
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }
}
