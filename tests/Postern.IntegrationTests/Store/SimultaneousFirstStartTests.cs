using System.Security.Cryptography;
using System.Text.Json;
using MailKit.Net.Imap;
using MailKit.Security;
using Postern.IntegrationTests.Infrastructure;
using Postern.Tests;

namespace Postern.IntegrationTests.Store;

/// <summary>
/// Two nodes started at the same moment on one new PostgreSQL database, each with the same master key made
/// beforehand (as an orchestrator hands every node one secret): they lay down one organization and one CA between them.
/// </summary>
public sealed class SimultaneousFirstStartTests
{
    private const string HostName = "mail.example.test";

    [PostgresFact]
    public async Task Nodes_starting_together_on_a_new_database_create_one_organization_and_one_root_ca()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var folders = new[] { NewDataFolder(key), NewDataFolder(key) };
        var starts = folders.Select(folder => PosternProcess.StartAsync(HostName, folder, storeOf: folders[0])).ToList();
        try
        {
            var nodes = await Task.WhenAll(starts);

            Assert.Equal(nodes[0].Root.Thumbprint, nodes[1].Root.Thumbprint);
            foreach (var node in nodes)
            {
                var list = await node.CliAsync(null, "vs", "list", "--json");
                Assert.True(list.ExitCode == 0, list.Error);
                using var servers = JsonDocument.Parse(list.Output);
                var names = servers.RootElement.EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
                Assert.Equal(6, names.Count);
                Assert.Equal(names.Count, names.Distinct().Count());

                // Each node serves a certificate that chains to the one root.
                using var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = node.ChainsToRoot };
                await imap.ConnectAsync("127.0.0.1", node.Port(993), SecureSocketOptions.SslOnConnect);
                await imap.DisconnectAsync(true);
            }
        }
        finally
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }
        }
    }

    private static string NewDataFolder(byte[] masterKey)
    {
        var folder = Path.Combine(Path.GetTempPath(), "postern-it-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "keys"));
        File.WriteAllBytes(Path.Combine(folder, "keys", "master.key"), masterKey);
        return folder;
    }
}
