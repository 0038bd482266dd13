using System.Net.Security;
using System.Security.Authentication;

namespace Postern.Server.Connections;

/// <summary>
/// Postern's TLS policy: TLS 1.2 and 1.3 only, never a cipher below 128 bits, ECDHE key exchange only.
/// "Require 128-bit encryption" (the article's Access tab) narrows TLS 1.2 further to AEAD suites.
/// </summary>
public static class TlsPolicy
{
    private static readonly TlsCipherSuite[] Tls13Suites =
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];

    private static readonly TlsCipherSuite[] Tls12AeadSuites =
    [
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    // Still 128 bits or more, for old clients that lack AEAD; only when 128-bit AEAD is not required.
    private static readonly TlsCipherSuite[] Tls12CbcSuites =
    [
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    ];

    public static SslProtocols Protocols(Store.SecurityOptions security) =>
        security.MinimumTlsVersion == "1.3" ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13;

    public static CipherSuitesPolicy? CipherSuites(Store.SecurityOptions security)
    {
        // TLS 1.3 only: OpenSSL's default TLS 1.3 suites are exactly Tls13Suites, so no explicit policy is needed;
        // and without one .NET caches the SSL_CTX per certificate (with one it builds a new SSL_CTX for every
        // handshake: about 2 ms of server CPU per connection on a 2-core Xeon, see docs/PERFORMANCE.md).
        if ((!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) || security.MinimumTlsVersion == "1.3")
        {
            return null;
        }

        IEnumerable<TlsCipherSuite> suites = security.MinimumTlsVersion == "1.3" ? Tls13Suites : Tls13Suites.Concat(Tls12AeadSuites);
        if (!security.Require128BitEncryption && security.MinimumTlsVersion != "1.3")
        {
            suites = suites.Concat(Tls12CbcSuites);
        }

        return new CipherSuitesPolicy(suites);
    }

    /// <summary>Bulk cipher key length of a negotiated suite, as the article's "128-bit" means it.</summary>
    public static int CipherStrength(TlsCipherSuite suite)
    {
        var name = suite.ToString();
        if (name.Contains("AES_256", StringComparison.Ordinal) || name.Contains("CHACHA20", StringComparison.Ordinal))
        {
            return 256;
        }

        if (name.Contains("AES_128", StringComparison.Ordinal) || name.Contains("ARIA_128", StringComparison.Ordinal) || name.Contains("CAMELLIA_128", StringComparison.Ordinal))
        {
            return 128;
        }

        return name.Contains("3DES", StringComparison.Ordinal) ? 112 : 0;
    }
}
