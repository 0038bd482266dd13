using System.Net.Sockets;
using System.Text;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Connections;

/// <summary>
/// A flood of connections past the process's open-files limit: the ones past the budget are told the server is busy,
/// the server does not spin or fall over, and every protocol still serves once the flood is gone. Before, the accept
/// loop spun a core on EMFILE, and the first session of a protocol could not load its assembly, which left that
/// protocol closing every connection until a restart (or the process died).
/// </summary>
public sealed class OpenFilesLimitTests
{
    [Fact]
    public async Task A_flood_past_the_open_files_limit_is_refused_as_busy_and_every_protocol_serves_after_it()
    {
        // Room for about 100 connections beside the descriptors the server has open (its budget).
        await using var server = await PosternProcess.StartAsync("mail.example.test", openFilesLimit: 600);

        var flood = await FloodAsync(server.Port(143));
        try
        {
            var greetings = new List<string>();
            foreach (var client in flood)
            {
                greetings.Add(await FirstLineAsync(client));
            }

            Assert.All(greetings, g => Assert.True(g.StartsWith("* OK", StringComparison.Ordinal) || g.StartsWith("* BYE", StringComparison.Ordinal), g));
            Assert.InRange(greetings.Count(g => g.StartsWith("* OK", StringComparison.Ordinal)), 16, 400 - 1);
            Assert.Contains(greetings, g => g.StartsWith("* BYE", StringComparison.Ordinal));
            Assert.True(server.IsRunning);
        }
        finally
        {
            flood.ForEach(c => c.Dispose());
        }

        // The flood is gone: each protocol's first session loads what it needs and greets.
        foreach (var (port, greeting) in new[] { (110, "+OK"), (119, "200"), (25, "220"), (143, "* OK") })
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", server.Port(port));
            Assert.StartsWith(greeting, await FirstLineAsync(client), StringComparison.Ordinal);
        }

        Assert.Contains("[2005]", server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connections_to_the_console_count_against_the_same_budget_as_the_mail_ports()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test", openFilesLimit: 600);

        // Idle connections to the HTTPS console (no handshake): past the budget they are closed at once, so the server
        // keeps descriptors for the mail ports.
        var flood = await FloodAsync(server.Port(443));
        try
        {
            // A POP3 client is answered at once: greeted, or told the server is busy if the console's connections hold
            // the whole budget. Before, the console took every descriptor, and the client waited unanswered.
            using var pop3 = new TcpClient();
            await pop3.ConnectAsync("127.0.0.1", server.Port(110));
            var greeting = await FirstLineAsync(pop3);
            Assert.True(greeting.StartsWith("+OK", StringComparison.Ordinal) || greeting.StartsWith("-ERR [SYS/TEMP]", StringComparison.Ordinal), $"{greeting}\n{server.Log}");
        }
        finally
        {
            flood.ForEach(c => c.Dispose());
        }

        // The console's connections give their places back as they close (a moment after the client's side).
        var after = "";
        for (var attempt = 0; attempt < 50 && !after.StartsWith("+OK", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 200);
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", server.Port(110));
            after = await FirstLineAsync(client);
        }

        Assert.StartsWith("+OK", after, StringComparison.Ordinal);
    }

    /// <summary>400 connections to the port, held open (those the server did not close at once).</summary>
    private static async Task<List<TcpClient>> FloodAsync(int port)
    {
        var flood = new List<TcpClient>();
        for (var i = 0; i < 400; i++)
        {
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync("127.0.0.1", port);
                flood.Add(client);
            }
            catch (SocketException)
            {
                // Closed at once past the budget, before the connect was seen to complete: refused, as it may be.
                client.Dispose();
            }
        }

        return flood;
    }

    private static async Task<string> FirstLineAsync(TcpClient client)
    {
        var buffer = new byte[512];
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var text = new StringBuilder();
        while (!text.ToString().Contains('\n', StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString().Split('\n')[0].TrimEnd('\r');
    }
}
