using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
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
                var slow = 0;
                while (!stop.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    await probe.NoOpAsync();
                    var took = Stopwatch.GetElapsedTime(started);
                    worst = took > worst ? took : worst;
                    slow += took >= oneSearch / 2 ? 1 : 0;
                    count++;
                }

                return (worst, count, slow);
            })));
            await searches;

            Assert.All(slowest, probe =>
            {
                Assert.True(probe.count >= 4, $"only {probe.count} NOOPs during four searches of {oneSearch.TotalMilliseconds:0} ms");

                // A probe that waited for the searches would wait four times, once per search. One slow NOOP is allowed:
                // a single pause of every probe at once (a garbage collection in the test process running them, under
                // the parallel test load of a 2-core machine) is not a NOOP waiting for a search.
                Assert.True(probe.slow <= 1, $"{probe.slow} NOOPs took over half a search ({oneSearch.TotalMilliseconds:0} ms); the slowest {probe.worst.TotalMilliseconds:0} ms");
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

    [Fact]
    public async Task AFloodOfPipelinedCommandsDoesNotStarveOtherSessions()
    {
        // Two clients that keep thousands of NOOPs queued: their sessions never wait for input, so without a yield
        // they would hold the socket engine's threads and no other connection would even get its greeting.
        using var stop = new CancellationTokenSource();
        var floods = new List<Task>();
        for (var i = 0; i < 2; i++)
        {
            floods.Add(FloodAsync(await _server.AddUserAsync("flood" + i, Password), stop.Token));
        }

        try
        {
            await Task.Delay(500);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var probes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            {
                using var probe = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = _server.ChainsToRoot };
                await probe.ConnectAsync("127.0.0.1", _server.Port(993), SecureSocketOptions.SslOnConnect, deadline.Token);
                await probe.AuthenticateAsync(await _server.AddUserAsync("patient" + i, Password), Password, deadline.Token);
                var worst = TimeSpan.Zero;
                var count = 0;
                var until = Stopwatch.StartNew();
                while (until.Elapsed < TimeSpan.FromSeconds(3))
                {
                    var started = Stopwatch.GetTimestamp();
                    await probe.NoOpAsync(deadline.Token);
                    var took = Stopwatch.GetElapsedTime(started);
                    worst = took > worst ? took : worst;
                    count++;
                }

                return (worst, count);
            })));

            Assert.All(probes, probe =>
            {
                Assert.True(probe.count >= 20, $"only {probe.count} NOOPs in 3 s beside the floods");
                Assert.True(probe.worst < TimeSpan.FromSeconds(1), $"a NOOP took {probe.worst.TotalMilliseconds:0} ms beside the floods");
            });
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(floods.Select(f => f.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }

    /// <summary>Logs in over IMAPS, then sends pipelined NOOPs as fast as the server takes them, reading every reply.</summary>
    private async Task FloodAsync(string user, CancellationToken stop)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _server.Port(993), stop);
        await using var tls = new SslStream(tcp.GetStream(), false, _server.ChainsToRoot);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mail.example.test" }, stop);
        using var reader = new StreamReader(tls, Encoding.ASCII, false, 1024, leaveOpen: true);
        await reader.ReadLineAsync(stop);
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"a LOGIN {user} {Password}\r\n"), stop);
        while ((await reader.ReadLineAsync(stop))?.StartsWith("a ", StringComparison.Ordinal) == false)
        {
        }

        var burst = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(n => $"n{n} NOOP\r\n")));
        var drain = Task.Run(async () =>
        {
            var buffer = new char[65536];
            while (!stop.IsCancellationRequested && await reader.ReadAsync(buffer, stop) > 0)
            {
            }
        }, CancellationToken.None);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await tls.WriteAsync(burst, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }

        tcp.Close();
        await drain.ContinueWith(_ => { }, TaskScheduler.Default);
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
