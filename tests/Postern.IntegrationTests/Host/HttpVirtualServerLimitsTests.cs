using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Host;

/// <summary>The HTTP virtual server's timeouts, changed while it runs (a server of its own: they are set very short here).</summary>
public sealed class HttpVirtualServerLimitsTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task IdleAndHandshakeTimeoutsChangedWithVsSetApplyToTheNextConnection()
    {
        var set = await _server.CliAsync(null, "vs", "set", "Default HTTP Virtual Server", "--limit", "tlsHandshakeTimeoutSeconds=1", "idleTimeoutSeconds=2");
        Assert.True(set.ExitCode == 0, set.Error);

        // A client that opens the connection and never says hello is dropped after the new handshake timeout.
        using (var silent = new TcpClient())
        {
            await silent.ConnectAsync("127.0.0.1", _server.Port(443));
            var clock = Stopwatch.StartNew();
            Assert.True(await ClosedAsync(silent.GetStream()));
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5));
        }

        // A kept connection that completed its handshake is not cut by that deadline, but closes after the new idle timeout.
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", _server.Port(443));
        await using var tls = new SslStream(client.GetStream(), false, (sender, certificate, chain, errors) => _server.ChainsToRoot(sender, certificate, chain, errors));
        await tls.AuthenticateAsClientAsync("mail.example.test");
        await tls.WriteAsync(Encoding.ASCII.GetBytes("GET /api/v1/openapi.json HTTP/1.1\r\nHost: mail.example.test\r\n\r\n"));
        var buffer = new byte[65536];
        var first = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, first), StringComparison.Ordinal);
        var idle = Stopwatch.StartNew();
        Assert.True(await ClosedAsync(tls));
        Assert.InRange(idle.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
    }

    /// <summary>Reads until the server closes (an orderly close or a reset); false if it still talks after 15 seconds.</summary>
    private static async Task<bool> ClosedAsync(Stream stream)
    {
        var buffer = new byte[65536];
        try
        {
            while (await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(15)) > 0)
            {
                // The rest of an answer.
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
