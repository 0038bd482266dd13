using System.Formats.Asn1;
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

    /// <summary>
    /// Why a public key from a request or a certificate is not one Postern signs or serves, or null when it is: RSA of at
    /// least 2048 bits (the CA/Browser Forum's minimum, and OpenSSL's default security level) or ECDSA on P-256, P-384 or
    /// P-521, the curves TLS clients implement (RFC 8422 §5.1.1); Ed25519, DSA and curves such as secp256k1 are not.
    /// </summary>
    public static string? UnacceptableKeyReason(PublicKey publicKey)
    {
        switch (publicKey.Oid.Value)
        {
            case RsaOid:
                using (var rsa = publicKey.GetRSAPublicKey())
                {
                    return rsa is null || rsa.KeySize >= 2048 ? null : $"the RSA key is only {rsa.KeySize} bits; at least 2048 bits are needed";
                }

            case EcPublicKeyOid:
                string? curve;
                try
                {
                    curve = publicKey.EncodedParameters?.RawData is { } parameters ? new AsnReader(parameters, AsnEncodingRules.DER).ReadObjectIdentifier() : null;
                }
                catch (AsnContentException)
                {
                    curve = null;
                }

                return curve is "1.2.840.10045.3.1.7" or "1.3.132.0.34" or "1.3.132.0.35"
                    ? null
                    : $"the EC key is on {(curve is null ? "explicit curve parameters" : "the curve " + curve)}; only P-256, P-384 and P-521 are accepted";

            default:
                return $"the key algorithm {publicKey.Oid.FriendlyName ?? publicKey.Oid.Value} is not supported; use RSA (2048 bits or more) or ECDSA (P-256 or P-384)";
        }
    }

    /// <summary>
    /// Why the signature algorithm of a PKCS#10 request (its outer AlgorithmIdentifier) is not one the request can be
    /// verified with, or null when it is: RSA PKCS#1 v1.5 or ECDSA, with SHA-1 or SHA-2. The signature only proves
    /// possession of the key, but MD5, RSASSA-PSS and EdDSA cannot be verified here, and .NET would throw for some.
    /// </summary>
    public static string? UnsupportedRequestSignatureReason(ReadOnlyMemory<byte> requestDer)
    {
        string oid;
        try
        {
            var request = new AsnReader(requestDer, AsnEncodingRules.DER).ReadSequence();
            request.ReadEncodedValue();
            oid = request.ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            return null; // malformed: the full parse reports it
        }

        return oid switch
        {
            "1.2.840.113549.1.1.5" or "1.2.840.113549.1.1.11" or "1.2.840.113549.1.1.12" or "1.2.840.113549.1.1.13"
                or "1.2.840.10045.4.1" or "1.2.840.10045.4.3.2" or "1.2.840.10045.4.3.3" or "1.2.840.10045.4.3.4" => null,
            "1.2.840.113549.1.1.10" => "the request is signed with RSASSA-PSS, which is not supported; sign it with PKCS#1 v1.5 padding (openssl's default)",
            _ => $"the request is signed with {new Oid(oid).FriendlyName ?? oid}, which is not supported; sign it with SHA-256 and RSA or ECDSA",
        };
    }

    /// <summary>Whether the certificate carries this key's public half (SubjectPublicKeyInfo compared byte for byte).</summary>
    public static bool Matches(X509Certificate2 certificate, AsymmetricAlgorithm key) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());
}
