using System.Formats.Asn1;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Postern.Pki;

/// <summary>What the PKI reads out of a certificate: names, purposes, thumbprint, CA-ness.</summary>
internal static class CertificateFacts
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    public const string EmailProtectionOid = "1.3.6.1.5.5.7.3.4";
    public const string SubjectAltNameOid = "2.5.29.17";

    public static string Thumbprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>Subject alternative names as "dns:…", "ip:…", "email:…" (other kinds are skipped).</summary>
    public static List<string> SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions[SubjectAltNameOid];
        return extension is null ? [] : ReadGeneralNames(extension.RawData);
    }

    // RFC 5280 §4.2.1.6: GeneralNames ::= SEQUENCE OF GeneralName; rfc822Name [1] IA5String, dNSName [2], iPAddress [7].
    public static List<string> ReadGeneralNames(byte[] extensionValue)
    {
        var names = new List<string>();
        try
        {
            var sequence = new AsnReader(extensionValue, AsnEncodingRules.DER).ReadSequence();
            while (sequence.HasData)
            {
                var tag = sequence.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    sequence.ReadEncodedValue();
                    continue;
                }

                switch (tag.TagValue)
                {
                    case 1:
                        names.Add("email:" + sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                        break;
                    case 2:
                        names.Add("dns:" + sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                        break;
                    case 7:
                        names.Add("ip:" + new IPAddress(sequence.ReadOctetString(tag)));
                        break;
                    default:
                        sequence.ReadEncodedValue();
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is AsnContentException or ArgumentException)
        {
            // A malformed extension names nothing; the caller then refuses on missing names.
        }

        return names;
    }

    public static IEnumerable<string> DnsNames(IEnumerable<string> sans) =>
        sans.Where(s => s.StartsWith("dns:", StringComparison.Ordinal)).Select(s => s[4..]);

    public static IEnumerable<string> EmailAddresses(IEnumerable<string> sans) =>
        sans.Where(s => s.StartsWith("email:", StringComparison.Ordinal)).Select(s => s[6..]);

    /// <summary>EKU OIDs, or null when the certificate has no EKU extension at all.</summary>
    public static List<string>? EnhancedKeyUsages(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension eku)
            {
                return eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value ?? "").ToList();
            }
        }

        return null;
    }

    public static string PurposeName(string oid) => oid switch
    {
        ServerAuthOid => "Server Authentication",
        ClientAuthOid => "Client Authentication",
        EmailProtectionOid => "Secure Email",
        "1.3.6.1.5.5.7.3.3" => "Code Signing",
        "1.3.6.1.5.5.7.3.9" => "OCSP Signing",
        _ => oid,
    };

    public static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    public static bool IsSelfIssued(X509Certificate2 certificate) =>
        certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    public static string CommonName(X509Certificate2 certificate) => certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    /// <summary>
    /// Whether a presented name is covered by a certificate name: exact (case-insensitive) or a wildcard
    /// in the left-most label only, matching exactly one label (RFC 6125 §6.4.3).
    /// </summary>
    public static bool NameMatches(string pattern, string name, out bool exact)
    {
        exact = false;
        pattern = pattern.TrimEnd('.');
        name = name.TrimEnd('.');
        if (string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase))
        {
            exact = true;
            return true;
        }

        if (!pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            return false;
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && string.Equals(pattern[1..], name[dot..], StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether a certificate's DNS names (or, without a SAN, its CN) cover a host name.</summary>
    public static bool Covers(X509Certificate2 certificate, string hostName)
    {
        var sans = SubjectAlternativeNames(certificate);
        if (sans.Count == 0)
        {
            return NameMatches(CommonName(certificate), hostName, out _);
        }

        if (IPAddress.TryParse(hostName, out var ip))
        {
            return sans.Contains("ip:" + ip);
        }

        return DnsNames(sans).Any(n => NameMatches(n, hostName, out _));
    }

    public static byte[] SerialBytes(string hex) => Convert.FromHexString(hex);

    public static string NormalizeSerial(string serial) =>
        serial.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>
    /// PEM ending in a line break, as openssl writes it: PemEncoding stops at the END line, so a chain of them ran
    /// together ("-----END CERTIFICATE----------BEGIN…", which openssl refuses) and a file did not concatenate with another.
    /// </summary>
    public static string ToPem(X509Certificate2 certificate) => PemEncoding.WriteString("CERTIFICATE", certificate.RawData) + "\n";

    /// <summary>A certificate request's PEM ending in a line break, for the same reason.</summary>
    public static string ToPem(CertificateRequest request) => request.CreateSigningRequestPem() + "\n";

    public static string Utc(DateTimeOffset when) => when.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
