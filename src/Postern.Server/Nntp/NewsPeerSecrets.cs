using Postern.Pki;

namespace Postern.Server.Nntp;

/// <summary>
/// A peer's AUTHINFO password must be replayed to the peer, so it cannot be hashed; it is sealed with the
/// data folder's key-encryption key instead (never stored in clear). Rows written before sealing stay readable.
/// </summary>
public static class NewsPeerSecrets
{
    private const string Prefix = "sealed:";
    private const string Purpose = "news_peers.password";

    public static string? Seal(string dataDirectory, string? password) =>
        string.IsNullOrEmpty(password) || password.StartsWith(Prefix, StringComparison.Ordinal)
            ? password
            : Prefix + Convert.ToBase64String(new SecretProtector(dataDirectory, Purpose).Protect(password));

    public static string? Reveal(string dataDirectory, string? stored)
    {
        if (stored is null || !stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return stored;
        }

        try
        {
            return new SecretProtector(dataDirectory, Purpose).Unprotect(Convert.FromBase64String(stored[Prefix.Length..]));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
