using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Postern.UnitTests.Pki;

public sealed class ClientCertificateTests
{
    private static async Task<X509Certificate2> IssueUserAsync(PkiFixture f, string email)
    {
        var issued = await f.Pki.IssueClientCertificateAsync(email, "A User", null, default);
        Assert.True(issued.Succeeded, issued.Error);
        return X509Certificate2.CreateFromPem(issued.Value!.CertificatePem);
    }

    [Fact]
    public async Task User_certificate_maps_by_rfc822Name_to_an_existing_account()
    {
        await using var f = await PkiFixture.CreateAsync();
        await f.Store.Directory.AddDomainAsync("example.com", default);
        await f.Store.Directory.AddAccountAsync("alice@example.com", "pw-alice-123", default);
        using var alice = await IssueUserAsync(f, "alice@example.com");
        using var nobody = await IssueUserAsync(f, "nobody@example.com");

        Assert.Equal("alice@example.com", await f.Pki.ResolveClientCertificateAsync(alice, null));
        var unmapped = await f.Pki.ResolveClientCertificateDetailedAsync(nobody, null);
        Assert.Null(unmapped.AccountAddress);
        Assert.Contains("not mapped", unmapped.Error, StringComparison.Ordinal);
        Assert.Contains("1.3.6.1.5.5.7.3.2", alice.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
    }

    [Fact]
    public async Task Explicit_mapping_by_thumbprint_or_issuer_and_serial()
    {
        await using var f = await PkiFixture.CreateAsync();
        await f.Store.Directory.AddDomainAsync("example.com", default);
        await f.Store.Directory.AddAccountAsync("bob@example.com", "pw-bob-12345", default);
        using var first = await IssueUserAsync(f, "b.personal@elsewhere.org");
        using var second = await IssueUserAsync(f, "b.other@elsewhere.org");

        Assert.True((await f.Pki.MapClientCertificateAsync("bob@example.com", first.GetCertHashString(HashAlgorithmName.SHA256), null, null, default)).Succeeded);
        Assert.True((await f.Pki.MapClientCertificateAsync("bob@example.com", null, second.Issuer, second.SerialNumber, default)).Succeeded);
        Assert.False((await f.Pki.MapClientCertificateAsync("ghost@example.com", first.GetCertHashString(HashAlgorithmName.SHA256), null, null, default)).Succeeded);
        Assert.False((await f.Pki.MapClientCertificateAsync("bob@example.com", first.GetCertHashString(HashAlgorithmName.SHA256), null, null, default)).Succeeded);
        Assert.False((await f.Pki.MapClientCertificateAsync("bob@example.com", first.Thumbprint, null, null, default)).Succeeded); // SHA-1 never matches a logon

        Assert.Equal("bob@example.com", await f.Pki.ResolveClientCertificateAsync(first, null));
        Assert.Equal("bob@example.com", await f.Pki.ResolveClientCertificateAsync(second, null));
    }

    [Fact]
    public async Task Revoked_expired_and_untrusted_certificates_resolve_to_nobody()
    {
        await using var f = await PkiFixture.CreateAsync();
        await f.Store.Directory.AddDomainAsync("example.com", default);
        await f.Store.Directory.AddAccountAsync("carol@example.com", "pw-carol-123", default);
        using var carol = await IssueUserAsync(f, "carol@example.com");
        Assert.Equal("carol@example.com", await f.Pki.ResolveClientCertificateAsync(carol, null));

        using var stranger = new ExternalCa("Stranger Root");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=carol", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress("carol@example.com");
        request.CertificateExtensions.Add(san.Build());
        using var forged = stranger.Sign(request.CreateSigningRequestPem(), eku: "1.3.6.1.5.5.7.3.2");
        var untrusted = await f.Pki.ResolveClientCertificateDetailedAsync(forged, null);
        Assert.Null(untrusted.AccountAddress);
        Assert.Contains("does not chain", untrusted.Error, StringComparison.Ordinal);

        f.Clock.Offset = TimeSpan.FromDays(400);
        Assert.Contains("expired", (await f.Pki.ResolveClientCertificateDetailedAsync(carol, null)).Error, StringComparison.Ordinal);
        f.Clock.Offset = TimeSpan.Zero;

        Assert.True((await f.Pki.RevokeAsync(carol.SerialNumber, X509RevocationReason.AffiliationChanged, default)).Succeeded);
        var revoked = await f.Pki.ResolveClientCertificateDetailedAsync(carol, null);
        Assert.Null(revoked.AccountAddress);
        Assert.Contains("revoked", revoked.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_imported_root_cannot_name_accounts_by_e_mail_but_can_be_mapped_explicitly()
    {
        await using var f = await PkiFixture.CreateAsync();
        await f.Store.Directory.AddDomainAsync("example.com", default);
        await f.Store.Directory.AddAccountAsync("dave@example.com", "pw-dave-1234", default);
        using var partner = new ExternalCa("Partner Root");
        Assert.True((await f.Pki.ImportTrustedRootAsync(partner.RootPem, null, default)).Succeeded);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=dave", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress("dave@example.com");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = partner.Sign(request.CreateSigningRequestPem(), eku: "1.3.6.1.5.5.7.3.2");

        var implicitOnly = await f.Pki.ResolveClientCertificateDetailedAsync(certificate, null);
        Assert.Null(implicitOnly.AccountAddress);
        Assert.Contains("only certificates from the built-in CA", implicitOnly.Error, StringComparison.Ordinal);

        Assert.True((await f.Pki.MapClientCertificateAsync("dave@example.com", null, certificate.Issuer, certificate.SerialNumber, default)).Succeeded);
        Assert.Equal("dave@example.com", await f.Pki.ResolveClientCertificateAsync(certificate, null));
    }

    [Fact]
    public async Task Server_certificate_is_not_a_user_certificate()
    {
        await using var f = await PkiFixture.CreateAsync();
        var server = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate;
        Assert.Contains("not for client authentication", (await f.Pki.ResolveClientCertificateDetailedAsync(server, null)).Error, StringComparison.Ordinal);
    }
}
