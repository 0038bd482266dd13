using System.Text;

namespace Postern.Pki;

/// <summary>
/// Encrypts configuration secrets at rest (passwords Postern presents to other servers: SMTP smart hosts,
/// newsfeed peers) with the PKI's key-encryption key in <c>keys/master.key</c>, so a copied database alone
/// reveals none of them. Each secret is bound to its purpose, so a value cannot be moved to another column.
/// </summary>
public sealed class SecretProtector
{
    private readonly KeyProtector _keys;
    private readonly byte[] _purpose;

    /// <param name="dataDirectory">The data folder (its keys/master.key is created on first use).</param>
    /// <param name="purpose">Where the secret lives, e.g. "smtp_routes.password".</param>
    public SecretProtector(string dataDirectory, string purpose)
    {
        _keys = new KeyProtector(dataDirectory);
        _purpose = Encoding.UTF8.GetBytes("postern-secret-v1:" + purpose);
    }

    public byte[] Protect(string secret) => _keys.Protect(Encoding.UTF8.GetBytes(secret), _purpose);

    /// <summary>The secret, or null when the value is damaged, belongs elsewhere, or was made under another master key.</summary>
    public string? Unprotect(byte[] sealedSecret) =>
        _keys.TryUnprotect(sealedSecret, _purpose, out var plaintext) ? Encoding.UTF8.GetString(plaintext) : null;
}
