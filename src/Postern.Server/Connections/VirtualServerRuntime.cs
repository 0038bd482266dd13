using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Postern.Store;

namespace Postern.Server.Connections;

/// <summary>
/// An immutable snapshot of one virtual server's configuration, taken when the configuration changes;
/// a connection keeps the snapshot it was accepted with, new connections get the new one.
/// </summary>
public sealed class VirtualServerRuntime(VirtualServer config, ServerContext context)
{
    public VirtualServer Config { get; } = config;

    public ServerContext Context { get; } = context;

    public bool HasCertificate => Context.Certificates.Select(Config.Id, null) is not null;

    public bool RequireSecureChannel => Config.Security.RequireSecureChannel;

    /// <summary>TLS options for a handshake; the certificate is chosen per SNI name at ClientHello time.</summary>
    public SslServerAuthenticationOptions? CreateTlsOptions(string? serverName = null)
    {
        var certificate = Context.Certificates.Select(Config.Id, serverName);
        if (certificate is null)
        {
            return null;
        }

        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificate,
            EnabledSslProtocols = TlsPolicy.Protocols(Config.Security),
            CipherSuitesPolicy = TlsPolicy.CipherSuites(Config.Security),
            ClientCertificateRequired = Config.Security.ClientCertificates != ClientCertificateMode.Off,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
            AllowTlsResume = true,

            // No ApplicationProtocols: a client's ALPN offer is never answered with a protocol this port doesn't speak.
            RemoteCertificateValidationCallback = ValidateClientCertificate,
        };
    }

    /// <summary>
    /// The TLS layer only checks that a required client certificate is present; whether it identifies
    /// anyone (chain, revocation, mapping) is decided at SASL EXTERNAL time by the PKI.
    /// </summary>
    public bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null || Config.Security.ClientCertificates != ClientCertificateMode.Required;
}
