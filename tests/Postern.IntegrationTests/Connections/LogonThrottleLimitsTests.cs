using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Connections;

/// <summary>The failed-logon throttle's limits set with `postern serve --auth-limit NAME=VALUE`.</summary>
public sealed class LogonThrottleLimitsTests
{
    [Fact]
    public async Task AHardStopGivenAtServeRefusesTheAddressAfterThatManyFailures()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test", extraArguments: ["--auth-limit", "max-failures=2", "max-delay-ms=0"]);
        var added = await server.CliAsync("right-password-1\n", "user", "add", "frank@example.test", "--password-stdin");
        Assert.True(added.ExitCode == 0, added.Error);

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port(995));
        await using var tls = new SslStream(client.GetStream(), false, (sender, certificate, chain, errors) => server.ChainsToRoot(sender, certificate, chain, errors));
        await tls.AuthenticateAsClientAsync("mail.example.test");
        using var reader = new StreamReader(tls, Encoding.ASCII, false, 1024, leaveOpen: true);
        async Task<string> CommandAsync(string line)
        {
            await tls.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
            return await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) ?? "";
        }

        Assert.StartsWith("+OK", await reader.ReadLineAsync());
        for (var i = 0; i < 2; i++)
        {
            Assert.StartsWith("+OK", await CommandAsync("USER frank@example.test"));
            Assert.StartsWith("-ERR [AUTH]", await CommandAsync("PASS wrong-password"));
        }

        // The third attempt, right password or not, is refused without being checked (default: after 20).
        Assert.StartsWith("+OK", await CommandAsync("USER frank@example.test"));
        Assert.StartsWith("-ERR [SYS/TEMP]", await CommandAsync("PASS right-password-1"));
    }
}
