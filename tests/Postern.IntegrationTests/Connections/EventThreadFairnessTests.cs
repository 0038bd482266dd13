using System.Diagnostics;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Connections;

/// <summary>
/// `postern serve` runs sessions on the socket engine's threads (inline completions); a long command must move to the
/// thread pool first, or every connection served by the same thread would wait for it (src/Postern.Server/Connections/EventThread.cs).
/// </summary>
public sealed class EventThreadFairnessTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string Password = "a-good-password";
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task OtherSessionsAreAnsweredWhileOneRunsLongSearches()
    {
        var heavyUser = await _server.AddUserAsync("heavy", Password);
        using var heavy = await ConnectAsync(heavyUser);
        await FillInboxAsync(heavy.Inbox, messages: 800, kilobytes: 48);
        await heavy.Inbox.OpenAsync(FolderAccess.ReadOnly);

        // Eight other sessions, so that several share the socket engine thread of the searching one.
        var probes = new List<ImapClient>();
        for (var i = 0; i < 8; i++)
        {
            var probe = await ConnectAsync(await _server.AddUserAsync("probe" + i, Password));
            await probe.Inbox.OpenAsync(FolderAccess.ReadOnly);
            probes.Add(probe);
        }

        try
        {
            // The second search's time: the first one also warms the server up.
            await heavy.Inbox.SearchAsync(SearchQuery.BodyContains("needle-that-is-nowhere"));
            var clock = Stopwatch.StartNew();
            await heavy.Inbox.SearchAsync(SearchQuery.BodyContains("needle-that-is-nowhere"));
            var oneSearch = clock.Elapsed;

            // Searches back to back while every probe sends NOOPs; no NOOP may wait for a search to end.
            using var stop = new CancellationTokenSource();
            var searches = Task.Run(async () =>
            {
                for (var i = 0; i < 4; i++)
                {
                    await heavy.Inbox.SearchAsync(SearchQuery.BodyContains("needle-that-is-nowhere"));
                }

                await stop.CancelAsync();
            });
            var slowest = await Task.WhenAll(probes.Select(probe => Task.Run(async () =>
            {
                var worst = TimeSpan.Zero;
                var count = 0;
                while (!stop.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    await probe.NoOpAsync();
                    var took = Stopwatch.GetElapsedTime(started);
                    worst = took > worst ? took : worst;
                    count++;
                }

                return (worst, count);
            })));
            await searches;

            Assert.All(slowest, probe =>
            {
                Assert.True(probe.count >= 4, $"only {probe.count} NOOPs during four searches of {oneSearch.TotalMilliseconds:0} ms");
                Assert.True(probe.worst < oneSearch / 2, $"a NOOP took {probe.worst.TotalMilliseconds:0} ms; one search takes {oneSearch.TotalMilliseconds:0} ms");
            });
        }
        finally
        {
            foreach (var probe in probes)
            {
                probe.Dispose();
            }
        }
    }

    private async Task<ImapClient> ConnectAsync(string user)
    {
        var client = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = _server.ChainsToRoot };
        await client.ConnectAsync("127.0.0.1", _server.Port(993), SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(user, Password);
        return client;
    }

    private static async Task FillInboxAsync(IMailFolder inbox, int messages, int kilobytes)
    {
        var text = new StringBuilder();
        for (var line = 0; text.Length < kilobytes * 1024; line++)
        {
            text.Append("line ").Append(line).Append(" of a message that a body search has to read through to the end\r\n");
        }

        var body = text.ToString();
        for (var first = 0; first < messages; first += 100)
        {
            var batch = Enumerable.Range(first, Math.Min(100, messages - first)).Select(n =>
            {
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("sender@example.test"));
                message.To.Add(MailboxAddress.Parse("heavy@example.test"));
                message.Subject = "filler " + n;
                message.Body = new TextPart("plain") { Text = body };
                return (IAppendRequest)new AppendRequest(message);
            }).ToList();
            await inbox.AppendAsync(batch);
        }
    }
}
