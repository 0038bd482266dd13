using System.Globalization;
using System.Security.Cryptography;
using Postern.IntegrationTests.Infrastructure;
using Postern.Tests;

namespace Postern.IntegrationTests.Host;

/// <summary>What `postern serve` says when it cannot start.</summary>
public sealed class ServeStartupTests
{
    [Fact]
    public async Task A_master_key_that_is_not_the_stores_stops_the_start_with_one_line()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test");
        server.Kill();

        // A lost or wrong keys/master.key (a node given its own instead of the first node's copy): the private keys in
        // the store cannot be decrypted, and nothing is overwritten.
        var keyFile = Path.Combine(server.DataDirectory, "keys", "master.key");
        var rightKey = await File.ReadAllBytesAsync(keyFile);
        await File.WriteAllBytesAsync(keyFile, RandomNumberGenerator.GetBytes(32));
        var serve = await PosternProcess.RunAsync("dotnet",
            [PosternProcess.PosternDll, "serve", "--data", server.DataDirectory, "--port-offset", server.PortOffset.ToString(CultureInfo.InvariantCulture),
             "--host-name", "mail.example.test", .. TestStoreOptions.ServeArguments(server.DataDirectory)]);

        Assert.Equal(1, serve.ExitCode);
        var line = Assert.Single(serve.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("postern: ", line, StringComparison.Ordinal);
        Assert.Contains("master key", line, StringComparison.Ordinal);
        Assert.Contains(keyFile, line, StringComparison.Ordinal);

        // With the right key back the server starts as before.
        await File.WriteAllBytesAsync(keyFile, rightKey);
        await using var again = await PosternProcess.StartAsync("mail.example.test", server.DataDirectory, server.PortOffset);
        Assert.Equal(server.Root.Thumbprint, again.Root.Thumbprint);
    }
}
