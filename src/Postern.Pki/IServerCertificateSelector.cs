using System.Net.Security;

namespace Postern.Pki;

/// <summary>
/// Answers "which certificate does this virtual server present to this SNI name" from an immutable
/// snapshot that is swapped atomically when a certificate changes, so a handshake never sees a half-made change.
/// </summary>
public interface IServerCertificateSelector
{
    /// <summary>Null when the virtual server has no usable certificate: TLS is then not offered.</summary>
    SslStreamCertificateContext? Select(long virtualServerId, string? serverName);
}
