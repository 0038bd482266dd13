using System.Net;
using System.Net.Sockets;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Nntp;
using Postern.Store;

namespace Postern.IntegrationTests.Nntp;

public sealed class NewsFeedTests
{
    private static VirtualServer Named(string identity, int implicitPort = 0) => NntpTestServer.Config(settings: new Dictionary<string, string> { [NntpDefaults.PathIdentitySetting] = identity }) with
    {
        Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls), new Binding("127.0.0.1", implicitPort, BindingMode.ImplicitTls)],
    };

    private static NewsFeedOptions Options(string identity) => new()
    {
        PathIdentity = identity,
        TrustedRoots = [TestCertificates.Shared.Root],
        PushInterval = TimeSpan.FromMilliseconds(200),
        PullInterval = TimeSpan.FromMilliseconds(200),
        RetryDelay = TimeSpan.Zero,
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <param name="logOn">Log on to the peer as the test account: a puller reads as a reader (peer status gives no reader access).</param>
    private static NewsPeer Peer(string name, int port, NewsFeedDirection direction, NewsPeerTls tls = NewsPeerTls.Implicit, bool logOn = false) => new()
    {
        Name = name,
        Host = "localhost",
        Port = port,
        Tls = tls,
        Groups = "example.*,!example.local",
        Direction = direction,
        UserName = logOn ? NntpTestServer.User : null,
        Password = logOn ? NntpTestServer.Password : null,
    };

    private static async Task<string> WaitForGroupAsync(InProcessServer server, string expectedPrefix)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            await using var client = await NntpTestClient.ConnectAsync(server.Port());
            await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            last = await client.CommandAsync("GROUP example.general");
            if (last.StartsWith(expectedPrefix, StringComparison.Ordinal))
            {
                return last;
            }

            await Task.Delay(100);
        }

        return last;
    }

    private static async Task PostArticlesAsync(InProcessServer server, int count, string subject, string idPrefix)
    {
        await using var poster = await NntpTestClient.ConnectAsync(server.Port());
        await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        for (var i = 0; i < count; i++)
        {
            Assert.StartsWith("240", await poster.PostAsync(NntpTestServer.Article(subject: $"{subject} {i}", messageId: $"<{idPrefix}{i}@news-a.test>")));
        }
    }

    /// <summary>
    /// A peer for one connection on a port of its own: greets, answers each command line with <paramref name="reply"/>'s
    /// text and QUIT with 205. The feed may give the link up mid-exchange, so a closed connection simply ends it.
    /// </summary>
    private static (Task Served, int Port) StartFakePeer(Func<string, string> reply)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var served = Task.Run(async () =>
        {
            using var owner = listener;
            using var connection = await listener.AcceptTcpClientAsync();
            var stream = connection.GetStream();
            var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
            try
            {
                await stream.WriteAsync("200 fake peer\r\n"u8.ToArray());
                while (await reader.ReadLineAsync() is { } line)
                {
                    var quit = line.Equals("QUIT", StringComparison.OrdinalIgnoreCase);
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(quit ? "205 bye\r\n" : reply(line)));
                    if (quit)
                    {
                        return;
                    }
                }
            }
            catch (IOException)
            {
            }
        });
        return (served, ((IPEndPoint)listener.LocalEndpoint).Port);
    }

    [Fact]
    public async Task WithNoPeerAnArticleDoesNotWakeTheFeedAndAPeerAddedWakesItAtOnce()
    {
        NewsFeedService? feedA = null;
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"), () => feedA?.Nudge());
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"));
        // B takes A's feed: B knows A as a peer that feeds it (pull; no feed service runs on B here).
        Assert.True((await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", a.Port(BindingMode.StartTls), NewsFeedDirection.Pull, NewsPeerTls.StartTls), CancellationToken.None)).IsOk);
        await using var disposeA = feedA = new NewsFeedService(a.Context, Options("news-a.test") with { PushInterval = TimeSpan.FromMinutes(1) });
        feedA.Start();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!feedA.FoundNoPeers)
        {
            Assert.True(DateTime.UtcNow < deadline, "the feed's first pass did not run");
            await Task.Delay(20);
        }

        // The first pass found no peer. One added since (as from another node sharing the store) is found by the next
        // periodic pass, a minute away here: an accepted article alone does not wake the feed for it.
        Assert.True((await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", b.Port(BindingMode.ImplicitTls), NewsFeedDirection.Push), CancellationToken.None)).IsOk);
        await using (var poster = await NntpTestClient.ConnectAsync(a.Port()))
        {
            await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("240", await poster.PostAsync(NntpTestServer.Article(subject: "Queued", messageId: "<queued@news-a.test>")));
        }

        await Task.Delay(1000);
        Assert.Empty(await b.Store.PublicFolders.FindByMessageIdAsync("<queued@news-a.test>", CancellationToken.None));

        // A peer added on this node (the admin API says so) sends the feed at once.
        feedA.PeersChanged();
        Assert.Equal("211 1 1 1 example.general", await WaitForGroupAsync(b, "211 1"));
    }

    [Fact]
    public async Task PostOnOneServerAppearsOnItsPushPeerWithinSecondsAndDoesNotLoopBack()
    {
        // The queue is polled only every minute: the handlers' "article accepted" hook is what makes the feed leave at once.
        NewsFeedService? feedA = null, feedB = null;
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"), () => feedA?.Nudge());
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"), () => feedB?.Nudge());
        // Each feeds the other (both: a push peer only receives, so its address alone would not let it feed). Pulls are
        // an hour apart, so what arrives here came by push.
        Assert.True((await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", b.Port(BindingMode.ImplicitTls), NewsFeedDirection.Both), CancellationToken.None)).IsOk);
        Assert.True((await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", a.Port(BindingMode.StartTls), NewsFeedDirection.Both, NewsPeerTls.StartTls), CancellationToken.None)).IsOk);
        await using var disposeA = feedA = new NewsFeedService(a.Context, Options("news-a.test") with { PushInterval = TimeSpan.FromMinutes(1), PullInterval = TimeSpan.FromHours(1) });
        await using var disposeB = feedB = new NewsFeedService(b.Context, Options("news-b.test") with { PushInterval = TimeSpan.FromMinutes(1), PullInterval = TimeSpan.FromHours(1) });
        await Task.Delay(200);
        feedA.Start();
        feedB.Start();

        await using (var poster = await NntpTestClient.ConnectAsync(a.Port()))
        {
            await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("240", await poster.PostAsync(NntpTestServer.Article(subject: "Replicated", messageId: "<replicated@news-a.test>")));
        }

        Assert.Equal("211 1 1 1 example.general", await WaitForGroupAsync(b, "211 1"));
        var onB = Assert.Single(await b.Store.PublicFolders.FindByMessageIdAsync("<replicated@news-a.test>", CancellationToken.None));
        var content = System.Text.Encoding.UTF8.GetString(await b.Store.PublicFolders.ReadContentAsync(onB.BlobId, CancellationToken.None));
        Assert.Contains("Path: news-b.test!news-a.test!not-for-mail", content);

        // B queued the article for A too, but A is in its Path: the entry is dropped, A stores nothing twice.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await a.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None) > 0 || await b.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None) > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, await a.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None));
        Assert.Equal(0, await b.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None));
        Assert.Single(await a.Store.PublicFolders.FindByMessageIdAsync("<replicated@news-a.test>", CancellationToken.None));

        // The author's cancel travels the same feed: the peer withdraws its copy too (RFC 5537 §5.3).
        await using (var poster = await NntpTestClient.ConnectAsync(a.Port()))
        {
            await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("240", await poster.PostAsync(
                "From: Reader <reader@example.test>\nNewsgroups: example.general\nSubject: cmsg cancel <replicated@news-a.test>\nControl: cancel <replicated@news-a.test>\nMessage-ID: <cancel@news-a.test>\n\nWithdrawn.\n"));
        }

        Assert.Equal("211 0 ", (await WaitForGroupAsync(b, "211 0 "))[..6]);
        Assert.Empty(await b.Store.PublicFolders.FindByMessageIdAsync("<replicated@news-a.test>", CancellationToken.None));
        Assert.NotNull(await b.Store.PublicFolders.GetHistoryAsync("<cancel@news-a.test>", CancellationToken.None));
    }

    [Fact]
    public async Task PeerWithoutStreamingIsFedWithIHave()
    {
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));
        var config = Named("news-b.test");
        await using var b = await NntpTestServer.StartAsync(config with { Settings = new Dictionary<string, string>(config.Settings) { [NntpDefaults.StreamingSetting] = "false" } });
        await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", b.Port(BindingMode.ImplicitTls), NewsFeedDirection.Push), CancellationToken.None);
        await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", a.Port(BindingMode.ImplicitTls), NewsFeedDirection.Pull), CancellationToken.None);
        await using (var client = await NntpTestClient.ConnectAsync(b.Port()))
        {
            Assert.StartsWith("501", await client.CommandAsync("MODE STREAM"));
        }

        foreach (var id in new[] { "<ihave1@news-a.test>", "<ihave2@news-a.test>" })
        {
            await a.Store.PublicFolders.PostArticleAsync(
                new NewArticle(System.Text.Encoding.ASCII.GetBytes($"Path: news-a.test!not-for-mail\r\nFrom: a@a.test\r\nNewsgroups: example.general\r\nSubject: s\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: {id}\r\n\r\n.dot\r\n"), id, [(await a.Store.PublicFolders.FindNewsgroupAsync("example.general", CancellationToken.None))!.Id], DateTimeOffset.UtcNow),
                CancellationToken.None);
        }

        await using var feedA = new NewsFeedService(a.Context, Options("news-a.test"));
        await feedA.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, await a.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None));
        var copy = Assert.Single(await b.Store.PublicFolders.FindByMessageIdAsync("<ihave2@news-a.test>", CancellationToken.None));
        Assert.EndsWith("\r\n\r\n.dot\r\n", System.Text.Encoding.ASCII.GetString(await b.Store.PublicFolders.ReadContentAsync(copy.BlobId, CancellationToken.None)));
        Assert.Equal(2, (await b.Store.PublicFolders.GetSummaryAsync(copy.FolderId, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task QueuedArticlesWaitWhileThePeerIsDownAndArriveWhenItIsBack()
    {
        var port = FreePort();
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test", port));
        await b.Host.ApplyAsync([], CancellationToken.None);

        // B accepts transit from A only because it knows A as a peer (no feed service runs on B here).
        await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", a.Port(BindingMode.ImplicitTls), NewsFeedDirection.Pull), CancellationToken.None);
        Assert.True((await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", port, NewsFeedDirection.Push), CancellationToken.None)).IsOk);
        await using var feedA = new NewsFeedService(a.Context, Options("news-a.test") with { RetryDelay = TimeSpan.FromMilliseconds(1) });

        await using (var poster = await NntpTestClient.ConnectAsync(a.Port()))
        {
            await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("240", await poster.PostAsync(NntpTestServer.Article(messageId: "<while-down@news-a.test>")));
        }

        await feedA.RunOnceAsync(CancellationToken.None);
        var peer = Assert.Single(await a.Store.PublicFolders.ListPeersAsync(CancellationToken.None));
        var entry = Assert.Single(await a.Store.PublicFolders.ListDueFeedAsync(peer.Id, DateTimeOffset.UtcNow.AddHours(2), 10, CancellationToken.None));
        Assert.Equal(0, entry.Attempts); // the peer was down, which counts against the peer, not the article
        Assert.NotNull(entry.LastError);

        await b.Host.ReloadAsync(CancellationToken.None);
        await Task.Delay(50);
        await feedA.RunOnceAsync(CancellationToken.None);
        var left = await a.Store.PublicFolders.ListDueFeedAsync(peer.Id, DateTimeOffset.UtcNow.AddHours(2), 10, CancellationToken.None);
        Assert.True(left.Count == 0, string.Join(", ", left.Select(l => l.LastError)) + " / " + string.Join(", ", b.Host.Status.Select(s => $"{s.Port} {s.Listening} {s.Error}")));
        Assert.Single(await b.Store.PublicFolders.FindByMessageIdAsync("<while-down@news-a.test>", CancellationToken.None));
    }

    [Fact]
    public async Task APeerThatCannotBeReachedIsBackedOffAsAWholeAndItsArticlesKeepTheirPlace()
    {
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));
        Assert.True((await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", FreePort(), NewsFeedDirection.Push), CancellationToken.None)).IsOk);
        var peer = Assert.Single(await a.Store.PublicFolders.ListPeersAsync(CancellationToken.None));
        await using var feedA = new NewsFeedService(a.Context, Options("news-a.test") with { RetryDelay = TimeSpan.FromMinutes(10) });

        await PostArticlesAsync(a, 3, "Waiting", "waiting");
        var before = DateTimeOffset.UtcNow;
        await feedA.RunOnceAsync(CancellationToken.None);

        // Put back for the peer's back-off, with no attempt counted against the articles.
        Assert.Empty(await a.Store.PublicFolders.ListDueFeedAsync(peer.Id, DateTimeOffset.UtcNow, 10, CancellationToken.None));
        var postponed = await a.Store.PublicFolders.ListDueFeedAsync(peer.Id, before.AddMinutes(11), 10, CancellationToken.None);
        Assert.Equal(3, postponed.Count);
        Assert.All(postponed, e => Assert.Equal(0, e.Attempts));
        Assert.All(postponed, e => Assert.True(e.NextAttempt >= before.AddMinutes(10) - TimeSpan.FromSeconds(1)));
        Assert.All(postponed, e => Assert.NotNull(e.LastError));

        // Within the back-off the peer is not tried again: an article queued meanwhile is not even claimed.
        await PostArticlesAsync(a, 1, "Later", "later");
        await feedA.RunOnceAsync(CancellationToken.None);
        var fresh = Assert.Single(await a.Store.PublicFolders.ListDueFeedAsync(peer.Id, DateTimeOffset.UtcNow, 10, CancellationToken.None));
        Assert.Equal("<later0@news-a.test>", fresh.MessageId);
        Assert.Null(fresh.LastError);
    }

    [Fact]
    public async Task APushWhoseStreamingRepliesAreOutOfStepCompletesNothing()
    {
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));

        // A streaming peer that answers every CHECK as if it were about another article.
        var (peer, port) = StartFakePeer(line => line.Split(' ')[0].ToUpperInvariant() switch
        {
            "CAPABILITIES" => "101 caps\r\nVERSION 2\r\nIHAVE\r\nSTREAMING\r\n.\r\n",
            "MODE" => "203 streaming\r\n",
            "CHECK" => "438 <someone-else@news-a.test>\r\n",
            _ => "500 what\r\n",
        });
        Assert.True((await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", port, NewsFeedDirection.Push, NewsPeerTls.None), CancellationToken.None)).IsOk);
        await PostArticlesAsync(a, 3, "Offered", "offered");
        await using var feedA = new NewsFeedService(a.Context, Options("news-a.test") with { RetryDelay = TimeSpan.FromMinutes(10) });
        await feedA.RunOnceAsync(CancellationToken.None);
        await peer.WaitAsync(TimeSpan.FromSeconds(10));

        // A 438 for another Message-ID is not taken as "not wanted": every entry stays queued, to be offered again.
        var peerId = Assert.Single(await a.Store.PublicFolders.ListPeersAsync(CancellationToken.None)).Id;
        var queued = await a.Store.PublicFolders.ListDueFeedAsync(peerId, DateTimeOffset.UtcNow.AddDays(1), 10, CancellationToken.None);
        Assert.Equal(3, queued.Count);
        Assert.All(queued, e => Assert.Contains("expected", e.LastError, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABacklogIsStreamedInPipelinedWindowsBatchAfterBatchOverOneConnection()
    {
        const int Articles = 150;
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"));
        await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", a.Port(BindingMode.ImplicitTls), NewsFeedDirection.Pull), CancellationToken.None);
        Assert.True((await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", b.Port(BindingMode.ImplicitTls), NewsFeedDirection.Push), CancellationToken.None)).IsOk);

        await PostArticlesAsync(a, Articles, "Backlog", "backlog");

        // B has one of them already (from another peer): CHECK gets 438 for it, in the middle of a window.
        var onA = Assert.Single(await a.Store.PublicFolders.FindByMessageIdAsync("<backlog70@news-a.test>", CancellationToken.None));
        var copy = await a.Store.PublicFolders.ReadContentAsync(onA.BlobId, CancellationToken.None);
        await using (var feeder = await NntpTestClient.ConnectAsync(b.Port()))
        {
            await feeder.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("335", await feeder.CommandAsync("IHAVE <backlog70@news-a.test>"));
            Assert.StartsWith("235", await feeder.SendArticleAsync(System.Text.Encoding.UTF8.GetString(copy)));
        }

        // Batches of 40 and windows of 64: one pass sends the four batches over one connection.
        await using var feedA = new NewsFeedService(a.Context, Options("news-a.test") with { BatchSize = 40 });
        await feedA.RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, await a.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None));
        Assert.Equal($"211 {Articles} 1 {Articles} example.general", await WaitForGroupAsync(b, $"211 {Articles}"));
        for (var i = 0; i < Articles; i += 37)
        {
            Assert.Single(await b.Store.PublicFolders.FindByMessageIdAsync($"<backlog{i}@news-a.test>", CancellationToken.None));
        }
    }

    [Fact]
    public async Task APullPeerThatCannotBeReachedIsBackedOffNotTriedAndLoggedEveryPass()
    {
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"));
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await b.Store.PublicFolders.AddPeerAsync(Peer("news-down.test", closedPort, NewsFeedDirection.Pull), CancellationToken.None);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        using var log = new RecordingLoggerFactory();
        var context = new Postern.Server.Connections.ServerContext { Store = b.Store, Certificates = b.Context.Certificates, HostName = b.Context.HostName, LoggerFactory = log, Time = clock };
        await using var feed = new NewsFeedService(context, Options("news-b.test") with { RetryDelay = TimeSpan.FromMinutes(10) });
        int Attempts() => log.Entries.Count(e => e.EventId == 6108);

        await feed.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, Attempts());

        // Past the first delay it is tried again; then the delay doubles (innfeed's reconnect time), so 11 more minutes
        // are not enough.
        clock.Now += TimeSpan.FromMinutes(11);
        await feed.RunOnceAsync(CancellationToken.None);
        Assert.Equal(2, Attempts());
        clock.Now += TimeSpan.FromMinutes(11);
        await feed.RunOnceAsync(CancellationToken.None);
        Assert.Equal(2, Attempts());
        clock.Now += TimeSpan.FromMinutes(10);
        await feed.RunOnceAsync(CancellationToken.None);
        Assert.Equal(3, Attempts());
    }

    [Fact]
    public async Task APullOfManyArticlesPipelinesTheArticleRequestsAndStoresThemAll()
    {
        const int Articles = 120;
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"));
        await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", a.Port(BindingMode.ImplicitTls), NewsFeedDirection.Pull, logOn: true), CancellationToken.None);
        await PostArticlesAsync(a, Articles, "Pulled", "pull");

        // Windows of 50 ARTICLE requests; about 2 KB held before a store, so each window is stored in several parts.
        await using var feedB = new NewsFeedService(b.Context, Options("news-b.test") with { StreamWindow = 50, StreamWindowBytes = 2048 });
        await feedB.RunOnceAsync(CancellationToken.None);

        Assert.Equal($"211 {Articles} 1 {Articles} example.general", await WaitForGroupAsync(b, $"211 {Articles}"));
        for (var i = 0; i < Articles; i++)
        {
            var copy = Assert.Single(await b.Store.PublicFolders.FindByMessageIdAsync($"<pull{i}@news-a.test>", CancellationToken.None));
            Assert.Contains($"Subject: Pulled {i}\r\n", System.Text.Encoding.UTF8.GetString(await b.Store.PublicFolders.ReadContentAsync(copy.BlobId, CancellationToken.None)));
        }

        var peer = Assert.Single(await b.Store.PublicFolders.ListPeersAsync(CancellationToken.None));
        Assert.NotNull(peer.LastPull);
    }

    [Fact]
    public async Task APullWhoseArticleRepliesAreOutOfStepStoresNothingAndForgetsNothing()
    {
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"));

        // A peer that answers the first ARTICLE with another article than the one asked for.
        var (peer, port) = StartFakePeer(line => line.Split(' ')[0].ToUpperInvariant() switch
        {
            "CAPABILITIES" => "101 caps\r\nVERSION 2\r\nREADER\r\n.\r\n",
            "MODE" => "200 reader\r\n",
            "DATE" => "111 20261128120000\r\n",
            "NEWNEWS" => "230 list\r\n<one@news-a.test>\r\n<two@news-a.test>\r\n.\r\n",
            "ARTICLE" => OtherArticle(line.EndsWith("<one@news-a.test>", StringComparison.Ordinal) ? "<two@news-a.test>" : "<one@news-a.test>"),
            _ => "500 what\r\n",
        });
        static string OtherArticle(string id) =>
            $"220 0 {id}\r\n" + NntpTestServer.Article(messageId: id, extraHeaders: "Path: news-a.test!not-for-mail\nDate: Sat, 28 Nov 2026 12:00:00 +0000\n").ReplaceLineEndings("\r\n") + ".\r\n";
        await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", port, NewsFeedDirection.Pull, NewsPeerTls.None), CancellationToken.None);

        await using var feedB = new NewsFeedService(b.Context, Options("news-b.test"));
        await feedB.RunOnceAsync(CancellationToken.None);
        await peer.WaitAsync(TimeSpan.FromSeconds(10));

        foreach (var id in new[] { "<one@news-a.test>", "<two@news-a.test>" })
        {
            Assert.Empty(await b.Store.PublicFolders.FindByMessageIdAsync(id, CancellationToken.None));
            Assert.Null(await b.Store.PublicFolders.GetHistoryAsync(id, CancellationToken.None)); // asked for again at the next pull
        }

        Assert.Null(Assert.Single(await b.Store.PublicFolders.ListPeersAsync(CancellationToken.None)).LastPull);
    }

    [Fact]
    public async Task PullFeedFetchesNewArticlesOnceAndSkipsUnwantedGroups()
    {
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"));
        await a.Store.PublicFolders.AddFolderAsync("Example/Local", "example.local", null, CancellationToken.None);
        await b.Store.PublicFolders.AddFolderAsync("Example/Local", "example.local", null, CancellationToken.None);

        // B pulls from A, logged on as a reader: that A knows B as a peer gives B no reader access.
        await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", b.Port(BindingMode.ImplicitTls), NewsFeedDirection.Pull), CancellationToken.None);
        await b.Store.PublicFolders.AddPeerAsync(Peer("news-a.test", a.Port(BindingMode.ImplicitTls), NewsFeedDirection.Pull, logOn: true), CancellationToken.None);
        await using (var poster = await NntpTestClient.ConnectAsync(a.Port()))
        {
            await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("240", await poster.PostAsync(NntpTestServer.Article(messageId: "<pulled@news-a.test>")));
            Assert.StartsWith("240", await poster.PostAsync(NntpTestServer.Article(newsgroups: "example.local", messageId: "<local@news-a.test>")));
        }

        await using var feedB = new NewsFeedService(b.Context, Options("news-b.test"));

        // While another node sharing B's store pulls, this one does not.
        await using (await b.Store.Database.LockAsync(NodeTask.NewsPull, CancellationToken.None))
        {
            await feedB.RunOnceAsync(CancellationToken.None);
            Assert.Empty(await b.Store.PublicFolders.FindByMessageIdAsync("<pulled@news-a.test>", CancellationToken.None));
            Assert.Null(Assert.Single(await b.Store.PublicFolders.ListPeersAsync(CancellationToken.None)).LastPull);
        }

        await feedB.RunOnceAsync(CancellationToken.None);
        Assert.Single(await b.Store.PublicFolders.FindByMessageIdAsync("<pulled@news-a.test>", CancellationToken.None));
        Assert.Empty(await b.Store.PublicFolders.FindByMessageIdAsync("<local@news-a.test>", CancellationToken.None));
        Assert.NotNull(Assert.Single(await b.Store.PublicFolders.ListPeersAsync(CancellationToken.None)).LastPull);

        // The author's cancel on A: NEWNEWS lists it and ARTICLE serves it, so the puller withdraws its copy too.
        await using (var poster = await NntpTestClient.ConnectAsync(a.Port()))
        {
            await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("240", await poster.PostAsync(
                "From: Reader <reader@example.test>\nNewsgroups: example.general\nSubject: cmsg cancel <pulled@news-a.test>\nControl: cancel <pulled@news-a.test>\nMessage-ID: <pull-cancel@news-a.test>\n\nWithdrawn.\n"));
            Assert.StartsWith("230", await poster.CommandAsync("NEWNEWS example.* 20000101 000000 GMT"));
            Assert.Contains("<pull-cancel@news-a.test>", await poster.ReadBlockAsync());
            Assert.StartsWith("220 0 <pull-cancel@news-a.test>", await poster.CommandAsync("ARTICLE <pull-cancel@news-a.test>"));
            Assert.Contains("Control: cancel <pulled@news-a.test>", await poster.ReadBlockAsync());
            Assert.StartsWith("430", await poster.CommandAsync("OVER <pull-cancel@news-a.test>"));
        }

        // The next pull is due once PullInterval has passed since the last one (whose time is the peer's DATE, in seconds).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            await Task.Delay(200);
            await feedB.RunOnceAsync(CancellationToken.None);
        }
        while ((await b.Store.PublicFolders.FindByMessageIdAsync("<pulled@news-a.test>", CancellationToken.None)).Count > 0 && DateTime.UtcNow < deadline);

        Assert.Empty(await b.Store.PublicFolders.FindByMessageIdAsync("<pulled@news-a.test>", CancellationToken.None));
        Assert.Equal(NewsHistoryState.Cancelled, (await b.Store.PublicFolders.GetHistoryAsync("<pulled@news-a.test>", CancellationToken.None))!.State);
    }

    [Fact]
    public async Task PeerWithAnUntrustedCertificateIsNotFed()
    {
        await using var a = await NntpTestServer.StartAsync(Named("news-a.test"));
        await using var b = await NntpTestServer.StartAsync(Named("news-b.test"));
        await a.Store.PublicFolders.AddPeerAsync(Peer("news-b.test", b.Port(BindingMode.ImplicitTls), NewsFeedDirection.Push), CancellationToken.None);
        await using var feedA = new NewsFeedService(a.Context, Options("news-a.test") with { TrustedRoots = [] });
        await using (var poster = await NntpTestClient.ConnectAsync(a.Port()))
        {
            await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("240", await poster.PostAsync(NntpTestServer.Article(messageId: "<untrusted@news-a.test>")));
        }

        await feedA.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, await a.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None));
        Assert.Empty(await b.Store.PublicFolders.FindByMessageIdAsync("<untrusted@news-a.test>", CancellationToken.None));
    }

    [Fact]
    public void PeerCertificatesMustChainToATrustedRootAndNameTheHost()
    {
        var certificate = TestCertificates.Shared.Server;
        var peer = Peer("p", 563, NewsFeedDirection.Push);
        var chainError = System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors;
        Assert.True(NntpFeedClient.ValidatePeerCertificate(peer, [TestCertificates.Shared.Root], certificate, chainError));
        Assert.False(NntpFeedClient.ValidatePeerCertificate(peer, [], certificate, chainError));
        Assert.False(NntpFeedClient.ValidatePeerCertificate(peer, [new TestCertificates("other").Root], certificate, chainError));
        Assert.False(NntpFeedClient.ValidatePeerCertificate(peer, [TestCertificates.Shared.Root], certificate, chainError | System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.False(NntpFeedClient.ValidatePeerCertificate(peer, [TestCertificates.Shared.Root], null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable));
        Assert.True(NntpFeedClient.ValidatePeerCertificate(peer with { Verify = false }, [], certificate, chainError));
    }

    /// <summary>
    /// A free port that no other test server takes: below the ephemeral range (32768 and up on Linux) and below the port
    /// ranges of <see cref="PosternProcess"/> (offsets from 2000). The peer in the test stays down a while with its port
    /// unbound; a port handed out for "port 0" could meanwhile go to another test's news server, which would take the
    /// article.
    /// </summary>
    private static int FreePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(1100, 2000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port between 1100 and 2000");
    }
}
