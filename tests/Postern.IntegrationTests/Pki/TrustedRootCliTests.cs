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
        var listed = (await _server.CliAsync(null, "ca", "trust", "list")).Output;
        Assert.Contains(root.ExportCertificatePem().Trim(), listed, StringComparison.Ordinal);

        // The list names each root and its thumbprint, which is what 'remove' asks for (and its refusal points here).
        Assert.Contains($"# CN=Partner Root, O=Partner ({thumbprint})", listed, StringComparison.Ordinal);

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

    [Fact]
    public async Task After_becoming_a_subordinate_ca_the_command_line_still_reaches_the_server_across_a_restart()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test");
        var (root, signed) = await BecomeSubordinateAsync(server);
        root.Dispose();
        signed.Dispose();
        server.Kill();

        // admin.json now names the subordinate CA; the HTTPS virtual server still serves what the old root issued, and
        // once renewed, a certificate under the subordinate CA: the CLI reaches the server either way.
        await using var again = await PosternProcess.StartAsync("mail.example.test", server.DataDirectory, server.PortOffset);
        var before = await again.CliAsync(null, "vs", "list");
        Assert.True(before.ExitCode == 0, before.Error);
        var renewed = await again.CliAsync(null, "cert", "renew", "Default HTTP Virtual Server");
        Assert.True(renewed.ExitCode == 0, renewed.Error);
        Assert.Contains("by Example Issuing CA", renewed.Output, StringComparison.Ordinal);
        var after = await again.CliAsync(null, "vs", "list");
        Assert.True(after.ExitCode == 0, after.Error);
    }

    [Fact]
    public async Task A_relying_party_finds_a_revocation_by_the_former_root_at_the_CRL_its_certificate_names_after_a_subordinate_CA_took_over()
    {
        await using var server = await PosternProcess.StartAsync("localhost");
        using var oldRoot = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(await server.ExportRootAsync()));
        var oldFile = Path.Combine(server.DataDirectory, "old.pem");
        Assert.Equal(0, (await server.CliAsync(null, "ca", "issue", "--name", "old.example.test", "--out", oldFile)).ExitCode);
        using var oldLeaf = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(oldFile));

        var (root, subordinate) = await BecomeSubordinateAsync(server);
        using var rootOwner = root;
        using var subordinateOwner = subordinate;

        var newFile = Path.Combine(server.DataDirectory, "new.pem");
        Assert.Equal(0, (await server.CliAsync(null, "ca", "issue", "--name", "new.example.test", "--out", newFile)).ExitCode);
        using var newLeaf = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(newFile));
        var keptFile = Path.Combine(server.DataDirectory, "kept.pem");
        Assert.Equal(0, (await server.CliAsync(null, "ca", "issue", "--name", "kept.example.test", "--out", keptFile)).ExitCode);
        using var keptLeaf = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(keptFile));
        foreach (var serial in new[] { oldLeaf.SerialNumber, newLeaf.SerialNumber })
        {
            var revoked = await server.CliAsync(null, "ca", "revoke", serial);
            Assert.True(revoked.ExitCode == 0, revoked.Error);
        }

        // As a relying party checks: the chain fetches the CRL over HTTP from the URL in each certificate.
        Assert.Equal(X509ChainStatusFlags.Revoked, LeafRevocationStatus(oldLeaf, oldRoot, null));
        Assert.Equal(X509ChainStatusFlags.Revoked, LeafRevocationStatus(newLeaf, root, subordinate));
        Assert.Equal(X509ChainStatusFlags.NoError, LeafRevocationStatus(keptLeaf, root, subordinate));

        // Each certificate's AIA URL gives its own issuer's certificate over HTTP, the former root's too.
        using var http = new HttpClient();
        foreach (var (leaf, issuer) in new[] { (oldLeaf, oldRoot), (newLeaf, subordinate) })
        {
            var aia = leaf.Extensions.OfType<X509AuthorityInformationAccessExtension>().Single().EnumerateCAIssuersUris().Single();
            Assert.Equal(issuer.RawData, await http.GetByteArrayAsync(new Uri(aia)));
        }
    }

    /// <summary>
    /// Makes the server's CA a subordinate of a new external root with the CLI, as an administrator would: trust the root,
    /// request, have the root sign, install. Returns the root and the subordinate CA certificate.
    /// </summary>
    private static async Task<(X509Certificate2 Root, X509Certificate2 Subordinate)> BecomeSubordinateAsync(PosternProcess server)
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Public Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(2));
        var rootFile = Path.Combine(server.DataDirectory, "public-root.pem");
        await File.WriteAllTextAsync(rootFile, root.ExportCertificatePem());
        Assert.Equal(0, (await server.CliAsync(null, "ca", "trust", "add", "--file", rootFile)).ExitCode);

        var csrFile = Path.Combine(server.DataDirectory, "subca.csr");
        var requested = await server.CliAsync(null, "ca", "subordinate", "request", "--cn", "Example Issuing CA", "--org", "Example", "--out", csrFile);
        Assert.True(requested.ExitCode == 0, requested.Error);
        var csr = CertificateRequest.LoadSigningRequestPem(await File.ReadAllTextAsync(csrFile), HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        var signed = csr.Create(root, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(1), RandomNumberGenerator.GetBytes(16));
        var subFile = Path.Combine(server.DataDirectory, "subca.pem");
        await File.WriteAllTextAsync(subFile, signed.ExportCertificatePem());
        var installed = await server.CliAsync(null, "ca", "subordinate", "install", "--file", subFile);
        Assert.True(installed.ExitCode == 0, installed.Error);
        return (root, signed);
    }

    private static X509ChainStatusFlags LeafRevocationStatus(X509Certificate2 leaf, X509Certificate2 root, X509Certificate2? intermediate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        if (intermediate is not null)
        {
            chain.ChainPolicy.ExtraStore.Add(intermediate);
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.Online;
        chain.ChainPolicy.RevocationFlag = X509RevocationFlag.EndCertificateOnly;
        chain.ChainPolicy.UrlRetrievalTimeout = TimeSpan.FromSeconds(20);
        chain.Build(leaf);
        Assert.Equal(intermediate is null ? 2 : 3, chain.ChainElements.Count);
        return chain.ChainElements[0].ChainElementStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
    }

    [Fact]
    public async Task A_certificate_from_an_external_ca_on_the_https_virtual_server_keeps_the_command_line_working()
    {
        // The article's advice for the HTTP virtual server: a third-party certificate. The CLI talks to that server.
        await using var server = await PosternProcess.StartAsync("mail.example.test");
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Web Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(2));
        var rootFile = Path.Combine(server.DataDirectory, "web-root.pem");
        await File.WriteAllTextAsync(rootFile, root.ExportCertificatePem());
        Assert.Equal(0, (await server.CliAsync(null, "ca", "trust", "add", "--file", rootFile)).ExitCode);

        var csrFile = Path.Combine(server.DataDirectory, "web.csr");
        var requested = await server.CliAsync(null, "cert", "request", "Default HTTP Virtual Server", "--offline", "--org", "Example", "--cn", "mail.example.test", "--country", "GB", "--out", csrFile);
        Assert.True(requested.ExitCode == 0, requested.Error);
        var csr = CertificateRequest.LoadSigningRequestPem(await File.ReadAllTextAsync(csrFile), HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        using var issued = csr.Create(root, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(90), RandomNumberGenerator.GetBytes(16));
        var cerFile = Path.Combine(server.DataDirectory, "web.cer");
        await File.WriteAllBytesAsync(cerFile, issued.RawData);
        var installed = await server.CliAsync(null, "cert", "install", "Default HTTP Virtual Server", "--file", cerFile);
        Assert.True(installed.ExitCode == 0, installed.Error);

        var list = await server.CliAsync(null, "vs", "list");
        Assert.True(list.ExitCode == 0, list.Error);
    }
}
