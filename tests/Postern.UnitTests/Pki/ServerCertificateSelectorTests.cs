using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class ServerCertificateSelectorTests
{
    private static readonly DateTimeOffset Now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Lazy<SslStreamCertificateContext> Context = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var self = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return SslStreamCertificateContext.Create(X509CertificateLoader.LoadPkcs12(self.Export(X509ContentType.Pkcs12), null), null, offline: true);
    });

    private static SelectorEntry Entry(string id, bool isDefault, bool expired, params string[] names) =>
        new(id, names, Context.Value, Now.AddYears(-1), expired ? Now.AddDays(-1) : Now.AddYears(1), isDefault);

    [Theory]
    [InlineData("mail.example.com", "exact")]
    [InlineData("MAIL.example.com.", "exact")]
    [InlineData("other.example.com", "wild")]
    [InlineData("a.b.example.com", "default")]
    [InlineData("example.com", "default")]
    [InlineData("unknown.test", "default")]
    [InlineData(null, "default")]
    public void Sni_chooses_exact_then_wildcard_then_the_default(string? sni, string expected)
    {
        SelectorEntry[] entries = [Entry("default", true, false, "host.example.net"), Entry("wild", false, false, "*.example.com"), Entry("exact", false, false, "mail.example.com")];
        Assert.Equal(expected, ServerCertificateSelector.Choose(entries, sni, Now)!.Thumbprint);
    }

    [Fact]
    public void An_expired_certificate_is_never_preferred_over_a_valid_one()
    {
        SelectorEntry[] entries = [Entry("expired-default-exact", true, true, "mail.example.com"), Entry("valid", false, false, "other.example.org")];
        Assert.Equal("valid", ServerCertificateSelector.Choose(entries, "mail.example.com", Now)!.Thumbprint);
        Assert.Equal("valid", ServerCertificateSelector.Choose(entries, null, Now)!.Thumbprint);
    }

    [Fact]
    public async Task A_revoked_certificate_loses_to_any_valid_one()
    {
        await using var f = await PkiFixture.CreateAsync();
        var extra = await f.Pki.IssueServerCertificateAsync(["alt.example.com"], "alt", null, default);
        Assert.True((await f.Pki.AssignCertificateAsync(f.SmtpId, extra.Value!.Thumbprint, makeDefault: false, default)).Succeeded);
        Assert.Equal(extra.Value.SerialNumber, f.Pki.Selector.Select(f.SmtpId, "alt.example.com")!.TargetCertificate.SerialNumber);

        Assert.True((await f.Pki.RevokeAsync(extra.Value.SerialNumber, System.Security.Cryptography.X509Certificates.X509RevocationReason.KeyCompromise, default)).Succeeded);

        Assert.NotEqual(extra.Value.SerialNumber, f.Pki.Selector.Select(f.SmtpId, "alt.example.com")!.TargetCertificate.SerialNumber);
    }

    [Fact]
    public void An_expired_certificate_is_still_served_when_it_is_all_there_is()
    {
        SelectorEntry[] entries = [Entry("old", true, true, "mail.example.com")];
        Assert.Equal("old", ServerCertificateSelector.Choose(entries, "mail.example.com", Now)!.Thumbprint);
    }

    [Fact]
    public void Among_equals_the_later_expiry_wins()
    {
        var shorter = Entry("short", false, false, "mail.example.com");
        var longer = Entry("long", false, false, "mail.example.com") with { NotAfter = Now.AddYears(3) };
        Assert.Equal("long", ServerCertificateSelector.Choose([shorter, longer], "mail.example.com", Now)!.Thumbprint);
    }

    [Fact]
    public void Publishing_swaps_the_whole_snapshot()
    {
        var selector = new ServerCertificateSelector(null, null, TimeProvider.System, null);
        Assert.Null(selector.Select(1, null));
        var entry = new SelectorEntry("a", ["x.example.com"], Context.Value, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), true);
        selector.Publish(new Dictionary<long, SelectorEntry[]> { [1] = [entry] });
        Assert.Same(Context.Value, selector.Select(1, "x.example.com"));
        Assert.Null(selector.Select(2, "x.example.com"));
        selector.Publish(new Dictionary<long, SelectorEntry[]>());
        Assert.Null(selector.Select(1, "x.example.com"));
    }
}
