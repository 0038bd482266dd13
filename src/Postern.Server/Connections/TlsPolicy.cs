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

    public static SslProtocols Protocols(Store.SecurityOptions security) =>
        security.MinimumTlsVersion == "1.3" ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>
    /// The explicit suite list for a handshake, or null to use OpenSSL's defaults. With an explicit list .NET builds a
    /// new SSL_CTX for every handshake (no session resumption, about 0.3 ms more server CPU per IMAPS session and a context
    /// held per connection); without one it caches the SSL_CTX per certificate. So the list is set only when the virtual
    /// server requires 128-bit encryption, where the handshake itself must refuse everything else; otherwise the
    /// defaults are used and <see cref="IsAcceptable"/> checks the negotiated suite before any protocol byte is sent.
    /// </summary>
    public static CipherSuitesPolicy? CipherSuites(Store.SecurityOptions security)
    {
        // TLS 1.3 only: OpenSSL's default TLS 1.3 suites are exactly Tls13Suites.
        if ((!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) || security.MinimumTlsVersion == "1.3" || !security.Require128BitEncryption)
        {
            return null;
        }

        return new CipherSuitesPolicy(Tls13Suites.Concat(Tls12AeadSuites));
    }

    /// <summary>
    /// Whether a negotiated suite meets the policy: TLS 1.2 or 1.3, at least 128 bits, and forward secrecy
    /// (ECDHE, or DHE from OpenSSL's defaults) for TLS 1.2. A connection that fails is closed before its greeting.
    /// </summary>
    public static bool IsAcceptable(SslProtocols protocol, TlsCipherSuite suite, Store.SecurityOptions security)
    {
        if (protocol is not (SslProtocols.Tls12 or SslProtocols.Tls13) || CipherStrength(suite) < 128)
        {
            return false;
        }

        if (protocol == SslProtocols.Tls13)
        {
            return true;
        }

        var name = suite.ToString();
        if (!name.StartsWith("TLS_ECDHE_", StringComparison.Ordinal) && !name.StartsWith("TLS_DHE_", StringComparison.Ordinal))
        {
            return false;
        }

        return !security.Require128BitEncryption || Tls12AeadSuites.Contains(suite);
    }

    /// <summary>Bulk cipher key length of a negotiated suite, as the article's "128-bit" means it.</summary>
    public static int CipherStrength(TlsCipherSuite suite)
    {
        var name = suite.ToString();
        if (name.Contains("AES_256", StringComparison.Ordinal) || name.Contains("CHACHA20", StringComparison.Ordinal)
            || name.Contains("ARIA_256", StringComparison.Ordinal) || name.Contains("CAMELLIA_256", StringComparison.Ordinal))
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
