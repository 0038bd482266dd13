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
    public async Task A_second_serve_on_a_data_folder_in_use_is_refused_and_leaves_the_first_manageable()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test");
        var adminJson = await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "admin.json"));

        var second = await PosternProcess.RunAsync("dotnet",
            [PosternProcess.PosternDll, "serve", "--data", server.DataDirectory, "--port-offset", (server.PortOffset + 50).ToString(CultureInfo.InvariantCulture),
             "--host-name", "mail.example.test", .. TestStoreOptions.ServeArguments(server.DataDirectory)]);

        Assert.Equal(1, second.ExitCode);
        var line = Assert.Single(second.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("another 'postern serve' is using the data folder", line, StringComparison.Ordinal);
        Assert.Equal(adminJson, await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "admin.json")));
        var listed = await server.CliAsync(null, "vs", "list");
        Assert.True(listed.ExitCode == 0, listed.Error);
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

    /// <summary>`serve OPTION 0` stops with the option's own complaint.</summary>
    private static async Task AssertServeRefusesZeroAsync(string option)
    {
        var refused = await PosternProcess.RunAsync("dotnet", [PosternProcess.PosternDll, "serve", "--data", Path.Combine(Path.GetTempPath(), "postern-it-" + Guid.NewGuid().ToString("N")),
            "--port-offset", PosternProcess.FindFreeOffset().ToString(CultureInfo.InvariantCulture), option, "0"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(option + " must be at least 1", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_queue_lifetime_given_to_serve_bounces_mail_a_next_hop_never_took_once_it_is_over()
    {
        await AssertServeRefusesZeroAsync("--queue-lifetime");

        // A next hop that refuses every connection (bound, never listening), and a lifetime of one second.
        using var unreachable = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        unreachable.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)unreachable.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
        await using var server = await PosternProcess.StartAsync("mail.example.test", extraArguments: ["--queue-lifetime", "1", "--max-deliveries", "2", "--delivery-timeout", "5"]);
        var route = await server.CliAsync(null, "route", "add", "unreachable.test", "127.0.0.1:" + port);
        Assert.True(route.ExitCode == 0, route.Error);
        var user = await server.AddUserAsync("lifetime", "a-good-password");

        using (var smtp = new MailKit.Net.Smtp.SmtpClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = server.ChainsToRoot })
        {
            await smtp.ConnectAsync("127.0.0.1", server.Port(587), MailKit.Security.SecureSocketOptions.StartTls);
            await smtp.AuthenticateAsync(user, "a-good-password");
            var message = new MimeKit.MimeMessage();
            message.From.Add(MimeKit.MailboxAddress.Parse(user));
            message.To.Add(MimeKit.MailboxAddress.Parse("bob@unreachable.test"));
            message.Subject = "never taken";
            message.Body = new MimeKit.TextPart("plain") { Text = "hello" };
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(true);
        }

        using var imap = new MailKit.Net.Imap.ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = server.ChainsToRoot };
        await imap.ConnectAsync("127.0.0.1", server.Port(993), MailKit.Security.SecureSocketOptions.SslOnConnect);
        await imap.AuthenticateAsync(user, "a-good-password");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = await imap.GetFolderAsync("INBOX");
            await status.StatusAsync(MailKit.StatusItems.Count);
            if (status.Count > 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(250);
        }

        var inbox = imap.Inbox;
        await inbox.OpenAsync(MailKit.FolderAccess.ReadOnly);
        Assert.True(inbox.Count == 1, "no bounce within 60 s of a one-second queue lifetime");
        var bounce = await inbox.GetMessageAsync(0);
        Assert.Equal("Undelivered Mail Returned to Sender", bounce.Subject);
        Assert.Contains("bob@unreachable.test", bounce.TextBody ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_message_memory_given_to_serve_bounds_what_smtp_sessions_hold_together()
    {
        await AssertServeRefusesZeroAsync("--max-message-memory");

        await using var server = await PosternProcess.StartAsync("mail.example.test", extraArguments: ["--max-message-memory", "1"]);
        var user = await server.AddUserAsync("memory", "a-good-password");
        await using var client = await Postern.IntegrationTests.Smtp.RawSmtpClient.ConnectAsync(server.Port(25));
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        foreach (var (octets, reply) in new[] { (2_000_000, "452 4.3.1"), (500_000, "250") })
        {
            Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<x@outside.test>"));
            Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{user}>"));
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            var line = new string('x', 998) + "\r\n";
            await client.WriteAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, octets / 1000)) + ".\r\n");
            Assert.StartsWith(reply, await client.ReadReplyAsync(60_000));
        }
    }
}
