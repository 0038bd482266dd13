using Postern.Tests;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class PkiBootstrapTests
{
    [Fact]
    public async Task First_start_creates_a_root_CA_with_the_CA_profile()
    {
        await using var f = await PkiFixture.CreateAsync();
        var pem = await f.Pki.ExportRootPemAsync(default);
        Assert.NotNull(pem);
        using var root = X509Certificate2.CreateFromPem(pem);

        Assert.True(root.SubjectName.RawData.AsSpan().SequenceEqual(root.IssuerName.RawData));
        var constraints = Assert.Single(root.Extensions.OfType<X509BasicConstraintsExtension>());
        Assert.True(constraints.CertificateAuthority);
        Assert.True(constraints.Critical);
        var usage = Assert.Single(root.Extensions.OfType<X509KeyUsageExtension>());
        Assert.True(usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign));
        Assert.True(usage.KeyUsages.HasFlag(X509KeyUsageFlags.CrlSign));
        Assert.Single(root.Extensions.OfType<X509SubjectKeyIdentifierExtension>());
        Assert.Equal(256, root.GetECDsaPublicKey()!.KeySize);
        Assert.InRange((root.NotAfter - root.NotBefore).TotalDays, 365 * 10 - 1, 365 * 10 + 4);
        Assert.Contains("Example Org", root.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task First_start_issues_a_server_certificate_and_assigns_it_to_every_virtual_server()
    {
        await using var f = await PkiFixture.CreateAsync();
        var certificates = await f.Pki.ListCertificatesAsync(default);
        var server = Assert.Single(certificates, c => c.Kind == CertificateKind.Server);

        Assert.Equal(new[] { f.SmtpId, f.ImapId }.Order(), server.VirtualServerIds.Order());
        Assert.Equal(["dns:mail.example.com", "dns:localhost", "ip:127.0.0.1", "ip:::1"], server.SubjectAlternativeNames);
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], server.EnhancedKeyUsages);
        Assert.InRange((server.NotAfter - server.NotBefore).TotalDays, 729, 731);
        Assert.True(server.HasPrivateKey);

        var context = f.Pki.Selector.Select(f.SmtpId, "mail.example.com");
        Assert.NotNull(context);
        var leaf = context.TargetCertificate;
        Assert.True(leaf.HasPrivateKey);
        // CDP and AIA are named after the issuing CA (the first 8 bytes of its SHA-256 thumbprint), so that they stay
        // right after another CA takes over.
        using var root = X509Certificate2.CreateFromPem((await f.Pki.ExportRootPemAsync(default))!);
        var name = "ca-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(root.RawData))[..16];
        var cdp = leaf.Extensions.OfType<X509Extension>().Single(e => e.Oid!.Value == "2.5.29.31");
        Assert.Contains($"http://mail.example.com/pki/{name}.crl", System.Text.Encoding.ASCII.GetString(cdp.RawData), StringComparison.Ordinal);
        var aia = Assert.Single(leaf.Extensions.OfType<X509AuthorityInformationAccessExtension>());
        Assert.Equal([$"http://mail.example.com/pki/{name}.crt"], aia.EnumerateCAIssuersUris());

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Fact]
    public async Task Second_start_changes_nothing_but_covers_new_virtual_servers()
    {
        await using var f = await PkiFixture.CreateAsync();
        var before = await f.Pki.ListCertificatesAsync(default);
        var again = await f.Pki.EnsureInitializedAsync(PkiFixture.HostName, "Example Org", default);
        Assert.True(again.Succeeded);
        Assert.False(again.Value!.CreatedCa);
        Assert.Empty(again.Value.AssignedVirtualServerIds);
        Assert.Equal(before.Count, (await f.Pki.ListCertificatesAsync(default)).Count);

        var nntp = await f.AddVirtualServerAsync("Default NNTP Virtual Server", Postern.Store.ServiceProtocol.Nntp);
        var third = await f.Pki.EnsureInitializedAsync(PkiFixture.HostName, "Example Org", default);
        Assert.Equal([nntp], third.Value!.AssignedVirtualServerIds);
        Assert.Equal(f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate.Thumbprint, f.Pki.Selector.Select(nntp, null)!.TargetCertificate.Thumbprint);
        Assert.Equal(before.Count, (await f.Pki.ListCertificatesAsync(default)).Count);
    }

    [Fact]
    public async Task Bootstrap_with_RSA_makes_RSA_keys()
    {
        var folder = Path.Combine(Path.GetTempPath(), "postern-pki-" + Guid.NewGuid().ToString("N"));
        var store = Postern.Store.PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(folder));
        try
        {
            var vs = (await store.Configuration.SaveVirtualServerAsync(new Postern.Store.VirtualServer { Name = "Default POP3 Virtual Server", Protocol = Postern.Store.ServiceProtocol.Pop3 }, default)).Value!.Id;
            var pki = new PkiService(store, new PkiOptions { DefaultKeyAlgorithm = KeyAlgorithm.Rsa2048, PublicBaseUrl = "https://pki.example.net/" });
            Assert.True((await pki.EnsureInitializedAsync("host.example.net", "Org", default)).Succeeded);
            var leaf = pki.Selector.Select(vs, null)!.TargetCertificate;
            Assert.Equal(2048, leaf.GetRSAPublicKey()!.KeySize);
            var uri = Assert.Single(leaf.Extensions.OfType<X509AuthorityInformationAccessExtension>().Single().EnumerateCAIssuersUris());
            Assert.Matches("^https://pki\\.example\\.net/ca-[0-9a-f]{16}\\.crt$", uri);
        }
        finally
        {
            await store.DisposeAsync();
            Postern.Tests.TestStoreOptions.Drop(folder);
            Directory.Delete(folder, true);
        }
    }

    [SqliteFact]
    public async Task Private_keys_never_reach_the_database_in_clear()
    {
        await using var f = await PkiFixture.CreateAsync();
        var rows = await f.Store.Database.ReadAsync(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = "SELECT private_key FROM pki_certificates WHERE private_key IS NOT NULL";
            using var reader = command.ExecuteReader();
            var list = new List<byte[]>();
            while (reader.Read())
            {
                list.Add((byte[])reader[0]);
            }

            return list;
        }, default);
        Assert.Equal(2, rows.Count);

        var secrets = new List<byte[]>();
        foreach (var blob in rows)
        {
            using var key = Assert.IsAssignableFrom<ECDsa>(f.Pki.Keys.UnprotectKey(blob));
            secrets.Add(key.ExportPkcs8PrivateKey());
            secrets.Add(key.ExportParameters(true).D!);
        }

        // Checkpoint-independent: look in the database file and its WAL alike.
        var files = Directory.GetFiles(f.Folder, "postern.db*").Select(File.ReadAllBytes).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            foreach (var secret in secrets)
            {
                Assert.Equal(-1, file.AsSpan().IndexOf(secret));
            }
        }

        Assert.True(File.Exists(Path.Combine(f.Folder, "keys", "master.key")));
    }

    [Fact]
    public async Task Selected_context_completes_a_real_TLS_handshake()
    {
        await using var f = await PkiFixture.CreateAsync();
        using var root = X509Certificate2.CreateFromPem((await f.Pki.ExportRootPemAsync(default))!);
        var context = f.Pki.Selector.Select(f.ImapId, PkiFixture.HostName)!;

        var presented = await HandshakeAsync(context, PkiFixture.HostName, root);

        Assert.Equal(context.TargetCertificate.Thumbprint, presented);
    }

    internal static async Task<string> HandshakeAsync(SslStreamCertificateContext context, string targetHost, X509Certificate2 trustedRoot)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverTask = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            await using var ssl = new SslStream(socket.GetStream());
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context });
            await ssl.WriteAsync(new byte[] { 42 });
        });

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var clientSsl = new SslStream(client.GetStream());
        string? thumbprint = null;
        await clientSsl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, certificate, sent, _) =>
            {
                using var chain = new X509Chain();
                // Only what the server sent (its intermediates) may complete the path to the one trusted root.
                chain.ChainPolicy.ExtraStore.AddRange(sent!.ChainPolicy.ExtraStore);
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(trustedRoot);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var presented = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
                thumbprint = presented.Thumbprint;
                return chain.Build(presented);
            },
        });
        var buffer = new byte[1];
        Assert.Equal(1, await clientSsl.ReadAsync(buffer));
        await serverTask;
        return thumbprint!;
    }
}
