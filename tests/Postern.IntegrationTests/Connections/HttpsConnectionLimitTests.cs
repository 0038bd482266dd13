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

/// <summary>The HTTP virtual server's idle and handshake timeouts hold on 443, from the start after they were set.</summary>
public sealed class HttpsTimeoutTests
{
    /// <summary>How long the server takes to close the connection while the client sends nothing more.</summary>
    private static async Task<TimeSpan> ClosedAfterAsync(Stream stream)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, limit.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
        }

        return clock.Elapsed;
    }

    [Fact]
    public async Task A_silent_client_is_dropped_at_the_virtual_servers_handshake_and_idle_timeouts()
    {
        await using var first = await PosternProcess.StartAsync("mail.example.test");
        var set = await first.CliAsync(null, "vs", "set", "Default HTTP Virtual Server", "--limit", "tlsHandshakeTimeoutSeconds=1", "--limit", "idleTimeoutSeconds=1");
        Assert.True(set.ExitCode == 0, set.Error);
        first.Kill();
        await using var server = await PosternProcess.StartAsync("mail.example.test", first.DataDirectory, first.PortOffset);

        // Kestrel's own defaults are a 10 s handshake and 130 s between requests.
        using (var silent = new TcpClient())
        {
            await silent.ConnectAsync("127.0.0.1", server.Port(443));
            Assert.InRange(await ClosedAfterAsync(silent.GetStream()), TimeSpan.Zero, TimeSpan.FromSeconds(8));
        }

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port(443));
        var tls = new SslStream(client.GetStream(), false, server.ChainsToRoot);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mail.example.test" });
        await tls.WriteAsync(Encoding.ASCII.GetBytes("GET /api/v1/openapi.json HTTP/1.1\r\nHost: mail.example.test\r\n\r\n"));
        Assert.InRange(await ClosedAfterAsync(tls), TimeSpan.Zero, TimeSpan.FromSeconds(8));
    }
}
