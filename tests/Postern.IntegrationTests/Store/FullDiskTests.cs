using System.Net.Sockets;
using System.Text;
using MailKit.Net.Smtp;
using MimeKit;
using Postern.IntegrationTests.Infrastructure;
using Postern.IntegrationTests.Nntp;
using Postern.IntegrationTests.Smtp;
using Postern.Server.Imap;
using Postern.Server.Nntp;
using Postern.Server.Pop3;
using Postern.Server.Smtp;
using Postern.Store;

namespace Postern.IntegrationTests.Store;

/// <summary>
/// A full disk: nothing new is taken (each protocol says why in its own terms, as a temporary failure, so senders and
/// peers try again), nothing acknowledged is lost, and the mail already there can still be read.
/// </summary>
public sealed class FullDiskTests
{
    private const string User = "alice@example.test";
    private const string Password = "correct horse";

    private static async Task<(InProcessServer Server, FullDiskStore Store)> StartAsync(IReadOnlyDictionary<string, string>? smtpSettings = null)
    {
        FullDiskStore? wrapped = null;
        var mail = new SecurityOptions { AllowPlaintextAuthentication = true };
        var server = await InProcessServer.StartAsync(
            context => [new SmtpProtocolHandler("mail.example.test"), new ImapProtocolHandler(context), new Pop3ProtocolHandler(context), new NntpProtocolHandler(context)],
            [
                SmtpTestServer.InboundServer(settings: smtpSettings),
                new VirtualServer { Name = "IMAP", Protocol = ServiceProtocol.Imap, Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls)], Security = mail },
                new VirtualServer { Name = "POP3", Protocol = ServiceProtocol.Pop3, Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls)], Security = mail },
                NntpTestServer.Config(),
            ],
            wrapStore: inner => wrapped = new FullDiskStore(inner));
        await server.Store.Directory.AddDomainAsync("example.test", CancellationToken.None);
        Assert.True((await server.Store.Directory.AddAccountAsync(User, Password, CancellationToken.None)).IsOk);
        Assert.True((await server.Store.Directory.AddAccountAsync(NntpTestServer.User, NntpTestServer.Password, CancellationToken.None)).IsOk);
        Assert.True((await server.Store.PublicFolders.AddFolderAsync("Example/General", "example.general", "General discussion", CancellationToken.None)).IsOk);
        return (server, wrapped!);
    }

    /// <summary>One message in Alice's INBOX, stored while there is room; returns the INBOX.</summary>
    private static async Task<Mailbox> AppendToInboxAsync(InProcessServer server)
    {
        var account = (await server.Store.Directory.FindAccountAsync(User, CancellationToken.None))!;
        var inbox = (await server.Store.Mail.GetMailboxAsync(account.Id, "INBOX", CancellationToken.None))!;
        var message = new NewMessage("Subject: Kept\r\n\r\nStill readable.\r\n"u8.ToArray(), MessageFlags.None, [], DateTimeOffset.UtcNow);
        Assert.True((await server.Store.Mail.AppendAllAsync(inbox.Id, [message], CancellationToken.None)).IsOk);
        return inbox;
    }

    private static MimeMessage Message(string subject) => new(
        [new MailboxAddress("Bob", "bob@example.org")], [new MailboxAddress("Alice", User)], subject, new TextPart("plain") { Text = "Hello Alice." });

    [Fact]
    public async Task Smtp_says_452_insufficient_storage_and_the_message_arrives_when_retried()
    {
        var (server, store) = await StartAsync();
        await using var _ = server;
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", server.PortOf(SmtpTestServer.Inbound, BindingMode.StartTls), MailKit.Security.SecureSocketOptions.None);

        store.IsFull = true;
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(Message("Full")));
        Assert.Equal(SmtpStatusCode.InsufficientStorage, refused.StatusCode);
        Assert.Contains("4.3.1", refused.Message, StringComparison.Ordinal);

        // The sender tries again once there is room: the message is taken, once.
        store.IsFull = false;
        await smtp.SendAsync(Message("Full"));
        var inbox = await server.Store.Mail.GetMailboxAsync((await server.Store.Directory.FindAccountAsync(User, CancellationToken.None))!.Id, "INBOX", CancellationToken.None);
        Assert.Single(await server.Store.Mail.ListMessagesAsync(inbox!.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Smtp_refuses_mail_at_MAIL_FROM_when_the_disk_is_short_of_the_free_space_it_keeps()
    {
        // smtp.min-free-mb (Postfix's queue_minfree) larger than any disk: the embedded store's disk is always too full.
        var (server, _) = await StartAsync(new Dictionary<string, string> { [SmtpSettings.MinFreeMegabytesKey] = "1000000000" });
        await using var _ = server;
        using var client = await LineClient.ConnectAsync(server.PortOf(SmtpTestServer.Inbound, BindingMode.StartTls));
        Assert.StartsWith("220", await client.ReadLineAsync(), StringComparison.Ordinal);
        await client.SendAsync("EHLO client.example.org\r\n");
        while ((await client.ReadLineAsync()).StartsWith("250-", StringComparison.Ordinal))
        {
        }

        await client.SendAsync("MAIL FROM:<bob@example.org> SIZE=1000\r\n");
        var reply = await client.ReadLineAsync();
        if (server.Store.Options.Engine == "sqlite")
        {
            Assert.Equal("452 4.3.1 Insufficient system storage", reply);
        }
        else
        {
            // PostgreSQL's disk is the database server's, which Postern cannot measure: only a refused write tells.
            Assert.Equal("250 2.1.0 Ok", reply);
        }
    }

    [Fact]
    public async Task Imap_still_selects_and_reads_and_says_overquota_for_what_needs_room()
    {
        var (server, store) = await StartAsync();
        await using var _ = server;
        await AppendToInboxAsync(server);

        store.IsFull = true;
        using var client = await LineClient.ConnectAsync(server.PortOf("IMAP", BindingMode.StartTls));
        await client.ReadLineAsync();
        await client.SendAsync($"a1 LOGIN {User} \"{Password}\"\r\n");
        Assert.StartsWith("a1 OK", (await client.ReadUntilAsync("a1 "))[^1], StringComparison.Ordinal);

        // SELECT claims \Recent, a write: the mailbox opens all the same.
        await client.SendAsync("a2 SELECT INBOX\r\n");
        var selected = await client.ReadUntilAsync("a2 ");
        Assert.Contains("* 1 EXISTS", selected);
        Assert.StartsWith("a2 OK", selected[^1], StringComparison.Ordinal);

        // BODY[] sets \Seen, another write: the body still comes, without the flag.
        await client.SendAsync("a3 FETCH 1 (BODY[TEXT])\r\n");
        var fetched = await client.ReadUntilAsync("a3 ");
        Assert.Contains("Still readable.", fetched);
        Assert.StartsWith("a3 OK", fetched[^1], StringComparison.Ordinal);

        // What cannot be done without room is refused as Dovecot refuses it on ENOSPC.
        await client.SendAsync("a4 STORE 1 +FLAGS (\\Flagged)\r\n");
        Assert.Equal("a4 NO [OVERQUOTA] Not enough disk space", (await client.ReadUntilAsync("a4 "))[^1]);
        await client.SendAsync("a5 APPEND INBOX {14+}\r\nSubject: x\r\n\r\n\r\n");
        Assert.Equal("a5 NO [OVERQUOTA] Not enough disk space", (await client.ReadUntilAsync("a5 "))[^1]);

        store.IsFull = false;
        await client.SendAsync("a6 FETCH 1 (FLAGS)\r\n");
        var flags = await client.ReadUntilAsync("a6 ");
        Assert.DoesNotContain(flags, l => l.Contains("\\Seen", StringComparison.Ordinal) || l.Contains("\\Flagged", StringComparison.Ordinal));
        await client.SendAsync("a7 STORE 1 +FLAGS (\\Flagged)\r\n");
        Assert.StartsWith("a7 OK", (await client.ReadUntilAsync("a7 "))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pop3_still_opens_the_maildrop_and_keeps_the_messages_it_could_not_delete()
    {
        var (server, store) = await StartAsync();
        await using var _ = server;
        var inbox = await AppendToInboxAsync(server);

        store.IsFull = true;
        using (var client = await LineClient.ConnectAsync(server.PortOf("POP3", BindingMode.StartTls)))
        {
            Assert.StartsWith("+OK", await client.ReadLineAsync(), StringComparison.Ordinal);
            await client.SendAsync($"USER {User}\r\n");
            Assert.StartsWith("+OK", await client.ReadLineAsync(), StringComparison.Ordinal);

            // The lock row cannot be written: the lock is held in this process only.
            await client.SendAsync($"PASS {Password}\r\n");
            Assert.StartsWith("+OK", await client.ReadLineAsync(), StringComparison.Ordinal);
            await client.SendAsync("RETR 1\r\n");
            Assert.Contains("Still readable.", await client.ReadUntilAsync("."));
            await client.SendAsync("DELE 1\r\n");
            Assert.StartsWith("+OK", await client.ReadLineAsync(), StringComparison.Ordinal);

            // RFC 1939 §6: the UPDATE state could not remove it, and says so.
            await client.SendAsync("QUIT\r\n");
            Assert.Equal("-ERR [SYS/TEMP] Some deleted messages not removed", await client.ReadLineAsync());
        }

        Assert.Single(await server.Store.Mail.ListMessagesAsync(inbox.Id, CancellationToken.None));

        // The lock went with the session: the next one gets the maildrop.
        store.IsFull = false;
        using var again = await LineClient.ConnectAsync(server.PortOf("POP3", BindingMode.StartTls));
        await again.ReadLineAsync();
        await again.SendAsync($"USER {User}\r\nPASS {Password}\r\n");
        await again.ReadLineAsync();
        Assert.StartsWith("+OK", await again.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nntp_refuses_a_post_for_now_and_asks_a_streaming_peer_to_offer_the_article_again()
    {
        var (server, store) = await StartAsync();
        await using var _ = server;
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));

        store.IsFull = true;
        Assert.StartsWith("340", await client.CommandAsync("POST"));
        Assert.Equal("441 Not enough disk space; try again later", await client.SendArticleAsync(NntpTestServer.Article("Full")));

        // RFC 4644 §2.5: 439 means "do not retry", which would lose the article; a store failure is 403, retried later.
        Assert.StartsWith("203", await client.CommandAsync("MODE STREAM"));
        const string article = "Path: news.peer.test!not-for-mail\nFrom: Peer <peer@peer.test>\nNewsgroups: example.general\nSubject: Relayed\n" +
            "Date: Fri, 27 Nov 2026 10:00:00 +0000\nMessage-ID: <full@peer.test>\n\nRelayed body.\n";
        Assert.Equal("403 Not enough disk space; try again later", await client.SendArticleAsync("TAKETHIS <full@peer.test>\r\n" + article));

        // Not remembered as refused: offered again once there is room, it is taken.
        store.IsFull = false;
        Assert.Equal("238 <full@peer.test>", await client.CommandAsync("CHECK <full@peer.test>"));
        Assert.Equal("239 <full@peer.test>", await client.SendArticleAsync("TAKETHIS <full@peer.test>\r\n" + article));
    }

    [Fact]
    public void Storage_full_is_recognised_from_either_engine_and_from_the_file_system()
    {
        Assert.True(StorageFull.Is(new Microsoft.Data.Sqlite.SqliteException("full", 13)));
        Assert.True(StorageFull.Is(new InvalidOperationException("wrapped", new Npgsql.PostgresException("could not extend file", "ERROR", "ERROR", "53100"))));
        Assert.True(StorageFull.Is(new IOException("No space left on device", 28)));
        Assert.False(StorageFull.Is(new Microsoft.Data.Sqlite.SqliteException("busy", 5)));
        Assert.False(StorageFull.Is(new Npgsql.PostgresException("unique", "ERROR", "ERROR", "23505")));
        Assert.False(StorageFull.Is(new IOException("Broken pipe", 32)));
        Assert.False(StorageFull.Is(null));
    }

    /// <summary>A clear-text line client for transcripts of several protocols.</summary>
    private sealed class LineClient : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly StreamReader _reader;
        private readonly Stream _stream;

        private LineClient(TcpClient tcp)
        {
            _tcp = tcp;
            _stream = tcp.GetStream();
            _reader = new StreamReader(_stream, Encoding.UTF8);
        }

        public static async Task<LineClient> ConnectAsync(int port)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", port);
            return new LineClient(tcp);
        }

        public async Task SendAsync(string text) => await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));

        public async Task<string> ReadLineAsync() =>
            await _reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) ?? throw new IOException("connection closed");

        /// <summary>Lines up to and including the first that starts with <paramref name="prefix"/> (a tag, or "." for a POP3 body's end).</summary>
        public async Task<List<string>> ReadUntilAsync(string prefix)
        {
            var lines = new List<string>();
            string line;
            do
            {
                line = await ReadLineAsync();
                lines.Add(line);
            }
            while (!(prefix == "." ? line == "." : line.StartsWith(prefix, StringComparison.Ordinal)));
            return lines;
        }

        public void Dispose()
        {
            _reader.Dispose();
            _tcp.Dispose();
        }
    }
}
