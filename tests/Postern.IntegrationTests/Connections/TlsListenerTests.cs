using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.IntegrationTests.Connections;

public sealed class TlsListenerTests
{
    private static VirtualServer EchoServer(bool require128 = false) => new()
    {
        Name = "Echo",
        Protocol = ServiceProtocol.Smtp,
        Bindings = [new Binding("127.0.0.1", 0, BindingMode.ImplicitTls), new Binding("127.0.0.1", 0, BindingMode.StartTls)],
        Security = new SecurityOptions { Require128BitEncryption = require128 },
    };

    [Fact]
    public async Task ImplicitTlsNegotiatesTls12OrBetterWithAStrongCipher()
    {
        await using var server = await InProcessServer.StartAsync(_ => [new EchoHandler()], [EchoServer(require128: true)]);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf("Echo", BindingMode.ImplicitTls));
        await using var ssl = new SslStream(client.GetStream(), false, TestCertificates.Shared.Validate);
        await ssl.AuthenticateAsClientAsync("localhost");

        Assert.True(ssl.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13);
        Assert.True(TlsPolicy.CipherStrength(ssl.NegotiatedCipherSuite) >= 128);
        Assert.Equal("hello", await EchoAsync(ssl, "hello"));
    }

    [Fact]
    public async Task Tls11IsRefused()
    {
        await using var server = await InProcessServer.StartAsync(_ => [new EchoHandler()], [EchoServer()]);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf("Echo", BindingMode.ImplicitTls));
        await using var ssl = new SslStream(client.GetStream(), false, TestCertificates.Shared.Validate);
#pragma warning disable SYSLIB0039, CA5397 // deliberately offering an obsolete protocol
        var options = new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls11 };
#pragma warning restore SYSLIB0039, CA5397
        await Assert.ThrowsAnyAsync<Exception>(() => ssl.AuthenticateAsClientAsync(options));
    }

    [Fact]
    public async Task PlainBindingServesClearText()
    {
        await using var server = await InProcessServer.StartAsync(_ => [new EchoHandler()], [EchoServer()]);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf("Echo", BindingMode.StartTls));
        Assert.Equal("plain", await EchoAsync(client.GetStream(), "plain"));
    }

    private static async Task<string> EchoAsync(Stream stream, string text)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text + "\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        return await reader.ReadLineAsync() ?? "";
    }
}
