using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Postern.Pki;

/// <summary>The key choices of the wizard's "bit length" page, plus the elliptic curves that replace it today.</summary>
public enum KeyAlgorithm
{
    P256 = 0,
    P384 = 1,
    Rsa2048 = 2,
    Rsa3072 = 3,
    Rsa4096 = 4,
}

internal static class KeyAlgorithms
{
    public const string RsaOid = "1.2.840.113549.1.1.1";
    public const string EcPublicKeyOid = "1.2.840.10045.2.1";

    /// <summary>Accepts the wizard's names: rsa2048, rsa3072, rsa4096, p256, p384 (case-insensitive).</summary>
    public static bool TryParse(string? text, out KeyAlgorithm algorithm)
    {
        algorithm = KeyAlgorithm.P256;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "p256" or "p-256" or "ecdsa" or "ec":
                algorithm = KeyAlgorithm.P256;
                return true;
            case "p384" or "p-384":
                algorithm = KeyAlgorithm.P384;
                return true;
            case "rsa2048" or "rsa":
                algorithm = KeyAlgorithm.Rsa2048;
                return true;
            case "rsa3072":
                algorithm = KeyAlgorithm.Rsa3072;
                return true;
            case "rsa4096":
                algorithm = KeyAlgorithm.Rsa4096;
                return true;
            default:
                return false;
        }
    }

    public static string Name(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.P256 => "p256",
        KeyAlgorithm.P384 => "p384",
        KeyAlgorithm.Rsa2048 => "rsa2048",
        KeyAlgorithm.Rsa3072 => "rsa3072",
        KeyAlgorithm.Rsa4096 => "rsa4096",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    public static AsymmetricAlgorithm Generate(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.P256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        KeyAlgorithm.P384 => ECDsa.Create(ECCurve.NamedCurves.nistP384),
        KeyAlgorithm.Rsa2048 => RSA.Create(2048),
        KeyAlgorithm.Rsa3072 => RSA.Create(3072),
        KeyAlgorithm.Rsa4096 => RSA.Create(4096),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>The same kind of key as an existing one (renewal keeps the algorithm and size).</summary>
    public static KeyAlgorithm Of(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec when ec.KeySize >= 384 => KeyAlgorithm.P384,
        ECDsa => KeyAlgorithm.P256,
        RSA rsa when rsa.KeySize >= 4096 => KeyAlgorithm.Rsa4096,
        RSA rsa when rsa.KeySize >= 3072 => KeyAlgorithm.Rsa3072,
        _ => KeyAlgorithm.Rsa2048,
    };

    public static HashAlgorithmName HashFor(AsymmetricAlgorithm key) =>
        key is ECDsa { KeySize: >= 384 } ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;

    public static CertificateRequest NewRequest(X500DistinguishedName subject, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => new CertificateRequest(subject, ec, HashFor(key)),
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new ArgumentException("unsupported key type", nameof(key)),
    };

    public static X509SignatureGenerator SignatureGenerator(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => throw new ArgumentException("unsupported key type", nameof(key)),
    };

    public static X509Certificate2 Attach(X509Certificate2 certificate, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => certificate.CopyWithPrivateKey(ec),
        RSA rsa => certificate.CopyWithPrivateKey(rsa),
        _ => throw new ArgumentException("unsupported key type", nameof(key)),
    };

    /// <summary>Whether the certificate carries this key's public half (SubjectPublicKeyInfo compared byte for byte).</summary>
    public static bool Matches(X509Certificate2 certificate, AsymmetricAlgorithm key) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());
}
