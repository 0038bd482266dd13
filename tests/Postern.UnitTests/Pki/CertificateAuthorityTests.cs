using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class CertificateAuthorityTests
{
    [Fact]
    public async Task Revoked_serial_appears_in_the_signed_CRL_with_its_reason()
    {
        await using var f = await PkiFixture.CreateAsync();
        var kept = await f.Pki.IssueServerCertificateAsync(["kept.example.com"], null, null, default);
        var revoked = await f.Pki.IssueServerCertificateAsync(["gone.example.com"], null, null, default);

        var result = await f.Pki.RevokeAsync(revoked.Value!.SerialNumber, X509RevocationReason.KeyCompromise, default);

        Assert.True(result.Succeeded, result.Error);
        var crl = await f.Pki.GetCurrentCrlAsync(default);
        Assert.True(crl.Succeeded, crl.Error);
        var builder = CertificateRevocationListBuilder.Load(crl.Value!, out var number);
        Assert.True(number >= BigInteger.One);
        Assert.True(builder.RemoveEntry(Convert.FromHexString(revoked.Value.SerialNumber)));
        Assert.False(builder.RemoveEntry(Convert.FromHexString(kept.Value!.SerialNumber)));

        var issued = await f.Pki.ListIssuedAsync(default);
        Assert.Equal(X509RevocationReason.KeyCompromise, issued.Single(i => i.SerialNumber == revoked.Value.SerialNumber).RevocationReason);
        Assert.False(issued.Single(i => i.SerialNumber == kept.Value.SerialNumber).Revoked);
        Assert.False((await f.Pki.RevokeAsync(revoked.Value.SerialNumber, X509RevocationReason.KeyCompromise, default)).Succeeded);
        Assert.False((await f.Pki.RevokeAsync("0102", X509RevocationReason.Superseded, default)).Succeeded);

        if (OpenSsl.Available)
        {
            var path = Path.Combine(f.Folder, "ca.crl");
            var rootPath = Path.Combine(f.Folder, "root.pem");
            await File.WriteAllBytesAsync(path, crl.Value!);
            await File.WriteAllTextAsync(rootPath, await f.Pki.ExportRootPemAsync(default));
            var (exit, text) = OpenSsl.Run($"crl -inform DER -in \"{path}\" -text -noout -CAfile \"{rootPath}\"");
            Assert.True(exit == 0, text);
            Assert.Contains("verify OK", text, StringComparison.Ordinal);
            Assert.Contains("Serial Number: " + revoked.Value.SerialNumber, text, StringComparison.Ordinal);
            Assert.Contains("Key Compromise", text, StringComparison.Ordinal);
            Assert.DoesNotContain(kept.Value.SerialNumber, text, StringComparison.Ordinal);
            Assert.Contains("X509v3 CRL Number", text, StringComparison.Ordinal);
            Assert.Contains("Next Update", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unspecified_revocation_reason_is_left_out_of_the_CRL_entry()
    {
        await using var f = await PkiFixture.CreateAsync();
        var first = await f.Pki.IssueServerCertificateAsync(["one.example.com"], null, null, default);
        Assert.True((await f.Pki.RevokeAsync(first.Value!.SerialNumber, X509RevocationReason.Unspecified, default)).Succeeded);

        // The DER of the reasonCode extension's OID (2.5.29.21), which RFC 5280 §5.3.1 says SHOULD be absent here.
        byte[] reasonCodeOid = [0x06, 0x03, 0x55, 0x1D, 0x15];
        var crl = await f.Pki.GetCurrentCrlAsync(default);
        Assert.Equal(-1, crl.Value!.AsSpan().IndexOf(reasonCodeOid));

        var second = await f.Pki.IssueServerCertificateAsync(["two.example.com"], null, null, default);
        Assert.True((await f.Pki.RevokeAsync(second.Value!.SerialNumber, X509RevocationReason.Superseded, default)).Succeeded);
        crl = await f.Pki.GetCurrentCrlAsync(default);
        Assert.NotEqual(-1, crl.Value!.AsSpan().IndexOf(reasonCodeOid));
    }

    [Fact]
    public async Task CRL_numbers_increase_and_a_fresh_CRL_is_reused()
    {
        await using var f = await PkiFixture.CreateAsync();
        var first = await f.Pki.BuildCrlAsync(default);
        var second = await f.Pki.BuildCrlAsync(default);
        CertificateRevocationListBuilder.Load(first.Value!, out var n1);
        CertificateRevocationListBuilder.Load(second.Value!, out var n2);
        Assert.Equal(n1 + 1, n2);
        Assert.Equal(second.Value, (await f.Pki.GetCurrentCrlAsync(default)).Value);

        f.Clock.Offset = TimeSpan.FromDays(5);
        var report = await f.Pki.CheckExpiryAsync(30, default);
        Assert.True(report.CrlNeedsRefresh);
        CertificateRevocationListBuilder.Load((await f.Pki.GetCurrentCrlAsync(default)).Value!, out var n3);
        Assert.Equal(n2 + 1, n3);
    }

    [Fact]
    public async Task Issued_server_certificate_chains_to_the_root_and_carries_the_profile()
    {
        await using var f = await PkiFixture.CreateAsync();
        var issued = await f.Pki.IssueServerCertificateAsync(["www.example.com", "10.0.0.5"], null, KeyAlgorithm.P384, default);
        Assert.True(issued.Succeeded, issued.Error);
        using var certificate = X509Certificate2.CreateFromPem(issued.Value!.CertificatePem);
        using var root = X509Certificate2.CreateFromPem((await f.Pki.ExportRootPemAsync(default))!);

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        Assert.True(chain.Build(certificate));
        Assert.Equal(384, certificate.GetECDsaPublicKey()!.KeySize);
        Assert.False(certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["www.example.com"], san.EnumerateDnsNames());
        Assert.Equal("10.0.0.5", san.EnumerateIPAddresses().Single().ToString());
        var aki = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single();
        Assert.Equal(root.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifier, Convert.ToHexString(aki.KeyIdentifier!.Value.Span));
        Assert.Equal(16, certificate.SerialNumberBytes.Length);

        Assert.False((await f.Pki.IssueServerCertificateAsync(["not a name"], null, null, default)).Succeeded);
    }

    [Fact]
    public async Task External_request_is_signed_with_the_CA_s_own_extensions()
    {
        await using var f = await PkiFixture.CreateAsync();
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=app.example.com", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        // Asking to be a CA must not work.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));

        var submitted = await f.Pki.SubmitRequestAsync(request.CreateSigningRequestPem(), clientProfile: false, "tester", default);

        Assert.True(submitted.Succeeded, submitted.Error);
        using var certificate = X509Certificate2.CreateFromPem(submitted.Value!.Certificate!.CertificatePem);
        Assert.False(certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(["app.example.com"], certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.False((await f.Pki.SubmitRequestAsync("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", false, null, default)).Succeeded);
    }

    [Fact]
    public async Task Requests_with_keys_or_signatures_no_client_could_use_are_refused_with_the_reason()
    {
        await using var f = await PkiFixture.CreateAsync();
        using var rsa1024 = RSA.Create(1024);
        using var rsa2048 = RSA.Create(2048);
        using var k1 = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10"));
        (string Pem, string Why)[] refused =
        [
            (new CertificateRequest("CN=weak.example.com", rsa1024, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem(), "at least 2048 bits"),
            (new CertificateRequest("CN=k1.example.com", k1, HashAlgorithmName.SHA256).CreateSigningRequestPem(), "only P-256, P-384 and P-521"),
            (new CertificateRequest("CN=pss.example.com", rsa2048, HashAlgorithmName.SHA256, RSASignaturePadding.Pss).CreateSigningRequestPem(), "RSASSA-PSS"),
        ];
        foreach (var (pem, why) in refused)
        {
            var submitted = await f.Pki.SubmitRequestAsync(pem, clientProfile: false, "tester", default);
            Assert.False(submitted.Succeeded);
            Assert.Contains(why, submitted.Error, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(await f.Pki.ListIssuedAsync(default), i => i.Requester == "tester");
    }

    [Fact]
    public async Task A_held_request_s_certificate_can_be_fetched_by_its_number_once_approved()
    {
        await using var f = await PkiFixture.CreateAsync(mode: CaMode.Standalone);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var submitted = await f.Pki.SubmitRequestAsync(new CertificateRequest("CN=held.example.com", key, HashAlgorithmName.SHA256).CreateSigningRequestPem(), false, "tester", default);
        var id = submitted.Value!.RequestId!.Value;

        var pending = await f.Pki.GetCaRequestStatusAsync(id, default);
        Assert.Equal("pending", pending!.Request.Status);
        Assert.Null(pending.CertificatePem);

        var approved = await f.Pki.ApproveCaRequestAsync(id, default);
        var issued = await f.Pki.GetCaRequestStatusAsync(id, default);
        Assert.Equal(approved.Value!.SerialNumber, issued!.Request.SerialNumber);
        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
        Assert.Equal(approved.Value.SerialNumber, certificate.SerialNumber);
        Assert.True(certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()));
        Assert.Null(await f.Pki.GetCaRequestStatusAsync(id + 1000, default));
    }

    [Fact]
    public async Task Subordinate_CA_issues_certificates_that_chain_to_the_external_root()
    {
        await using var f = await PkiFixture.CreateAsync();
        using var external = new ExternalCa("Public Root");
        var csr = await f.Pki.CreateSubordinateCaRequestAsync("Example Issuing CA", "Example Org", "US", null, default);
        Assert.True(csr.Succeeded, csr.Error);
        var parsed = CertificateRequest.LoadSigningRequestPem(csr.Value!, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        Assert.True(parsed.CertificateExtensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);

        // The old root keeps working while the request is out.
        Assert.True((await f.Pki.IssueServerCertificateAsync(["meanwhile.example.com"], null, null, default)).Succeeded);

        using var endEntity = external.Sign(csr.Value!);
        Assert.Contains("not a CA certificate", (await f.Pki.InstallSubordinateCaCertificateAsync(endEntity.RawData, default)).Error, StringComparison.Ordinal);
        using var signed = external.Sign(csr.Value!, eku: null, ca: true);
        Assert.Contains("import the external root first", (await f.Pki.InstallSubordinateCaCertificateAsync(signed.RawData, default)).Error, StringComparison.Ordinal);

        Assert.True((await f.Pki.ImportTrustedRootAsync(external.RootPem, "Public Root", default)).Succeeded);
        var installed = await f.Pki.InstallSubordinateCaCertificateAsync(CertificateFilesForTest.P7b(signed, external.Root), default);
        Assert.True(installed.Succeeded, installed.Error);
        Assert.Equal("subordinate", installed.Value!.Kind);

        // The chain (issuing CA, then the external root) is two PEM blocks each ending its line, as openssl reads them.
        var chainPem = (await f.Pki.ExportCaChainPemAsync(default))!;
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(chainPem, "^-----END CERTIFICATE-----\n", System.Text.RegularExpressions.RegexOptions.Multiline));
        Assert.EndsWith("-----END CERTIFICATE REQUEST-----\n", csr.Value!, StringComparison.Ordinal);

        var vs = await f.AddVirtualServerAsync("Public SMTP", Postern.Store.ServiceProtocol.Smtp);
        var outcome = await f.Pki.SubmitRequestToOnlineCaAsync(vs, new CertificateRequestForm { CommonName = "smtp.example.com" }, default);
        Assert.True(outcome.Succeeded, outcome.Error);
        var context = f.Pki.Selector.Select(vs, "smtp.example.com")!;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(external.Root);
        chain.ChainPolicy.ExtraStore.Add(signed);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(context.TargetCertificate), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(3, chain.ChainElements.Count);
        Assert.Contains(context.IntermediateCertificates, c => c.Thumbprint == signed.Thumbprint);

        // A TLS client trusting only the external root accepts the server: the intermediate is sent.
        Assert.Equal(context.TargetCertificate.Thumbprint, await PkiBootstrapTests.HandshakeAsync(context, "smtp.example.com", external.Root));
    }

    [Fact]
    public async Task After_a_subordinate_CA_takes_over_the_former_root_still_publishes_the_CRL_its_certificates_name()
    {
        await using var f = await PkiFixture.CreateAsync();
        var before = await f.Pki.IssueServerCertificateAsync(["before.example.com"], null, null, default);
        using var oldLeaf = X509Certificate2.CreateFromPem(before.Value!.CertificatePem);
        using var oldRoot = X509Certificate2.CreateFromPem((await f.Pki.ExportRootPemAsync(default))!);

        using var external = new ExternalCa("Public Root");
        var csr = await f.Pki.CreateSubordinateCaRequestAsync("Example Issuing CA", "Example Org", "US", null, default);
        using var signed = external.Sign(csr.Value!, eku: null, ca: true);
        Assert.True((await f.Pki.ImportTrustedRootAsync(external.RootPem, "Public Root", default)).Succeeded);
        Assert.True((await f.Pki.InstallSubordinateCaCertificateAsync(CertificateFilesForTest.P7b(signed, external.Root), default)).Succeeded);
        var after = await f.Pki.IssueServerCertificateAsync(["after.example.com"], null, null, default);
        using var newLeaf = X509Certificate2.CreateFromPem(after.Value!.CertificatePem);

        Assert.True((await f.Pki.RevokeAsync(before.Value.SerialNumber, X509RevocationReason.KeyCompromise, default)).Succeeded);
        Assert.True((await f.Pki.RevokeAsync(after.Value.SerialNumber, X509RevocationReason.Superseded, default)).Succeeded);

        // Each certificate's CDP names its issuer's CRL; each CRL is signed by that issuer and lists only what it issued.
        var oldCrl = await CrlAtDistributionPointAsync(f, oldLeaf);
        AssertSignedBy(oldCrl, oldRoot);
        var oldEntries = CertificateRevocationListBuilder.Load(oldCrl, out _);
        Assert.True(oldEntries.RemoveEntry(Convert.FromHexString(before.Value.SerialNumber)));
        Assert.False(oldEntries.RemoveEntry(Convert.FromHexString(after.Value.SerialNumber)));

        var newCrl = await CrlAtDistributionPointAsync(f, newLeaf);
        AssertSignedBy(newCrl, signed);
        var newEntries = CertificateRevocationListBuilder.Load(newCrl, out _);
        Assert.True(newEntries.RemoveEntry(Convert.FromHexString(after.Value.SerialNumber)));
        Assert.False(newEntries.RemoveEntry(Convert.FromHexString(before.Value.SerialNumber)));
        Assert.Equal(newCrl, (await f.Pki.GetCurrentCrlAsync(default)).Value);

        // The AIA URLs give each issuer's certificate; names that are no CA of this server give nothing.
        Assert.Equal(oldRoot.RawData, await f.Pki.GetPublishedCaCertificateAsync(NameIn(oldLeaf.Extensions.OfType<X509AuthorityInformationAccessExtension>().Single().EnumerateCAIssuersUris().Single()), default));
        Assert.Equal(signed.RawData, await f.Pki.GetPublishedCaCertificateAsync(NameIn(newLeaf.Extensions.OfType<X509AuthorityInformationAccessExtension>().Single().EnumerateCAIssuersUris().Single()), default));
        foreach (var name in new[] { "ca-0000000000000000", "ca", "ca-../../etc/passwd", "CA-" + NameIn(CdpOf(oldLeaf))[3..].ToUpperInvariant() })
        {
            Assert.Null(await f.Pki.GetPublishedCrlAsync(name, default));
            Assert.Null(await f.Pki.GetPublishedCaCertificateAsync(name, default));
        }
    }

    private static string CdpOf(X509Certificate2 certificate)
    {
        var raw = System.Text.Encoding.ASCII.GetString(certificate.Extensions.Single(e => e.Oid!.Value == "2.5.29.31").RawData);
        return raw[raw.IndexOf("http", StringComparison.Ordinal)..];
    }

    private static string NameIn(string url) => Path.GetFileNameWithoutExtension(new Uri(url).AbsolutePath);

    private static async Task<byte[]> CrlAtDistributionPointAsync(PkiFixture f, X509Certificate2 certificate)
    {
        var url = CdpOf(certificate);
        Assert.EndsWith(".crl", url, StringComparison.Ordinal);
        var crl = await f.Pki.GetPublishedCrlAsync(NameIn(url), default);
        Assert.NotNull(crl);
        Assert.True(crl.Succeeded, crl.Error);
        return crl.Value!;
    }

    /// <summary>Checks a CRL's signature (RFC 5280 §5.1: tbsCertList signed with the issuer's key) against an ECDSA issuer.</summary>
    private static void AssertSignedBy(byte[] crl, X509Certificate2 issuer)
    {
        var reader = new System.Formats.Asn1.AsnReader(crl, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        var tbs = reader.ReadEncodedValue().ToArray();
        reader.ReadSequence();
        var signature = reader.ReadBitString(out _);
        using var key = issuer.GetECDsaPublicKey()!;
        Assert.True(key.VerifyData(tbs, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence), "CRL not signed by " + issuer.Subject);
        Assert.Equal(issuer.SubjectName.RawData, IssuerOf(tbs));
    }

    private static byte[] IssuerOf(byte[] tbs)
    {
        var reader = new System.Formats.Asn1.AsnReader(tbs, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        if (reader.PeekTag() == System.Formats.Asn1.Asn1Tag.Integer)
        {
            reader.ReadInteger();
        }

        reader.ReadSequence();
        return reader.ReadEncodedValue().ToArray();
    }

    [Fact]
    public async Task Importing_a_non_root_as_trusted_root_is_refused()
    {
        await using var f = await PkiFixture.CreateAsync();
        var issued = await f.Pki.IssueServerCertificateAsync(["x.example.com"], null, null, default);
        var result = await f.Pki.ImportTrustedRootAsync(System.Text.Encoding.ASCII.GetBytes(issued.Value!.CertificatePem), null, default);
        Assert.False(result.Succeeded);
        Assert.Contains("not a self-signed root", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_CA_certificate_from_an_issuer_that_may_not_certify_another_CA_is_refused_and_changes_nothing()
    {
        await using var f = await PkiFixture.CreateAsync();
        using var external = new ExternalCa("Public Root");
        Assert.True((await f.Pki.ImportTrustedRootAsync(external.RootPem, "Public Root", default)).Succeeded);

        // The external root's issuing CA has pathLenConstraint 0 (RFC 5280 §4.2.1.9): it may certify servers, not a CA.
        using var issuingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuingPublic = external.Sign(new CertificateRequest("CN=Public Issuing CA, O=External", issuingKey, HashAlgorithmName.SHA256).CreateSigningRequestPem(), eku: null, ca: true);
        using var issuing = issuingPublic.CopyWithPrivateKey(issuingKey);

        var csr = await f.Pki.CreateSubordinateCaRequestAsync("Example Issuing CA", "Example Org", "US", null, default);
        Assert.True(csr.Succeeded, csr.Error);
        var loaded = CertificateRequest.LoadSigningRequestPem(csr.Value!, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        var request = new CertificateRequest(loaded.SubjectName, loaded.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        using var signed = request.Create(issuing, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(90), [0x11, 0x22, 0x33]);

        // Installed, it would be the CA whose every certificate fails verification ("path length constraint exceeded").
        var before = await f.Pki.GetCaInfoAsync(default);
        var refused = await f.Pki.InstallSubordinateCaCertificateAsync(CertificateFilesForTest.P7b(signed, issuingPublic, external.Root), default);
        Assert.False(refused.Succeeded);
        Assert.Contains("path length", refused.Error, StringComparison.Ordinal);
        Assert.Equal(before, await f.Pki.GetCaInfoAsync(default));
        Assert.True((await f.Pki.IssueServerCertificateAsync(["still.example.com"], null, null, default)).Succeeded);
    }
}
