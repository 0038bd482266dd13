using System.Net.Sockets;
using System.Text;
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

    [Fact]
    public async Task Limits_refuse_the_connection_past_them_with_the_protocols_busy_reply()
    {
        var held = new List<TcpClient>();
        try
        {
            await SetLimitsAsync("maxConnections=2", "maxConnectionsPerAddress=50");
            for (var i = 0; i < 2; i++)
            {
                var (client, greeting) = await ConnectAsync();
                held.Add(client);
                Assert.StartsWith("+OK", greeting, StringComparison.Ordinal);
            }

            var (refused, busy) = await ConnectAsync();
            held.Add(refused);
            Assert.StartsWith("-ERR [SYS/TEMP]", busy, StringComparison.Ordinal);

            // Loopback clients (a local webmail brings everyone from 127.0.0.1) count only against maxConnections ...
            held.ForEach(c => c.Dispose());
            held.Clear();
            await SetLimitsAsync("maxConnections=100", "maxConnectionsPerAddress=1");
            for (var i = 0; i < 3; i++)
            {
                var (client, greeting) = await ConnectAsync();
                held.Add(client);
                Assert.StartsWith("+OK", greeting, StringComparison.Ordinal);
            }

            // ... unless the administrator says they count per address too.
            held.ForEach(c => c.Dispose());
            held.Clear();
            await Task.Delay(200);
            await SetLimitsAsync("limitLoopbackPerAddress=on");
            var (first, firstGreeting) = await ConnectAsync();
            held.Add(first);
            Assert.StartsWith("+OK", firstGreeting, StringComparison.Ordinal);
            var (second, secondGreeting) = await ConnectAsync();
            held.Add(second);
            Assert.StartsWith("-ERR [SYS/TEMP]", secondGreeting, StringComparison.Ordinal);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
            await SetLimitsAsync("maxConnections=2000", "maxConnectionsPerAddress=50", "limitLoopbackPerAddress=off");
        }
    }
}
