using System.Net.Security;
using System.Security.Authentication;
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
        Assert.Equal(SslProtocols.Tls13, TlsPolicy.Protocols(security));
    }

    [Fact]
    public void OnlyRequire128BitEncryptionSetsAnExplicitPolicyOnLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // Without a policy .NET caches the SSL_CTX and resumes sessions; the negotiated suite is checked instead.
        Assert.Null(TlsPolicy.CipherSuites(new SecurityOptions { MinimumTlsVersion = "1.2" }));
        Assert.NotNull(TlsPolicy.CipherSuites(new SecurityOptions { MinimumTlsVersion = "1.2", Require128BitEncryption = true }));
    }

    [Theory]
    [InlineData(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_128_GCM_SHA256, false, true)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true, true)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false, true)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, true, false)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256, false, false)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, false, false)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_NULL_SHA, false, false)]
    [InlineData(SslProtocols.None, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false, false)]
    public void NegotiatedSuitesAreCheckedAgainstThePolicy(SslProtocols protocol, TlsCipherSuite suite, bool require128, bool acceptable) =>
        Assert.Equal(acceptable, TlsPolicy.IsAcceptable(protocol, suite, new SecurityOptions { Require128BitEncryption = require128 }));
}
