using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Postern.Pki;

internal enum IssueProfile
{
    Server = 0,
    Client = 1,
    SubordinateCa = 2,
}

/// <summary>The CA's signing key and certificate, loaded for one operation.</summary>
internal sealed class CaKeyPair(long certificateId, X509Certificate2 certificate, AsymmetricAlgorithm key) : IDisposable
{
    public long CertificateId { get; } = certificateId;

    public X509Certificate2 Certificate { get; } = certificate;

    public AsymmetricAlgorithm Key { get; } = key;

    public void Dispose()
    {
        Key.Dispose();
        Certificate.Dispose();
    }
}

/// <summary>The built-in CA's certificate profiles (RFC 5280 §4.2), all made with .NET's CertificateRequest.</summary>
internal static class CaSigner
{
    private static readonly System.Buffers.SearchValues<char> LowerHexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public static X509Certificate2 CreateRoot(X500DistinguishedName subject, AsymmetricAlgorithm key, DateTimeOffset now, int years)
    {
        var request = KeyAlgorithms.NewRequest(subject, key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var created = request.CreateSelfSigned(now - ClockSkew, now.AddYears(years));
        return X509CertificateLoader.LoadCertificate(created.RawData);
    }

    /// <summary>A PKCS#10 request for this server to become a subordinate CA of an external root.</summary>
    public static string CreateSubordinateRequestPem(X500DistinguishedName subject, AsymmetricAlgorithm key)
    {
        var request = KeyAlgorithms.NewRequest(subject, key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return CertificateFacts.ToPem(request);
    }

    /// <summary>
    /// The file name (without .crl or .crt) under which a CA's CRL and certificate are published: "ca-" and the first
    /// 16 hex digits of the CA certificate's SHA-256 thumbprint.
    /// </summary>
    public static string PublicationName(ReadOnlySpan<byte> caCertificateDer) =>
        "ca-" + Convert.ToHexStringLower(SHA256.HashData(caCertificateDer), 0, 8);

    /// <summary>Whether a requested file name has the form of <see cref="PublicationName"/>.</summary>
    public static bool IsPublicationName(string name) =>
        name.Length == 19 && name.StartsWith("ca-", StringComparison.Ordinal) && !name.AsSpan(3).ContainsAnyExcept(LowerHexDigits);

    /// <summary>
    /// A unique, unpredictable serial: the CA's counter (uniqueness) then 8 random bytes (RFC 5280 §4.1.2.2 and
    /// the CA/Browser Forum's 64 bits of entropy); the first octet is fixed at 0x40 so the INTEGER is positive and minimal.
    /// </summary>
    public static byte[] MakeSerial(long counter)
    {
        var serial = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(serial, counter);
        RandomNumberGenerator.Fill(serial.AsSpan(8));
        serial[0] = (byte)(0x40 | (serial[0] & 0x3F));
        return serial;
    }

    public static X509Certificate2 Issue(
        CaKeyPair ca,
        PublicKey subjectPublicKey,
        X500DistinguishedName subject,
        IssueProfile profile,
        IReadOnlyList<string> names,
        DateTimeOffset now,
        TimeSpan validity,
        byte[] serial,
        string? baseUrl)
    {
        var request = new CertificateRequest(subject, subjectPublicKey, KeyAlgorithms.HashFor(ca.Key));
        var isRsa = subjectPublicKey.Oid.Value == KeyAlgorithms.RsaOid;
        switch (profile)
        {
            case IssueProfile.SubordinateCa:
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
                request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
                break;
            case IssueProfile.Server:
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
                request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | (isRsa ? X509KeyUsageFlags.KeyEncipherment : 0), critical: true));
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CertificateFacts.ServerAuthOid)], critical: false));
                break;
            case IssueProfile.Client:
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
                request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | (isRsa ? X509KeyUsageFlags.KeyEncipherment : 0), critical: true));
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CertificateFacts.ClientAuthOid), new Oid(CertificateFacts.EmailProtectionOid)], critical: false));
                break;
        }

        if (names.Count > 0)
        {
            // RFC 5280 §4.2.1.6: critical when the subject is empty.
            request.CertificateExtensions.Add(BuildSubjectAlternativeName(names, critical: subject.RawData.Length <= 2));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(subjectPublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.Certificate, true, false));
        if (!string.IsNullOrEmpty(baseUrl))
        {
            // Named after the issuing CA, not "ca.crl": a CA replaced later (a subordinate CA installed) still signs the
            // CRL for what it issued, and its certificates must find that CRL, not the new CA's.
            var name = PublicationName(ca.Certificate.RawData);
            request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([baseUrl + name + ".crl"]));
            request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(ocspUris: null, caIssuersUris: [baseUrl + name + ".crt"]));
        }

        var notBefore = now - ClockSkew;
        var notAfter = now + validity;
        var caNotAfter = new DateTimeOffset(ca.Certificate.NotAfter.ToUniversalTime());
        if (notAfter > caNotAfter)
        {
            // RFC 5280 §6.1: nothing issued may outlive its issuer.
            notAfter = caNotAfter;
        }

        using var generated = request.Create(ca.Certificate.SubjectName, KeyAlgorithms.SignatureGenerator(ca.Key), notBefore, notAfter, serial);
        return X509CertificateLoader.LoadCertificate(generated.RawData);
    }

    public static X509Extension BuildSubjectAlternativeName(IEnumerable<string> names, bool critical)
    {
        var builder = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (name.StartsWith("dns:", StringComparison.Ordinal))
            {
                builder.AddDnsName(name[4..]);
            }
            else if (name.StartsWith("ip:", StringComparison.Ordinal))
            {
                builder.AddIpAddress(IPAddress.Parse(name[3..]));
            }
            else if (name.StartsWith("email:", StringComparison.Ordinal))
            {
                builder.AddEmailAddress(name[6..]);
            }
        }

        return builder.Build(critical);
    }

    public static byte[] BuildCrl(CaKeyPair ca, IEnumerable<(string Serial, int Reason, DateTimeOffset Revoked)> revocations, long crlNumber, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var (serial, reason, revoked) in revocations)
        {
            // RFC 5280 §5.3.1: the reasonCode extension SHOULD be absent rather than say "unspecified" (0).
            builder.AddEntry(CertificateFacts.SerialBytes(serial), revoked, reason == (int)X509RevocationReason.Unspecified ? null : (X509RevocationReason)reason);
        }

        return builder.Build(
            ca.Certificate.SubjectName,
            KeyAlgorithms.SignatureGenerator(ca.Key),
            new BigInteger(crlNumber),
            nextUpdate,
            KeyAlgorithms.HashFor(ca.Key),
            X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.Certificate, true, false),
            thisUpdate);
    }
}
