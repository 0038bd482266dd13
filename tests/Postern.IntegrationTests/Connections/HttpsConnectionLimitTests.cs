using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Connections;

/// <summary>The HTTP virtual server's connection limits hold on 443 as they do on the mail ports.</summary>
public sealed class HttpsConnectionLimitTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string Http = "Default HTTP Virtual Server";
    private readonly PosternProcess _server = fixture.Server;

    /// <summary>A TLS connection that answered a request, or null when the server closed it first.</summary>
    private async Task<IDisposable?> TryOpenAsync()
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", _server.Port(443));
            var tls = new SslStream(client.GetStream(), false, _server.ChainsToRoot);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mail.example.test" }, timeout.Token);
            await tls.WriteAsync(Encoding.ASCII.GetBytes("GET /api/v1/openapi.json HTTP/1.1\r\nHost: mail.example.test\r\n\r\n"), timeout.Token);
            var buffer = new byte[64];
            var read = await tls.ReadAsync(buffer, timeout.Token);
            Assert.StartsWith("HTTP/1.1 ", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
            return tls;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or SocketException)
        {
            client.Dispose();
            return null;
        }
    }

    private async Task SetLimitsAsync(params string[] limits)
    {
        // The CLI's own connection counts too: it may be refused while the held ones are still counted.
        for (var attempt = 0; ; attempt++)
        {
            var set = await _server.CliAsync(null, ["vs", "set", Http, "--limit", .. limits]);
            if (set.ExitCode == 0)
            {
                return;
            }

            Assert.True(attempt < 50, set.Error);
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Past_maxConnections_a_connection_to_443_is_refused()
    {
        var held = new List<IDisposable>();
        try
        {
            await SetLimitsAsync("maxConnections=2");
            for (var attempt = 0; held.Count < 2; attempt++)
            {
                // The CLI's connection may still be counted for a moment.
                if (await TryOpenAsync() is { } open)
                {
                    held.Add(open);
                }
                else
                {
                    Assert.True(attempt < 50, "a connection within the limit was refused");
                    await Task.Delay(200);
                }
            }

            var third = await TryOpenAsync();
            third?.Dispose();
            Assert.Null(third);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
            await SetLimitsAsync("maxConnections=2000");
        }
    }
}
