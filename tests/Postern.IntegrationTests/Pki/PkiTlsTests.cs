using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Postern.IntegrationTests.Infrastructure;
using Postern.Pki;
using Postern.Store;

namespace Postern.IntegrationTests.Pki;

/// <summary>The real listener host presenting certificates from the PKI's selector, over a real socket.</summary>
public sealed class PkiTlsTests
{
    private static VirtualServer Smtp() => new()
    {
        Name = "Default SMTP Virtual Server",
        Protocol = ServiceProtocol.Smtp,
        Bindings = [new Binding("127.0.0.1", 0, BindingMode.ImplicitTls)],
    };

    [Fact]
    public async Task Listener_serves_the_bootstrap_certificate_and_a_renewal_is_seen_by_the_next_handshake()
    {
        var selector = new LateSelector();
        await using var server = await InProcessServer.StartAsync(_ => [new EchoHandler()], [Smtp()], selector);
        var pki = new PkiService(server.Store, new PkiOptions());
        Assert.True((await pki.EnsureInitializedAsync("mail.example.test", "Example Org", default)).Succeeded);
        selector.Inner = pki.Selector;
        using var root = X509Certificate2.CreateFromPem((await pki.ExportRootPemAsync(default))!);
        var port = server.PortOf("Default SMTP Virtual Server", BindingMode.ImplicitTls);

        var first = await ConnectAsync(port, "mail.example.test", root);
        var vs = (await server.Store.Configuration.FindVirtualServerAsync("Default SMTP Virtual Server", default))!.Id;
        Assert.True((await pki.RenewCertificateAsync(vs, default)).Succeeded);
        var second = await ConnectAsync(port, "mail.example.test", root);

        Assert.NotEqual(first, second);
        Assert.Equal(pki.Selector.Select(vs, "mail.example.test")!.TargetCertificate.Thumbprint, second);
    }

    private static async Task<string> ConnectAsync(int port, string host, X509Certificate2 root)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        string? thumbprint = null;
        await using var ssl = new SslStream(client.GetStream(), false, (_, certificate, sent, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(root);
            chain.ChainPolicy.ExtraStore.AddRange(sent!.ChainPolicy.ExtraStore);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var presented = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
            thumbprint = presented.Thumbprint;
            return chain.Build(presented);
        });
        await ssl.AuthenticateAsClientAsync(host);
        await ssl.WriteAsync(Encoding.ASCII.GetBytes("ping\r\n"));
        using var reader = new StreamReader(ssl, Encoding.ASCII, leaveOpen: true);
        Assert.Equal("ping", await reader.ReadLineAsync());
        return thumbprint!;
    }

    /// <summary>The server's store exists only once the host is up, so the PKI's selector is plugged in afterwards.</summary>
    private sealed class LateSelector : IServerCertificateSelector
    {
        public IServerCertificateSelector? Inner { get; set; }

        public SslStreamCertificateContext? Select(long virtualServerId, string? serverName) => Inner?.Select(virtualServerId, serverName);
    }
}
