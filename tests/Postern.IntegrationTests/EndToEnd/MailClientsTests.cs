using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using MailKit.Net.Smtp;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.EndToEnd;

/// <summary>
/// The README's walk-through against the real `postern serve` process: a user added with the CLI, the root exported
/// with `postern ca export`, and ordinary mail clients (swaks, curl, openssl, mbsync, mutt, MailKit) that trust only that root
/// and check the server's name, mail.example.test.
/// </summary>
public sealed class MailClientsTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string HostName = "mail.example.test";
    private const string Password = "a-good-password";
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task SwaksSubmitsOn587And465AndCurlReadsBackOverImapAndPop3()
    {
        var user = await AddUserAsync("swaks");
        var ca = await ExportRootAsync();

        // 587: STARTTLS then AUTH; 465: implicit TLS (RFC 8314). swaks verifies the chain against ca.pem only.
        var starttls = await SwaksAsync(ca, user, "Subject: e2e via 587", "--port", Port(587), "--tls");
        Assert.True(starttls.ExitCode == 0, starttls.Output + starttls.Error);
        var implicitTls = await SwaksAsync(ca, user, "Subject: e2e via 465", "--port", Port(465), "--tlsc");
        Assert.True(implicitTls.ExitCode == 0, implicitTls.Output + implicitTls.Error);

        var search = await CurlAsync(ca, user, $"imaps://{HostName}:{Port(993)}/INBOX?ALL");
        Assert.True(search.ExitCode == 0, search.Error);
        Assert.Contains("SEARCH 1 2", search.Output, StringComparison.Ordinal);

        var imaps = await CurlAsync(ca, user, $"imaps://{HostName}:{Port(993)}/INBOX;UID=1");
        Assert.True(imaps.ExitCode == 0, imaps.Error);
        Assert.Contains("Subject: e2e via 587", imaps.Output, StringComparison.Ordinal);
        var imapStartTls = await CurlAsync(ca, user, $"imap://{HostName}:{Port(143)}/INBOX;UID=2", "--ssl-reqd");
        Assert.True(imapStartTls.ExitCode == 0, imapStartTls.Error);
        Assert.Contains("Subject: e2e via 465", imapStartTls.Output, StringComparison.Ordinal);

        var pop3s = await CurlPop3Async(ca, user, $"pop3s://{HostName}:{Port(995)}/1");
        Assert.Contains("Subject: e2e via 587", pop3s, StringComparison.Ordinal);
        var pop3StartTls = await CurlPop3Async(ca, user, $"pop3://{HostName}:{Port(110)}/2", "--ssl-reqd");
        Assert.Contains("Subject: e2e via 465", pop3StartTls, StringComparison.Ordinal);

        // Trusting nothing but the system roots, curl refuses the server: the trust really comes from ca.pem.
        var untrusted = await PosternProcess.RunAsync("curl", ["-sS", "--max-time", "30", "--resolve", $"{HostName}:{Port(993)}:127.0.0.1", $"imaps://{HostName}:{Port(993)}/INBOX?ALL", "-u", $"{user}:{Password}"]);
        Assert.Equal(60, untrusted.ExitCode);
    }

    [Fact]
    public async Task MailKitSubmitsAndReadsWithImapAndPop3TrustingOnlyTheExportedRoot()
    {
        var user = await AddUserAsync("mailkit");
        var ca = await ExportRootAsync();
        var root = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(ca));
        bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
            (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0 && ChainsTo(certificate, root);

        using (var smtp = new SmtpClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = Validate })
        {
            await smtp.ConnectAsync(await ConnectAsync(587), HostName, _server.Port(587), SecureSocketOptions.StartTls);
            await smtp.AuthenticateAsync(user, Password);
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(user));
            message.To.Add(MailboxAddress.Parse(user));
            message.Subject = "e2e via MailKit";
            message.Body = new TextPart("plain") { Text = "Sent and read back by MailKit." };
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(true);
        }

        foreach (var (port, options) in new[] { (993, SecureSocketOptions.SslOnConnect), (143, SecureSocketOptions.StartTls) })
        {
            using var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = Validate };
            await imap.ConnectAsync(await ConnectAsync(port), HostName, _server.Port(port), options);
            Assert.True(imap.IsSecure);
            await imap.AuthenticateAsync(user, Password);
            await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
            var uids = await imap.Inbox.SearchAsync(SearchQuery.SubjectContains("e2e via MailKit"));
            var read = await imap.Inbox.GetMessageAsync(Assert.Single(uids));
            Assert.Equal("Sent and read back by MailKit.", read.TextBody?.Trim());
            await imap.DisconnectAsync(true);
        }

        foreach (var (port, options) in new[] { (995, SecureSocketOptions.SslOnConnect), (110, SecureSocketOptions.StartTls) })
        {
            using var pop3 = new Pop3Client { CheckCertificateRevocation = false, ServerCertificateValidationCallback = Validate };
            await pop3.ConnectAsync(await ConnectAsync(port), HostName, _server.Port(port), options);
            await pop3.AuthenticateAsync(user, Password);
            Assert.Equal(1, pop3.Count);
            var read = await pop3.GetMessageAsync(0);
            Assert.Equal("e2e via MailKit", read.Subject);
            await pop3.DisconnectAsync(true);
        }
    }

    [Theory]
    [InlineData(25, "smtp")]
    [InlineData(587, "smtp")]
    [InlineData(143, "imap")]
    [InlineData(110, "pop3")]
    public async Task OpensslVerifiesTheChainAndNameOnEveryStartTlsPort(int standardPort, string protocol)
    {
        var ca = await ExportRootAsync();
        var result = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{Port(standardPort)}", "-starttls", protocol, "-servername", HostName, "-verify_return_error", "-verify_hostname", HostName, "-CAfile", ca], "");
        Assert.True(result.Output.Contains("Verify return code: 0 (ok)", StringComparison.Ordinal), result.Output + result.Error);

        // The same command with another name fails: the name check is real.
        var wrongName = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{Port(standardPort)}", "-starttls", protocol, "-servername", HostName, "-verify_return_error", "-verify_hostname", "other.example.test", "-CAfile", ca], "");
        Assert.DoesNotContain("Verify return code: 0 (ok)", wrongName.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmissionRefusesPlaintextAuthBeforeStartTls()
    {
        var user = await AddUserAsync("plain");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _server.Port(587));
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        Assert.StartsWith("220", await ReadReplyAsync(reader), StringComparison.Ordinal);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("EHLO client.test\r\n"));
        var ehlo = await ReadReplyAsync(reader);
        Assert.Contains("STARTTLS", ehlo, StringComparison.Ordinal);

        // RFC 4954 §4 / RFC 3207 §4: credentials are refused in clear; 530 "Must issue a STARTTLS command first".
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{Password}"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH PLAIN {credentials}\r\n"));
        Assert.StartsWith("530", await ReadReplyAsync(reader), StringComparison.Ordinal);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("MAIL FROM:<" + user + ">\r\n"));
        Assert.StartsWith("530", await ReadReplyAsync(reader), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MbsyncSyncsTheInboxIntoAMaildir()
    {
        // mbsync has no --resolve and checks the certificate against its Host: a server named localhost.
        var user = "mbsync@example.test";
        var (server, ca) = await StartLocalhostAsync(user);
        await using var _ = server;
        var sent = await PosternProcess.RunAsync("swaks", [
            "--server", "127.0.0.1", "--port", server.Port(465).ToString(CultureInfo.InvariantCulture), "--tlsc", "--tls-verify", "--tls-ca-path", ca,
            "--auth", "PLAIN", "--auth-user", user, "--auth-password", Password, "--from", user, "--to", user, "--header", "Subject: e2e via mbsync",
        ]);
        Assert.True(sent.ExitCode == 0, sent.Output + sent.Error);

        var maildir = Path.Combine(server.DataDirectory, "mbsync-maildir") + "/";
        Directory.CreateDirectory(maildir);
        var config = Path.Combine(server.DataDirectory, "mbsyncrc");
        await File.WriteAllTextAsync(config, $"""
            IMAPAccount postern
            Host localhost
            Port {server.Port(993)}
            User {user}
            Pass {Password}
            SSLType IMAPS
            CertificateFile {ca}

            IMAPStore postern-remote
            Account postern

            MaildirStore postern-local
            Path {maildir}
            Inbox {maildir}INBOX

            Channel postern
            Far :postern-remote:
            Near :postern-local:
            Patterns INBOX
            Create Near
            SyncState *

            """);

        var sync = await PosternProcess.RunAsync("mbsync", ["-c", config, "postern"]);
        Assert.True(sync.ExitCode == 0, sync.Output + sync.Error);
        var files = Directory.GetFiles(Path.Combine(maildir, "INBOX"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) is "cur" or "new").ToList();
        var file = Assert.Single(files);
        Assert.Contains("Subject: e2e via mbsync", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MuttSendsOverStartTlsKeepsACopyInSentFilesMailOverImapsAndDeletesOverPop3s()
    {
        // mutt checks the certificate's name against the host it connects to: a server named localhost.
        var user = "mutt@example.test";
        var (server, ca) = await StartLocalhostAsync(user);
        await using var _ = server;

        // ssl_force_tls: mutt gives up rather than send the password in clear; the only trusted root is ca.pem.
        var login = Uri.EscapeDataString(user);
        var rc = Path.Combine(server.DataDirectory, "muttrc");
        await File.WriteAllTextAsync(rc, $"""
            set from = "{user}"
            set smtp_url = "smtp://{login}@localhost:{server.Port(587)}/"
            set smtp_pass = "{Password}"
            set folder = "imaps://{login}@localhost:{server.Port(993)}/"
            set imap_pass = "{Password}"
            set spoolfile = "+INBOX"
            set record = "+Sent"
            set copy = yes
            set ssl_starttls = yes
            set ssl_force_tls = yes
            set ssl_ca_certificates_file = "{ca}"
            set certificate_file = "{Path.Combine(server.DataDirectory, "mutt-certificates")}"
            set header_cache = ""
            set pop_pass = "{Password}"
            set confirmappend = no
            set delete = yes
            set quit = yes

            """);

        // Batch mode (no terminal): SMTP submission on 587 with STARTTLS, then the copy APPENDed to Sent over IMAPS.
        var sent = await PosternProcess.RunAsync("mutt", ["-n", "-F", rc, "-s", "e2e via mutt", user], "Written in mutt.\n");
        Assert.True(sent.ExitCode == 0, sent.Output + sent.Error);

        // On a terminal, as a user reads: open the INBOX, copy the new message to Archive, quit.
        var keys = "<tag-pattern>~A<enter><tag-prefix><copy-message>=Archive<enter><quit>";
        var session = await PosternProcess.RunAsync("env", ["TERM=xterm", "script", "-qec", $"mutt -n -F {rc} -e 'push \"{keys}\"'", "/dev/null"]);
        Assert.True(session.ExitCode == 0, session.Output + session.Error);

        using var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = server.ChainsToRoot };
        await imap.ConnectAsync("127.0.0.1", server.Port(993), SecureSocketOptions.SslOnConnect);
        await imap.AuthenticateAsync(user, Password);
        async Task<int> CountAsync(string name, bool check)
        {
            var folder = await imap.GetFolderAsync(name);
            await folder.OpenAsync(FolderAccess.ReadOnly);
            if (check && folder.Count > 0)
            {
                var message = await folder.GetMessageAsync(0);
                Assert.Equal("e2e via mutt", message.Subject);
                Assert.Contains("Written in mutt.", message.TextBody, StringComparison.Ordinal);
            }

            var count = folder.Count;
            await folder.CloseAsync();
            return count;
        }

        int[] counts = [await CountAsync("INBOX", true), await CountAsync("Sent", true), await CountAsync("Archive", true)];
        Assert.Equal([1, 1, 1], counts);

        // The same INBOX over POP3S (pops://): mutt reads the maildrop, deletes the message and quits (DELE, QUIT).
        var pop = await PosternProcess.RunAsync("env", ["TERM=xterm", "script", "-qec",
            $"mutt -n -F {rc} -f pops://{login}@localhost:{server.Port(995)}/ -e 'push \"<delete-message><quit>\"'", "/dev/null"]);
        Assert.True(pop.ExitCode == 0, pop.Output + pop.Error);
        counts = [await CountAsync("INBOX", false), await CountAsync("Sent", false), await CountAsync("Archive", false)];
        Assert.Equal([0, 1, 1], counts);
    }

    [Fact]
    public async Task RouteAddKeepsThePasswordOutOfEveryFileInTheDataFolder()
    {
        var secret = "relay-secret-" + Guid.NewGuid().ToString("N");
        var added = await _server.CliAsync(secret + "\n", "route", "add", "relay-" + Guid.NewGuid().ToString("N")[..8] + ".example.test", "127.0.0.1:2525", "--user", "relay-user", "--password-stdin");
        Assert.True(added.ExitCode == 0, added.Error);
        Assert.DoesNotContain(secret, added.Output, StringComparison.Ordinal);

        // The database, its WAL and everything beside it: the password is only there sealed (smtp_routes.password_sealed).
        var needle = Encoding.UTF8.GetBytes(secret);
        foreach (var file in Directory.GetFiles(_server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(file);
            }
            catch (IOException)
            {
                continue;
            }

            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{file} holds the route password in clear");
        }
    }

    private string Port(int standardPort) => _server.Port(standardPort).ToString(CultureInfo.InvariantCulture);

    private Task<string> AddUserAsync(string name) => _server.AddUserAsync(name, Password);

    private Task<string> ExportRootAsync() => _server.ExportRootAsync();

    /// <summary>A server of its own named localhost, for clients that check the name and cannot be told another address.</summary>
    private static async Task<(PosternProcess Server, string RootPem)> StartLocalhostAsync(string user)
    {
        var server = await PosternProcess.StartAsync("localhost");
        try
        {
            var added = await server.CliAsync(Password + "\n", "user", "add", user, "--password-stdin");
            Assert.True(added.ExitCode == 0, added.Error);
            var ca = Path.Combine(server.DataDirectory, "ca.pem");
            var export = await server.CliAsync(null, "ca", "export", "--out", ca);
            Assert.True(export.ExitCode == 0, export.Error);
            return (server, ca);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private Task<(int ExitCode, string Output, string Error)> SwaksAsync(string ca, string user, string subject, params string[] transport) =>
        PosternProcess.RunAsync("swaks", [
            "--server", "127.0.0.1", .. transport, "--tls-verify", "--tls-ca-path", ca, "--tls-sni", HostName,
            "--auth", "PLAIN", "--auth-user", user, "--auth-password", Password,
            "--from", user, "--to", user, "--header", subject, "--body", "end to end",
        ]);

    private Task<(int ExitCode, string Output, string Error)> CurlAsync(string ca, string user, string url, params string[] extra)
    {
        var port = new Uri(url).Port;
        return PosternProcess.RunAsync("curl", ["-sS", "--max-time", "30", "--cacert", ca, "--resolve", $"{HostName}:{port}:127.0.0.1", .. extra, url, "-u", $"{user}:{Password}"]);
    }

    /// <summary>POP3 locks the maildrop per session (RFC 1939 §8); the previous session's lock may still be releasing.</summary>
    private async Task<string> CurlPop3Async(string ca, string user, string url, params string[] extra)
    {
        for (var attempt = 0; ; attempt++)
        {
            var result = await CurlAsync(ca, user, url, extra);
            if (result.ExitCode == 0 || attempt == 10)
            {
                Assert.True(result.ExitCode == 0, result.Error);
                return result.Output;
            }

            await Task.Delay(200);
        }
    }

    private static async Task<Socket> ConnectAsync(int standardPort, PosternProcess server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port(standardPort));
        return socket;
    }

    private Task<Socket> ConnectAsync(int standardPort) => ConnectAsync(standardPort, _server);

    private static bool ChainsTo(X509Certificate? certificate, X509Certificate2 root) => TestCertificates.ChainsTo(certificate, root);

    private static async Task<string> ReadReplyAsync(StreamReader reader)
    {
        var reply = new StringBuilder();
        while (true)
        {
            var line = await reader.ReadLineAsync() ?? throw new EndOfStreamException();
            reply.Append(line).Append('\n');
            if (line.Length < 4 || line[3] != '-')
            {
                return reply.ToString();
            }
        }
    }
}
