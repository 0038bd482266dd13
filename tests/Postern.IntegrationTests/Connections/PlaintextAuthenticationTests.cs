using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Connections;

/// <summary>
/// No password crosses an unencrypted connection on the defaults, on any protocol, loopback included; TLS (STARTTLS
/// or implicit) is the way in, and an administrator can allow clear text per virtual server.
/// </summary>
public sealed class PlaintextAuthenticationTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private readonly PosternProcess _server = fixture.Server;

    private sealed class Dialog(TcpClient tcp) : IDisposable
    {
        private Stream _stream = tcp.GetStream();
        private StreamReader _reader = new(tcp.GetStream(), Encoding.ASCII);

        public async Task<string> LineAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await _reader.ReadLineAsync(timeout.Token) ?? throw new IOException("closed");
        }

        /// <summary>Sends a line and reads until a line starts with <paramref name="end"/> (or, for "", one line).</summary>
        public async Task<List<string>> SendAsync(string line, string end = "")
        {
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
            var lines = new List<string>();
            do
            {
                lines.Add(await LineAsync());
            }
            while (end.Length > 0 && !lines[^1].StartsWith(end, StringComparison.Ordinal));
            return lines;
        }

        public async Task StartTlsAsync(string rootPem)
        {
            var policy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
            {
                TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
                RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.Add(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(rootPem)));
            var ssl = new SslStream(_stream, false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mail.example.test", CertificateChainPolicy = policy });
            _stream = ssl;
            _reader = new StreamReader(ssl, Encoding.ASCII);
        }

        public void Dispose()
        {
            _reader.Dispose();
            tcp.Dispose();
        }
    }

    private async Task<Dialog> ConnectAsync(int standardPort)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _server.Port(standardPort));
        return new Dialog(tcp);
    }

    [Fact]
    public async Task Imap_refuses_login_in_clear_and_takes_it_after_starttls()
    {
        var user = await _server.AddUserAsync("clear-imap", "a-good-password");
        using var imap = await ConnectAsync(143);
        Assert.Contains("LOGINDISABLED", await imap.LineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("a1 NO [PRIVACYREQUIRED]", (await imap.SendAsync($"a1 LOGIN {user} a-good-password", "a1 "))[^1], StringComparison.Ordinal);
        Assert.StartsWith("a2 NO [PRIVACYREQUIRED]", (await imap.SendAsync("a2 AUTHENTICATE PLAIN", "a2 "))[^1], StringComparison.Ordinal);
        Assert.StartsWith("a3 OK", (await imap.SendAsync("a3 STARTTLS", "a3 "))[^1], StringComparison.Ordinal);
        await imap.StartTlsAsync(await _server.ExportRootAsync());
        Assert.StartsWith("a4 OK", (await imap.SendAsync($"a4 LOGIN {user} a-good-password", "a4 "))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pop3_smtp_and_nntp_take_no_credentials_in_clear()
    {
        // Valid credentials, so a refusal cannot be mistaken for a failed logon.
        var user = await _server.AddUserAsync("clear-other", "a-good-password");
        var plain = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{user}\0a-good-password"));
        using (var pop3 = await ConnectAsync(110))
        {
            await pop3.LineAsync();
            var capa = await pop3.SendAsync("CAPA", ".");
            Assert.Contains("STLS", capa);
            Assert.DoesNotContain("USER", capa);
            Assert.StartsWith("-ERR", (await pop3.SendAsync("USER " + user))[0], StringComparison.Ordinal);
            Assert.StartsWith("-ERR", (await pop3.SendAsync("AUTH PLAIN " + plain))[0], StringComparison.Ordinal);
        }

        foreach (var port in new[] { 25, 587 })
        {
            using var smtp = await ConnectAsync(port);
            await smtp.LineAsync();
            var ehlo = await smtp.SendAsync("EHLO client.test", "250 ");
            Assert.DoesNotContain(ehlo, l => l.Contains("AUTH", StringComparison.Ordinal));
            Assert.StartsWith("530 5.7.0", (await smtp.SendAsync("AUTH PLAIN " + plain))[0], StringComparison.Ordinal);
        }

        using var nntp = await ConnectAsync(119);
        await nntp.LineAsync();
        Assert.StartsWith("483", (await nntp.SendAsync("AUTHINFO USER " + user))[0], StringComparison.Ordinal);
        Assert.StartsWith("483", (await nntp.SendAsync("AUTHINFO SASL PLAIN " + plain))[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_administrator_can_allow_clear_text_logon_per_virtual_server()
    {
        var user = await _server.AddUserAsync("clear-pop3", "a-good-password");
        const string Pop3 = "Default POP3 Virtual Server";
        var set = await _server.CliAsync(null, "vs", "set", Pop3, "--allow-plaintext-auth", "on");
        Assert.True(set.ExitCode == 0, set.Error);
        try
        {
            using var pop3 = await ConnectAsync(110);
            await pop3.LineAsync();
            Assert.StartsWith("+OK", (await pop3.SendAsync("USER " + user))[0], StringComparison.Ordinal);
            Assert.StartsWith("+OK", (await pop3.SendAsync("PASS a-good-password"))[0], StringComparison.Ordinal);

            // `postern check` knows the difference: clear text allowed here is not a problem, refused elsewhere is expected.
            var check = await _server.CliAsync(null, "check", "Default IMAP4 Virtual Server", "--json");
            Assert.True(check.ExitCode == 0, check.Output + check.Error);
        }
        finally
        {
            await _server.CliAsync(null, "vs", "set", Pop3, "--allow-plaintext-auth", "off");
        }
    }
}
