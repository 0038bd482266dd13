using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Postern.Pki;

/// <summary>Reads what a CA sends back: a .cer (DER or PEM, possibly a PEM chain) or a PKCS#7 .p7b (DER or PEM).</summary>
internal static class CertificateFiles
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const int MaxCertificates = 32;

    public static PkiResult<List<X509Certificate2>> Read(ReadOnlySpan<byte> file, int maxBytes)
    {
        if (file.IsEmpty)
        {
            return PkiResult<List<X509Certificate2>>.Fail("the file is empty");
        }

        if (file.Length > maxBytes)
        {
            return PkiResult<List<X509Certificate2>>.Fail($"the file is larger than {maxBytes} bytes");
        }

        try
        {
            var certificates = LooksLikePem(file) ? ReadPem(Encoding.ASCII.GetString(file)) : ReadDer(file.ToArray());
            if (certificates.Count == 0)
            {
                return PkiResult<List<X509Certificate2>>.Fail("the file holds no certificate (expected a .cer in DER or PEM, or a PKCS#7 .p7b)");
            }

            return certificates.Count > MaxCertificates
                ? PkiResult<List<X509Certificate2>>.Fail($"the file holds more than {MaxCertificates} certificates")
                : PkiResult<List<X509Certificate2>>.Ok(certificates);
        }
        catch (Exception ex) when (ex is CryptographicException or AsnContentException or FormatException or ArgumentException)
        {
            return PkiResult<List<X509Certificate2>>.Fail("the file is not a certificate, a PEM certificate chain or a PKCS#7 (.p7b) file: " + ex.Message);
        }
    }

    private static bool LooksLikePem(ReadOnlySpan<byte> file) => file.IndexOf("-----BEGIN "u8) >= 0;

    private static List<X509Certificate2> ReadPem(string text)
    {
        var certificates = new List<X509Certificate2>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label];
            var data = Convert.FromBase64String(rest[fields.Base64Data].ToString());
            if (label.SequenceEqual("CERTIFICATE") || label.SequenceEqual("X509 CERTIFICATE"))
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(data));
            }
            else if (label.SequenceEqual("PKCS7") || label.SequenceEqual("CMS"))
            {
                certificates.AddRange(ReadPkcs7(data));
            }

            rest = rest[fields.Location.End..];
            if (certificates.Count > MaxCertificates)
            {
                break;
            }
        }

        return certificates;
    }

    private static List<X509Certificate2> ReadDer(byte[] der)
    {
        if (IsPkcs7(der))
        {
            return ReadPkcs7(der);
        }

        return [X509CertificateLoader.LoadCertificate(der)];
    }

    private static bool IsPkcs7(byte[] der)
    {
        try
        {
            var contentInfo = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            return contentInfo.ReadObjectIdentifier() == SignedDataOid;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    // RFC 5652 §5.1: ContentInfo { contentType signedData, [0] EXPLICIT SignedData { version, digestAlgorithms,
    // encapContentInfo, certificates [0] IMPLICIT CertificateSet OPTIONAL, crls [1] OPTIONAL, signerInfos } }.
    // A .p7b "certs-only" file is exactly this with no signers. (SignedCms is not in the shared framework's
    // reference assemblies, so the certificate set is read with .NET's own AsnReader.)
    private static List<X509Certificate2> ReadPkcs7(byte[] der)
    {
        var contentInfo = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
        if (contentInfo.ReadObjectIdentifier() != SignedDataOid)
        {
            throw new CryptographicException("the PKCS#7 content is not SignedData");
        }

        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
        _ = signedData.ReadInteger();
        _ = signedData.ReadSetOf(skipSortOrderValidation: true);
        _ = signedData.ReadSequence();
        var certificates = new List<X509Certificate2>();
        var certificatesTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        if (signedData.HasData && signedData.PeekTag().HasSameClassAndValue(certificatesTag))
        {
            var set = signedData.ReadSetOf(skipSortOrderValidation: true, certificatesTag);
            while (set.HasData && certificates.Count <= MaxCertificates)
            {
                var element = set.ReadEncodedValue();
                // Only plain certificates (a SEQUENCE); attribute certificates and others are [n]-tagged and skipped.
                if (element.Span[0] == 0x30)
                {
                    certificates.Add(X509CertificateLoader.LoadCertificate(element.Span));
                }
            }
        }

        return certificates;
    }

    /// <summary>Writes a certs-only PKCS#7 (what a .p7b holds), used by tests and by chain export.</summary>
    public static byte[] WritePkcs7(IEnumerable<X509Certificate2> certificates)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SignedDataOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence())
            {
                writer.WriteInteger(1);
                using (writer.PushSetOf())
                {
                }

                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.2.840.113549.1.7.1");
                }

                using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    foreach (var certificate in certificates)
                    {
                        writer.WriteEncodedValue(certificate.RawData);
                    }
                }

                using (writer.PushSetOf())
                {
                }
            }
        }

        return writer.Encode();
    }
}
