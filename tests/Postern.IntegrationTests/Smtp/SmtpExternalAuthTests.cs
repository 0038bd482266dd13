using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Connections;
using Postern.Server.Smtp;
using Postern.Store;

namespace Postern.IntegrationTests.Smtp;

/// <summary>SASL EXTERNAL (RFC 4422 Appendix A) with a TLS client certificate mapped to an account.</summary>
public sealed class SmtpExternalAuthTests
{
    private static X509Certificate2 ClientCertificate(string address)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + address, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(self.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task<string> ReadReplyAsync(StreamReader reader)
    {
        var reply = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            reply.Append(line).Append('\n');
            if (line.Length < 4 || line[3] == ' ')
            {
                break;
            }
        }

        return reply.ToString();
    }

    [Fact]
    public async Task ExternalIsOfferedWithAClientCertificateAndLogsTheMappedAccountIn()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "postern-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await RunAsync(dataDirectory);
        }
        finally
        {
            try
            {
                Postern.Tests.TestStoreOptions.Drop(dataDirectory);
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task RunAsync(string dataDirectory)
    {
        await using var store = PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(dataDirectory));
        var context = new ServerContext
        {
            Store = store,
            Certificates = TestCertificates.Shared,
            HostName = "mail.example.test",
            LoggerFactory = NullLoggerFactory.Instance,
            ClientCertificateAccounts = (certificate, _) => Task.FromResult<string?>(certificate.GetNameInfo(X509NameType.SimpleName, false)),
        };
        await store.Directory.AddDomainAsync("example.test", CancellationToken.None);
        await store.Directory.AddAccountAsync("alice@example.test", "pw-alice-123", CancellationToken.None);
        await store.Configuration.SaveVirtualServerAsync(SmtpTestServer.SubmissionServer() with { AuthenticationMethods = ["PLAIN", "LOGIN", "EXTERNAL"] }, CancellationToken.None);
        await using var host = new VirtualServerHost(context, [new SmtpProtocolHandler()]);
        await host.ReloadAsync(CancellationToken.None);
        var port = host.Status.Single(s => s.Mode == BindingMode.ImplicitTls).Port;

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", port);
            using var certificate = ClientCertificate("alice@example.test");
            await using var ssl = new SslStream(tcp.GetStream(), false, TestCertificates.Shared.Validate);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
            });
            using var reader = new StreamReader(ssl, Encoding.ASCII, false, 1024, leaveOpen: true);
            Assert.StartsWith("220", await ReadReplyAsync(reader));
            await ssl.WriteAsync("EHLO client.test\r\n"u8.ToArray());
            Assert.Contains("AUTH PLAIN LOGIN EXTERNAL", await ReadReplyAsync(reader));
            await ssl.WriteAsync("AUTH EXTERNAL =\r\nMAIL FROM:<alice@example.test>\r\n"u8.ToArray());
            Assert.StartsWith("235 2.7.0", await ReadReplyAsync(reader));
            Assert.StartsWith("250 2.1.0", await ReadReplyAsync(reader));
        }

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", port);
            await using var ssl = new SslStream(tcp.GetStream(), false, TestCertificates.Shared.Validate);
            await ssl.AuthenticateAsClientAsync("localhost");
            using var reader = new StreamReader(ssl, Encoding.ASCII, false, 1024, leaveOpen: true);
            await ReadReplyAsync(reader);
            await ssl.WriteAsync("EHLO client.test\r\n"u8.ToArray());
            var ehlo = await ReadReplyAsync(reader);
            Assert.Contains("AUTH PLAIN LOGIN", ehlo);
            Assert.DoesNotContain("EXTERNAL", ehlo);
            await ssl.WriteAsync("AUTH EXTERNAL =\r\n"u8.ToArray());
            Assert.StartsWith("504", await ReadReplyAsync(reader));
        }
    }
}
