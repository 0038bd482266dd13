using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using Postern.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Postern.IntegrationTests.Smtp;

/// <summary>
/// RFC 5321 §4.1.1.4 / §6.1: once the server answers 250 to the end of DATA it has taken responsibility for the
/// message. The real `postern serve` process is SIGKILLed in the middle of a pipelined load; after a restart on the
/// same data folder every acknowledged message must be in the mailbox exactly once.
/// </summary>
public sealed class DurabilityTests(ITestOutputHelper output)
{
    private const string User = "durable@example.test";
    private const string Password = "durable-pass-1";
    private const int Connections = 8;

    [Fact]
    public async Task EveryAcknowledgedMessageSurvivesSigkillExactlyOnce()
    {
        var first = await PosternProcess.StartAsync("mail.example.test");
        var dataDirectory = first.DataDirectory;
        var acknowledged = new ConcurrentDictionary<string, byte>();
        var sent = new ConcurrentDictionary<string, byte>();
        PosternProcess? second = null;
        try
        {
            var added = await first.CliAsync(Password + "\n", "user", "add", User, "--password-stdin");
            Assert.True(added.ExitCode == 0, added.Error);

            using var stop = new CancellationTokenSource();
            var port = first.Port(25);
            var senders = Enumerable.Range(0, Connections).Select(c => Task.Run(() => SendUntilClosedAsync(port, c, sent, acknowledged, stop.Token))).ToArray();

            // Kill while messages are in flight on every connection: after enough have been acknowledged to
            // know the load is running, at an arbitrary point of it.
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (acknowledged.Count < 150 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            await Task.Delay(Random.Shared.Next(0, 200));
            first.Kill();
            var inFlightAtKill = sent.Count - acknowledged.Count;
            await stop.CancelAsync();
            await Task.WhenAll(senders);
            Assert.True(acknowledged.Count >= 150, "the load never got going:\n" + first.Log);

            second = await PosternProcess.StartAsync("mail.example.test", dataDirectory, first.PortOffset);
            var subjects = await ReadSubjectsAsync(second);

            output.WriteLine($"{acknowledged.Count} acknowledged, {inFlightAtKill} in flight at the kill, {subjects.Count} stored after restart");
            var counts = subjects.GroupBy(s => s, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var lost = acknowledged.Keys.Where(id => !counts.ContainsKey(id)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged messages lost (e.g. {string.Join(", ", lost.Take(5))}); {inFlightAtKill} were in flight");
            var duplicated = counts.Where(c => c.Value > 1).Select(c => c.Key).ToList();
            Assert.True(duplicated.Count == 0, $"stored more than once: {string.Join(", ", duplicated.Take(5))}");

            // Nothing that was never sent appears; unacknowledged in-flight messages may or may not be there.
            Assert.All(counts.Keys, id => Assert.True(sent.ContainsKey(id), $"unknown message {id}"));
        }
        finally
        {
            if (second is not null)
            {
                await second.DisposeAsync();
            }
            else
            {
                await first.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// One SMTP session that pipelines MAIL/RCPT/DATA (RFC 2920) and records the message as acknowledged only
    /// when the reply to its final dot is 250; it stops when the server goes away.
    /// </summary>
    private static async Task SendUntilClosedAsync(int port, int connection, ConcurrentDictionary<string, byte> sent, ConcurrentDictionary<string, byte> acknowledged, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            Assert.StartsWith("220", await ReadReplyAsync(reader));
            await WriteAsync(stream, "EHLO durability.test\r\n");
            Assert.StartsWith("250", await ReadReplyAsync(reader));

            var body = new string('x', 70);
            for (var n = 0; !cancellationToken.IsCancellationRequested; n++)
            {
                var id = $"durable-{connection}-{n}-{Guid.NewGuid():N}";
                await WriteAsync(stream, $"MAIL FROM:<load@outside.test>\r\nRCPT TO:<{User}>\r\nDATA\r\n");
                var mail = await ReadReplyAsync(reader);
                var rcpt = await ReadReplyAsync(reader);
                var data = await ReadReplyAsync(reader);
                if (!mail.StartsWith("250", StringComparison.Ordinal) || !rcpt.StartsWith("250", StringComparison.Ordinal) || !data.StartsWith("354", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"unexpected replies: {mail} / {rcpt} / {data}");
                }

                var message = new StringBuilder()
                    .Append("From: load@outside.test\r\nTo: ").Append(User).Append("\r\nSubject: ").Append(id)
                    .Append("\r\nMessage-ID: <").Append(id).Append("@outside.test>\r\n\r\n");
                for (var line = 0; line < 50; line++)
                {
                    message.Append(body).Append("\r\n");
                }

                message.Append(".\r\n");
                sent[id] = 0;
                await WriteAsync(stream, message.ToString());
                var reply = await ReadReplyAsync(reader);
                if (reply.StartsWith("250", StringComparison.Ordinal))
                {
                    acknowledged[id] = 0;
                }
                else
                {
                    throw new InvalidOperationException("end of data refused: " + reply);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or ObjectDisposedException)
        {
            // The server was killed: this connection is done.
        }
    }

    private static async Task WriteAsync(NetworkStream stream, string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text));

    private static async Task<string> ReadReplyAsync(StreamReader reader)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync() ?? throw new EndOfStreamException();
            if (line.Length < 4 || line[3] != '-')
            {
                return line;
            }
        }
    }

    private static async Task<List<string>> ReadSubjectsAsync(PosternProcess server)
    {
        using var imap = new ImapClient { CheckCertificateRevocation = false };
        imap.ServerCertificateValidationCallback = (_, certificate, _, _) => IsIssuedBy(certificate, server.Root);
        await imap.ConnectAsync("127.0.0.1", server.Port(993), MailKit.Security.SecureSocketOptions.SslOnConnect);
        await imap.AuthenticateAsync(User, Password);
        var inbox = imap.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);
        var uids = await inbox.SearchAsync(SearchQuery.All);
        var summaries = uids.Count == 0 ? [] : await inbox.FetchAsync(uids, MessageSummaryItems.Envelope);
        await imap.DisconnectAsync(true);
        return summaries.Select(s => s.Envelope?.Subject ?? string.Empty).ToList();
    }

    private static bool IsIssuedBy(X509Certificate? certificate, X509Certificate2 root) => TestCertificates.ChainsTo(certificate, root);
}
