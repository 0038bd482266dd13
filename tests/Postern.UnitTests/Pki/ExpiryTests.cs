using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class ExpiryTests
{
    [Fact]
    public async Task Certificates_in_use_expiring_soon_are_listed()
    {
        await using var f = await PkiFixture.CreateAsync();
        Assert.Empty((await f.Pki.CheckExpiryAsync(30, default)).Certificates);

        var report = await f.Pki.CheckExpiryAsync(800, default);
        var server = Assert.Single(report.Certificates);
        Assert.Equal(CertificateKind.Server, server.Kind);
        Assert.Equal(new[] { f.SmtpId, f.ImapId }.Order(), server.VirtualServerIds.Order());
        Assert.False(server.Expired);

        f.Clock.Offset = TimeSpan.FromDays(3660);
        var late = await f.Pki.CheckExpiryAsync(0, default);
        Assert.Contains(late.Certificates, c => c.Kind == CertificateKind.Ca && c.Expired);
    }

    [Fact]
    public async Task Auto_renew_replaces_built_in_CA_certificates_inside_the_window_only()
    {
        await using var f = await PkiFixture.CreateAsync();
        var before = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate.Thumbprint;
        Assert.Empty(await f.Pki.AutoRenewAsync(default));

        f.Clock.Offset = TimeSpan.FromDays(710);
        var outcomes = await f.Pki.AutoRenewAsync(default);

        var outcome = Assert.Single(outcomes);
        Assert.Null(outcome.Error);
        Assert.NotNull(outcome.NewThumbprint);
        var after = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate;
        Assert.NotEqual(before, after.Thumbprint);
        Assert.Equal(after.Thumbprint, f.Pki.Selector.Select(f.ImapId, null)!.TargetCertificate.Thumbprint);
        Assert.Empty(await f.Pki.AutoRenewAsync(default));
        Assert.Contains(await f.Pki.ListWizardAuditAsync(f.SmtpId, default), a => a.Detail?.StartsWith("automatic renewal", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Auto_renew_leaves_a_certificate_alone_when_the_CA_itself_ends_first()
    {
        // Issued certificates end with the CA (CaSigner caps them): in the CA's last 30 days a renewal cannot last
        // longer, so renewing again every watch (6 hours) only piled up certificates and keys.
        await using var f = await PkiFixture.CreateAsync();
        var caEnds = (await f.Pki.GetCaInfoAsync(default))!.NotAfter!.Value;
        f.Clock.Offset = caEnds - TimeSpan.FromDays(20) - DateTimeOffset.UtcNow;

        // The host certificate expired long ago: one renewal, to the CA's end, is worth it.
        var first = Assert.Single(await f.Pki.AutoRenewAsync(default));
        Assert.Null(first.Error);
        var renewed = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate;
        Assert.Equal(caEnds.UtcDateTime, renewed.NotAfter.ToUniversalTime(), TimeSpan.FromSeconds(1));

        Assert.Empty(await f.Pki.AutoRenewAsync(default));
        f.Clock.Offset += TimeSpan.FromHours(6);
        Assert.Empty(await f.Pki.AutoRenewAsync(default));
        Assert.Equal(renewed.Thumbprint, f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate.Thumbprint);
    }
}
