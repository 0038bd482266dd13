using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Postern.Pki;

namespace Postern.IntegrationTests.Infrastructure;

/// <summary>A throwaway CA and server certificate for connection-layer tests that run without the PKI.</summary>
public sealed class TestCertificates : IServerCertificateSelector
{
    private static readonly Lazy<TestCertificates> s_shared = new(() => new TestCertificates("localhost"));
    private readonly SslStreamCertificateContext _context;

    public TestCertificates(string hostName)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // A root per instance, named after its host: chain building finds an issuer by name, so two test roots of one
        // name in a trust store would be mistaken for each other.
        var caRequest = new CertificateRequest("CN=Postern Test Root for " + hostName, caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Root = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + hostName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostName);
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(Root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMonths(6), RandomNumberGenerator.GetBytes(12));
        using var withKey = issued.CopyWithPrivateKey(key);

        // SslStream on Linux needs a key it can hand to OpenSSL: round-trip through PKCS#12.
        Server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        _context = SslStreamCertificateContext.Create(Server, [Root], offline: true);
    }

    public static TestCertificates Shared => s_shared.Value;

    public X509Certificate2 Root { get; }

    public X509Certificate2 Server { get; }

    public SslStreamCertificateContext? Select(long virtualServerId, string? serverName) => _context;

    /// <summary>A validation callback for clients that trusts exactly this test root.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) => ChainsTo(certificate, Root);

    /// <summary>Whether the certificate chains to the root, trusting that root and nothing else (no revocation check).</summary>
    public static bool ChainsTo(X509Certificate? certificate, X509Certificate2 root)
    {
        if (certificate is null)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(root);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }
}
