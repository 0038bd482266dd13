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
    public async Task A_mapped_certificate_of_another_ca_is_checked_against_that_cas_crl()
    {
        await using var f = await PkiFixture.CreateAsync();
        await f.Store.Directory.AddDomainAsync("example.com", default);
        await f.Store.Directory.AddAccountAsync("erin@example.com", "pw-erin-1234", default);
        // A root name of its own: the runtime caches fetched CRLs by issuer between runs.
        using var partner = new ExternalCa("Partner Root " + Guid.NewGuid().ToString("N"));
        Assert.True((await f.Pki.ImportTrustedRootAsync(partner.RootPem, null, default)).Succeeded);
        using var crlServer = new CrlServer();
        X509Certificate2 NewUserCertificate(string crl)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=erin", key, HashAlgorithmName.SHA256);
            return partner.Sign(request.CreateSigningRequestPem(), eku: "1.3.6.1.5.5.7.3.2", crlUrl: crlServer.Url + crl);
        }

        using var good = NewUserCertificate("partner.crl");
        using var revoked = NewUserCertificate("partner.crl");
        using var unreachable = NewUserCertificate("missing.crl");
        crlServer.Files["partner.crl"] = partner.BuildCrl(revoked.SerialNumber);
        foreach (var certificate in new[] { good, revoked, unreachable })
        {
            Assert.True((await f.Pki.MapClientCertificateAsync("erin@example.com", null, certificate.Issuer, certificate.SerialNumber, default)).Succeeded);
        }

        Assert.Equal("erin@example.com", await f.Pki.ResolveClientCertificateAsync(good, null));
        var refused = await f.Pki.ResolveClientCertificateDetailedAsync(revoked, null);
        Assert.Null(refused.AccountAddress);
        Assert.Contains("revoked by its issuer", refused.Error, StringComparison.Ordinal);
        var unverifiable = await f.Pki.ResolveClientCertificateDetailedAsync(unreachable, null);
        Assert.Null(unverifiable.AccountAddress);
        Assert.Contains("could not be checked", unverifiable.Error, StringComparison.Ordinal);
    }

    /// <summary>Serves CRL files over HTTP on a loopback port, as a CA's distribution point does.</summary>
    private sealed class CrlServer : IDisposable
    {
        private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public CrlServer()
        {
            _listener.Start();
            Url = $"http://127.0.0.1:{((System.Net.IPEndPoint)_listener.LocalEndpoint).Port}/";
            _ = ServeAsync();
        }

        public string Url { get; }

        public System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> Files { get; } = new();

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, leaveOpen: true);
                var path = (await reader.ReadLineAsync(_stop.Token))?.Split(' ') is [_, var target, ..] ? target.TrimStart('/') : "";
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync(_stop.Token)))
                {
                }

                var body = Files.TryGetValue(path, out var file) ? file : null;
                var head = body is null ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    : $"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), _stop.Token);
                await stream.WriteAsync(body ?? [], _stop.Token);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task Server_certificate_is_not_a_user_certificate()
    {
        await using var f = await PkiFixture.CreateAsync();
        var server = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate;
        Assert.Contains("not for client authentication", (await f.Pki.ResolveClientCertificateDetailedAsync(server, null)).Error, StringComparison.Ordinal);
    }
}
