using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pki;

/// <summary>
/// The expiry watch of `postern serve`: a certificate in use that expires within the warning window is
/// logged and mailed to the postmaster, once (not on every run of the watch, nor again after a restart).
/// </summary>
public sealed class CertificateExpiryWarningTests
{
    private const string Postmaster = "postmaster@mail.example.test";
    private const string Password = "postmaster-password";

    [Fact]
    public async Task CertificateExpiringWithinTheWindowIsMailedToThePostmasterOnce()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test", extraArguments: ["--expiry-check-interval", "1", "--expiry-warning-days", "30"]);
        await server.CliAsync(null, "domain", "add", "mail.example.test");
        var added = await server.CliAsync(Password + "\n", "user", "add", Postmaster, "--password-stdin");
        Assert.True(added.ExitCode == 0, added.Error);

        // Nothing expires soon on a fresh server: the watch has run (every second) without mailing anyone.
        await Task.Delay(2500);
        Assert.Equal(0, await CountMessagesAsync(server));

        var work = Directory.CreateTempSubdirectory("postern-expiry-").FullName;
        var pfx = await SecureChannelCheckTests.ExternallyIssuedPfxAsync(server, work, "soon", "rsa:2048", "mail.example.test", days: 5);
        var imported = await server.CliAsync("pfx-pass\n", "cert", "import", "Default NNTP Virtual Server", "--file", pfx, "--password-stdin", "--friendly-name", "Expiring NNTP");
        Assert.True(imported.ExitCode == 0, imported.Output + imported.Error);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await CountMessagesAsync(server) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        var message = await PosternProcess.RunAsync("curl", Curl(server, "/1"));
        Assert.True(message.ExitCode == 0, message.Error + server.Log);
        Assert.Contains("Subject: Postern: certificates expiring soon", message.Output, StringComparison.Ordinal);
        Assert.Contains("Certificate \"Expiring NNTP\"", message.Output, StringComparison.Ordinal);
        Assert.Contains("expires on", message.Output, StringComparison.Ordinal);
        Assert.Contains("CN=mail.example.test", message.Output, StringComparison.Ordinal);
        Assert.Contains("Expiring NNTP", server.Log, StringComparison.Ordinal);

        // Later runs of the watch log again but do not mail the same warning again, not after a restart either (the
        // warnings sent are kept in the store, where every node sharing it sees them).
        await Task.Delay(3000);
        Assert.Equal(1, await CountMessagesAsync(server));
        server.Kill();
        await using var restarted = await PosternProcess.StartAsync("mail.example.test", server.DataDirectory, server.PortOffset,
            ["--expiry-check-interval", "1", "--expiry-warning-days", "30"]);
        await Task.Delay(3000);
        Assert.Contains("Expiring NNTP", restarted.Log, StringComparison.Ordinal);
        Assert.Equal(1, await CountMessagesAsync(restarted));
    }

    private static async Task<int> CountMessagesAsync(PosternProcess server)
    {
        var list = await PosternProcess.RunAsync("curl", Curl(server, "/"));
        Assert.True(list.ExitCode == 0, list.Error);
        return list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length;
    }

    private static List<string> Curl(PosternProcess server, string path)
    {
        var port = server.Port(995);
        return ["-s", "--max-time", "20", "--cacert", server.RootPemPath, "--resolve", $"mail.example.test:{port}:127.0.0.1", "-u", Postmaster + ":" + Password,
            $"pop3s://mail.example.test:{port}{path}"];
    }
}
