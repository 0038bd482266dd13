using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Connections;

/// <summary>maxConnections and maxConnectionsPerAddress are enforced on new connections as soon as they are set.</summary>
public sealed class ConnectionLimitTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string Pop3 = "Default POP3 Virtual Server";
    private readonly PosternProcess _server = fixture.Server;

    private async Task SetLimitsAsync(params string[] limits)
    {
        var set = await _server.CliAsync(null, ["vs", "set", Pop3, "--limit", .. limits]);
        Assert.True(set.ExitCode == 0, set.Error);
    }

    private async Task<(TcpClient Client, string Greeting)> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", _server.Port(110));
        var buffer = new byte[512];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await client.GetStream().ReadAsync(buffer, timeout.Token);
        return (client, Encoding.ASCII.GetString(buffer, 0, read));
    }

    /// <summary>Opens <paramref name="count"/> connections that must each be greeted, and keeps them in <paramref name="held"/>.</summary>
    private async Task OpenGreetedAsync(List<TcpClient> held, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var (client, greeting) = await ConnectAsync();
            held.Add(client);
            Assert.StartsWith("+OK", greeting, StringComparison.Ordinal);
        }
    }

    private async Task ExpectBusyAsync(List<TcpClient> held)
    {
        var (client, reply) = await ConnectAsync();
        held.Add(client);
        Assert.StartsWith("-ERR [SYS/TEMP]", reply, StringComparison.Ordinal);
    }

    private static async Task CloseAllAsync(List<TcpClient> held)
    {
        held.ForEach(c => c.Dispose());
        held.Clear();

        // Time for the server to see the closes before the next limit counts connections.
        await Task.Delay(200);
    }

    /// <summary>POP3's connections refused by a limit so far, as `postern stats` counts them.</summary>
    private async Task<long> RefusedAsync()
    {
        var stats = await _server.CliAsync(null, "stats", "--json");
        Assert.True(stats.ExitCode == 0, stats.Error);
        return JsonDocument.Parse(stats.Output).RootElement.GetProperty("protocols").EnumerateArray()
            .Single(p => p.GetProperty("protocol").GetString() == "pop3").GetProperty("connectionsRefused").GetInt64();
    }

    [Fact]
    public async Task The_limits_count_every_binding_together_and_995_says_busy_over_TLS()
    {
        var held = new List<IDisposable>();
        try
        {
            // POP3 listens on 110 and 995: one connection on 110 fills a limit of one for the virtual server. The client
            // of 995 past it is told so in POP3 inside TLS, not by a handshake cut short (a mail client shows that as a
            // certificate or security error).
            await SetLimitsAsync("maxConnections=1", "maxConnectionsPerAddress=50");
            await WaitUntilGreetedAsync(held);
            await ExpectBusyOverTlsAsync(held);

            // The same for the limit per client address.
            held.ForEach(c => c.Dispose());
            held.Clear();
            await SetLimitsAsync("maxConnections=2000", "maxConnectionsPerAddress=1", "limitLoopbackPerAddress=on");
            await WaitUntilGreetedAsync(held);
            await ExpectBusyOverTlsAsync(held);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
            await SetLimitsAsync("maxConnections=2000", "maxConnectionsPerAddress=50", "limitLoopbackPerAddress=off");
        }
    }

    /// <summary>Connects until greeted: the server may still be counting a connection just closed.</summary>
    private async Task WaitUntilGreetedAsync(List<IDisposable> held)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (client, greeting) = await ConnectAsync();
            if (greeting.StartsWith("+OK", StringComparison.Ordinal))
            {
                held.Add(client);
                return;
            }

            client.Dispose();
            Assert.True(attempt < 100, "never greeted: " + greeting);
            await Task.Delay(100);
        }
    }

    private async Task ExpectBusyOverTlsAsync(List<IDisposable> held)
    {
        var client = new TcpClient();
        held.Add(client);
        await client.ConnectAsync("127.0.0.1", _server.Port(995));
        var tls = new SslStream(client.GetStream(), false, _server.ChainsToRoot);
        held.Add(tls);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mail.example.test" }, timeout.Token);
        var buffer = new byte[512];
        var read = await tls.ReadAsync(buffer, timeout.Token);
        Assert.StartsWith("-ERR [SYS/TEMP]", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Limits_refuse_the_connection_past_them_with_the_protocols_busy_reply()
    {
        var held = new List<TcpClient>();
        var refusedBefore = await RefusedAsync();
        try
        {
            await SetLimitsAsync("maxConnections=2", "maxConnectionsPerAddress=50");
            await OpenGreetedAsync(held, 2);
            await ExpectBusyAsync(held);

            // Loopback clients (a local webmail brings everyone from 127.0.0.1) count only against maxConnections ...
            await CloseAllAsync(held);
            await SetLimitsAsync("maxConnections=100", "maxConnectionsPerAddress=1");
            await OpenGreetedAsync(held, 3);

            // ... unless the administrator says they count per address too.
            await CloseAllAsync(held);
            await SetLimitsAsync("limitLoopbackPerAddress=on");
            await OpenGreetedAsync(held, 1);
            await ExpectBusyAsync(held);

            // Both refusals are counted for the administrator's monitoring.
            Assert.Equal(refusedBefore + 2, await RefusedAsync());
        }
        finally
        {
            held.ForEach(c => c.Dispose());
            await SetLimitsAsync("maxConnections=2000", "maxConnectionsPerAddress=50", "limitLoopbackPerAddress=off");
        }
    }
}
