using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using MailKit.Security;
using MimeKit;
using Postern.IntegrationTests.Infrastructure;
using Postern.Tests;

namespace Postern.IntegrationTests.Store;

/// <summary>
/// Two `postern serve` nodes on one PostgreSQL database, as an organization runs them behind one name: mail taken by
/// one node is read on the other, IDLE on one hears of mail the other delivered, and the POP3 maildrop lock holds across
/// both.
/// </summary>
public sealed class SharedStoreNodesTests : IAsyncLifetime
{
    private const string HostName = "mail.example.test";
    private const string Password = "a-good-password";
    private PosternProcess _first = null!;
    private PosternProcess _second = null!;

    public async Task InitializeAsync()
    {
        _first = await PosternProcess.StartAsync(HostName);

        // The second node shares the store and the key that encrypts the private keys in it (keys/master.key), so it
        // serves the same certificate, users and mail.
        var secondFolder = Path.Combine(Path.GetTempPath(), "postern-it-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(secondFolder, "keys"));
        File.Copy(Path.Combine(_first.DataDirectory, "keys", "master.key"), Path.Combine(secondFolder, "keys", "master.key"));
        _second = await PosternProcess.StartAsync(HostName, secondFolder, storeOf: _first.DataDirectory);
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    [PostgresFact]
    public async Task Mail_taken_by_one_node_is_pushed_to_an_idle_session_on_the_other_and_the_pop3_lock_holds_across_nodes()
    {
        var user = "shared-" + Guid.NewGuid().ToString("N")[..8] + "@" + HostName;
        var added = await _first.CliAsync(Password, "user", "add", user, "--password-stdin");
        Assert.True(added.ExitCode == 0, added.Error);

        // Both nodes serve the organization's one certificate.
        Assert.Equal(_first.Root.Thumbprint, _second.Root.Thumbprint);

        using var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = _second.ChainsToRoot };
        await imap.ConnectAsync("127.0.0.1", _second.Port(993), SecureSocketOptions.SslOnConnect);
        await imap.AuthenticateAsync(user, Password);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal(0, imap.Inbox.Count);

        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var arrived = new TaskCompletionSource();
        imap.Inbox.CountChanged += (_, _) =>
        {
            if (imap.Inbox.Count == 1)
            {
                arrived.TrySetResult();
                done.Cancel();
            }
        };
        var idle = imap.IdleAsync(done.Token);
        await Task.Delay(300);

        await _first.SubmitToSelfAsync(user, Password, "taken by the first node", "read on the second");

        await idle;
        Assert.True(arrived.Task.IsCompleted, "the second node's IDLE session was not told of the new message");
        var read = await imap.Inbox.GetMessageAsync(0);
        Assert.Equal("taken by the first node", read.Subject);
        await imap.DisconnectAsync(true);

        // RFC 1939 §8: while a session on one node holds the maildrop, a logon on the other is refused.
        using var holder = new Pop3Client { CheckCertificateRevocation = false, ServerCertificateValidationCallback = _first.ChainsToRoot };
        await holder.ConnectAsync("127.0.0.1", _first.Port(995), SecureSocketOptions.SslOnConnect);
        await holder.AuthenticateAsync(user, Password);
        Assert.Equal(1, holder.Count);

        var (reader, writer, connection) = await ConnectTlsAsync(_second, 995);
        using (connection)
        {
            Assert.StartsWith("+OK", await reader.ReadLineAsync());
            await writer.WriteLineAsync("USER " + user);
            Assert.StartsWith("+OK", await reader.ReadLineAsync());
            await writer.WriteLineAsync("PASS " + Password);
            Assert.StartsWith("-ERR [IN-USE]", await reader.ReadLineAsync());
        }

        await holder.DisconnectAsync(true);
    }

    [PostgresFact]
    public async Task A_virtual_server_stopped_and_started_through_one_node_stops_and_starts_on_the_other()
    {
        var port = _second.Port(563);
        Assert.True(await AcceptsAsync(port));

        Assert.Equal(0, (await _first.CliAsync(null, "vs", "stop", "Default NNTP Virtual Server")).ExitCode);
        Assert.True(await EventuallyAsync(async () => !await AcceptsAsync(port)), "the second node still listens on 563");

        Assert.Equal(0, (await _first.CliAsync(null, "vs", "start", "Default NNTP Virtual Server")).ExitCode);
        Assert.True(await EventuallyAsync(() => AcceptsAsync(port)), "the second node did not listen on 563 again");
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        try
        {
            await tcp.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            if (await condition())
            {
                return true;
            }
        }

        return false;
    }

    private static async Task<(StreamReader Reader, StreamWriter Writer, IDisposable Connection)> ConnectTlsAsync(PosternProcess node, int standardPort)
    {
        var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync("127.0.0.1", node.Port(standardPort));
        var tls = new SslStream(tcp.GetStream(), false, node.ChainsToRoot);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = HostName, CertificateRevocationCheckMode = X509RevocationMode.NoCheck });
        return (new StreamReader(tls), new StreamWriter(tls) { NewLine = "\r\n", AutoFlush = true }, tcp);
    }

    [PostgresFact]
    public async Task An_article_posted_on_one_node_is_read_on_the_other_and_a_mailbox_made_on_one_is_listed_on_the_other()
    {
        var folder = "Shared" + Guid.NewGuid().ToString("N")[..6];
        var group = "shared." + folder.ToLowerInvariant();
        Assert.Equal(0, (await _first.CliAsync(null, "public-folder", "add", folder, "--newsgroup", group)).ExitCode);
        var user = "news-" + Guid.NewGuid().ToString("N")[..8] + "@" + HostName;
        Assert.Equal(0, (await _first.CliAsync(Password, "user", "add", user, "--password-stdin")).ExitCode);

        using (var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = _first.ChainsToRoot })
        {
            await imap.ConnectAsync("127.0.0.1", _first.Port(993), SecureSocketOptions.SslOnConnect);
            await imap.AuthenticateAsync(user, Password);
            var shared = imap.GetFolder(imap.SharedNamespaces[0]);
            var publicFolder = await shared.GetSubfolderAsync(folder);
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(user));
            message.Subject = "posted on the first node";
            message.Headers.Add("Newsgroups", group);
            message.Body = new TextPart("plain") { Text = "hello" };
            await publicFolder.AppendAsync(message);
            await imap.GetFolder(imap.PersonalNamespaces[0]).CreateAsync("Made on the first node", true);
            await imap.DisconnectAsync(true);
        }

        using (var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = _second.ChainsToRoot })
        {
            await imap.ConnectAsync("127.0.0.1", _second.Port(993), SecureSocketOptions.SslOnConnect);
            await imap.AuthenticateAsync(user, Password);
            Assert.Contains(await imap.GetFolder(imap.PersonalNamespaces[0]).GetSubfoldersAsync(false), f => f.Name == "Made on the first node");
            await imap.DisconnectAsync(true);
        }

        // The article, over NNTP on the second node.
        var (reader, writer, connection) = await ConnectTlsAsync(_second, 563);
        using var closing = connection;
        Assert.StartsWith("20", await reader.ReadLineAsync());
        await writer.WriteLineAsync("AUTHINFO USER " + user);
        Assert.StartsWith("381", await reader.ReadLineAsync());
        await writer.WriteLineAsync("AUTHINFO PASS " + Password);
        Assert.StartsWith("281", await reader.ReadLineAsync());
        await writer.WriteLineAsync("GROUP " + group);
        Assert.StartsWith("211 1 1 1 " + group, await reader.ReadLineAsync());
        await writer.WriteLineAsync("HEAD 1");
        Assert.StartsWith("221 1", await reader.ReadLineAsync());
        var headers = new List<string>();
        for (var line = await reader.ReadLineAsync(); line is not null and not "."; line = await reader.ReadLineAsync())
        {
            headers.Add(line);
        }

        Assert.Contains("Subject: posted on the first node", headers);
    }
}
