using Postern.Server.Connections;
using Postern.Store;

namespace Postern.UnitTests.Connections;

public sealed class TlsPolicyTests
{
    [Fact]
    public void Tls13OnlyNeedsNoCipherPolicy()
    {
        // OpenSSL's TLS 1.3 defaults are the three suites Postern allows; no policy lets .NET reuse the SSL_CTX.
        var security = new SecurityOptions { MinimumTlsVersion = "1.3", Require128BitEncryption = true };

        Assert.Null(TlsPolicy.CipherSuites(security));
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, TlsPolicy.Protocols(security));
    }

    [Fact]
    public void Tls12KeepsTheExplicitPolicyOnLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // With TLS 1.2 allowed OpenSSL's defaults are looser (RSA key exchange, SHA-1 CBC): the policy must stay.
        Assert.NotNull(TlsPolicy.CipherSuites(new SecurityOptions { MinimumTlsVersion = "1.2" }));
        Assert.NotNull(TlsPolicy.CipherSuites(new SecurityOptions { MinimumTlsVersion = "1.2", Require128BitEncryption = true }));
    }
}
