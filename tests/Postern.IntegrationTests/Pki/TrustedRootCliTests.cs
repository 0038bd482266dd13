using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pki;

/// <summary>`postern ca trust add|list|remove`: an external root can be trusted and trusted no longer.</summary>
public sealed class TrustedRootCliTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task An_external_root_is_trusted_listed_and_removed_but_the_organizations_ca_is_not_removed_this_way()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Partner Root, O=Partner", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var file = Path.Combine(_server.DataDirectory, "partner-root.pem");
        await File.WriteAllTextAsync(file, root.ExportCertificatePem());
        var thumbprint = Convert.ToHexString(SHA256.HashData(root.RawData));

        var added = await _server.CliAsync(null, "ca", "trust", "add", "--file", file);
        Assert.True(added.ExitCode == 0, added.Error);
        Assert.Contains(root.ExportCertificatePem().Trim(), (await _server.CliAsync(null, "ca", "trust", "list")).Output, StringComparison.Ordinal);

        var removed = await _server.CliAsync(null, "ca", "trust", "remove", "--thumbprint", thumbprint);
        Assert.True(removed.ExitCode == 0, removed.Error);
        Assert.Contains("no longer trusted: CN=Partner Root", removed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(root.ExportCertificatePem().Trim(), (await _server.CliAsync(null, "ca", "trust", "list")).Output, StringComparison.Ordinal);

        var again = await _server.CliAsync(null, "ca", "trust", "remove", "--thumbprint", thumbprint);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("no trusted root", again.Error, StringComparison.Ordinal);

        using var ownCa = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(await _server.ExportRootAsync()));
        var own = await _server.CliAsync(null, "ca", "trust", "remove", "--thumbprint", Convert.ToHexString(SHA256.HashData(ownCa.RawData)));
        Assert.NotEqual(0, own.ExitCode);
        Assert.Contains(ownCa.ExportCertificatePem().Trim(), (await _server.CliAsync(null, "ca", "trust", "list")).Output, StringComparison.Ordinal);
    }
}
