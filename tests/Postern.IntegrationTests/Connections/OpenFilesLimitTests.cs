using System.Globalization;
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
        await using var server = await PosternProcess.StartAsync("mail.example.test");

        // .NET raised the soft limit to the hard one at start; this lowers both before the first connection, where the
        // server sizes its budget (about 100 connections beside the descriptors it has open).
        var limited = await PosternProcess.RunAsync("prlimit", ["--pid", server.ProcessId.ToString(CultureInfo.InvariantCulture), "--nofile=600:600"]);
        Assert.True(limited.ExitCode == 0, limited.Error);

        var flood = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 400; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", server.Port(143));
                flood.Add(client);
            }

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
