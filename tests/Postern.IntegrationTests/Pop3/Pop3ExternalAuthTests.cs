using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Connections;
using Postern.Server.Pop3;
using Postern.Store;

namespace Postern.IntegrationTests.Pop3;

/// <summary>SASL EXTERNAL (RFC 4422 Appendix A) with a TLS client certificate mapped to an account.</summary>
public sealed class Pop3ExternalAuthTests
{
    [Fact]
    public async Task ClientCertificateLogsIn()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "postern-test-" + Guid.NewGuid().ToString("N"));
        var store = PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(dataDirectory));
        var context = new ServerContext
        {
            Store = store,
            Certificates = TestCertificates.Shared,
            HostName = "mail.example.test",
            LoggerFactory = NullLoggerFactory.Instance,
            ClientCertificateAccounts = (certificate, _) =>
                Task.FromResult(certificate.GetNameInfo(X509NameType.SimpleName, false) == "alice" ? "alice@example.test" : null),
        };
        var defaults = Pop3Defaults.Create("mail.example.test")[0];
        Assert.True((await store.Configuration.SaveVirtualServerAsync(defaults with { Bindings = [new Binding("127.0.0.1", 0, BindingMode.ImplicitTls)] }, CancellationToken.None)).IsOk);
        await store.Directory.AddAccountAsync("alice@example.test", "unused password", CancellationToken.None);
        await store.Directory.AddAccountAsync("bob@example.test", "unused password", CancellationToken.None);
        var host = new VirtualServerHost(context, [new Pop3ProtocolHandler(context)]);
        try
        {
            await host.ReloadAsync(CancellationToken.None);
            var port = host.Status.Single(s => s.Listening).Port;

            using (var alice = CreateClientCertificate("alice"))
            {
                await using var client = await Pop3RawClient.ConnectAsync(port, implicitTls: true, clientCertificate: alice);
                Assert.NotNull(client.Tls!.LocalCertificate);
                Assert.StartsWith("+OK", await client.CommandAsync("CAPA"));
                Assert.Contains("SASL PLAIN LOGIN EXTERNAL", await client.ReadMultiLineAsync());

                // Acting as someone else is refused; as oneself (empty authzid "=") works.
                Assert.StartsWith("-ERR [AUTH]", await client.CommandAsync("AUTH EXTERNAL " + Convert.ToBase64String("bob@example.test"u8)));
                Assert.Equal("+ ", await client.CommandAsync("AUTH EXTERNAL"));
                Assert.StartsWith("+OK Logged in", await client.CommandAsync("="));
                Assert.Equal("+OK 0 0", await client.CommandAsync("STAT"));
            }

            using (var stranger = CreateClientCertificate("stranger"))
            {
                await using var client = await Pop3RawClient.ConnectAsync(port, implicitTls: true, clientCertificate: stranger);
                Assert.StartsWith("-ERR [AUTH]", await client.CommandAsync("AUTH EXTERNAL ="));
            }

            await using (var client = await Pop3RawClient.ConnectAsync(port, implicitTls: true))
            {
                Assert.Equal("-ERR Unsupported authentication mechanism", await client.CommandAsync("AUTH EXTERNAL ="));
            }
        }
        finally
        {
            await host.DisposeAsync();
            await store.DisposeAsync();
            Postern.Tests.TestStoreOptions.Drop(dataDirectory);
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static X509Certificate2 CreateClientCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
