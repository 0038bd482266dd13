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

    [Fact]
    public async Task A_damaged_admin_json_is_one_line_for_the_cli_and_written_again_by_serve()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test");
        server.Kill();

        // Edited by hand, or cut short: the CLI says which file and what is wrong with it, not a JSON stack trace.
        var adminJson = Path.Combine(server.DataDirectory, "admin.json");
        foreach (var damaged in new[] { "{\"url\": \"https://127.0.0.1:1\", \"tok", "{}" })
        {
            await File.WriteAllTextAsync(adminJson, damaged);
            var cli = await PosternProcess.RunAsync("dotnet", [PosternProcess.PosternDll, "vs", "list", "--data", server.DataDirectory]);
            Assert.Equal(1, cli.ExitCode);
            var line = Assert.Single(cli.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("postern: ", line, StringComparison.Ordinal);
            Assert.Contains(adminJson, line, StringComparison.Ordinal);
        }

        // serve writes admin.json at every start anyway: a damaged one is replaced, not a reason to stop.
        await using var again = await PosternProcess.StartAsync("mail.example.test", server.DataDirectory, server.PortOffset);
        var listed = await again.CliAsync(null, "vs", "list");
        Assert.True(listed.ExitCode == 0, listed.Error);
    }

    [Fact]
    public async Task A_virtual_server_a_larger_port_offset_pushes_out_of_range_stays_down_and_the_others_start()
    {
        // Both offsets handed out by the fixture: a fixed "offset + 100" could be another test's server's range.
        int[] offsets = [PosternProcess.FindFreeOffset(), PosternProcess.FindFreeOffset()];
        Array.Sort(offsets);
        await using var server = await PosternProcess.StartAsync("mail.example.test", portOffset: offsets[0]);
        var highest = (65535 - server.PortOffset).ToString(CultureInfo.InvariantCulture);
        var created = await server.CliAsync(null, "vs", "create", "--name", "Highest POP3", "--protocol", "pop3", "--bind", "127.0.0.1:" + highest);
        Assert.True(created.ExitCode == 0, created.Error);
        server.Kill();

        // The same store under a larger offset: that one binding cannot listen; the server still starts, the rest listen.
        await using var again = await PosternProcess.StartAsync("mail.example.test", server.DataDirectory, offsets[1]);
        var shown = await again.CliAsync(null, "vs", "show", "Highest POP3", "--json");
        Assert.True(shown.ExitCode == 0, shown.Error);
        using var json = System.Text.Json.JsonDocument.Parse(shown.Output);
        var binding = json.RootElement.GetProperty("bindings")[0];
        Assert.False(binding.GetProperty("listening").GetBoolean());
        Assert.Contains("out of range", binding.GetProperty("error").GetString(), StringComparison.Ordinal);

        // Later changes still apply.
        var stopped = await again.CliAsync(null, "vs", "stop", "Default POP3 Virtual Server");
        Assert.True(stopped.ExitCode == 0, stopped.Error);
    }
}
