using System.Diagnostics;
using System.Text;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Nntp;
using Postern.Store;

namespace Postern.IntegrationTests.Nntp;

public sealed class NntpSecurityAndTransitTests
{
    private static string TransitArticle(string messageId, string newsgroups = "example.general") =>
        $"Path: news.peer.test!not-for-mail\nFrom: Peer <peer@peer.test>\nNewsgroups: {newsgroups}\nSubject: Relayed\nDate: Fri, 27 Nov 2026 10:00:00 +0000\nMessage-ID: {messageId}\n\nRelayed body.\n";

    [Fact]
    public async Task StartTlsDiscardsPipelinedCommandsAndResetsTheSession()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("101", await client.CommandAsync("CAPABILITIES"));
        Assert.Contains("STARTTLS", await client.ReadBlockAsync());

        // RFC 4642 §2.2.2: what the client pipelined after STARTTLS must not run.
        await client.SendAsync("STARTTLS\r\nDATE\r\n");
        Assert.StartsWith("382", await client.ReadLineAsync());
        await client.StartTlsAsync();
        Assert.StartsWith("200 Reader mode", await client.CommandAsync("MODE READER"));
        Assert.StartsWith("101", await client.CommandAsync("CAPABILITIES"));
        var capabilities = await client.ReadBlockAsync();
        Assert.DoesNotContain("STARTTLS", capabilities);
        Assert.Contains("AUTHINFO USER SASL", capabilities);
        Assert.StartsWith("502", await client.CommandAsync("STARTTLS"));
    }

    [Fact]
    public async Task RequireSecureChannelRefusesAuthInfoAndPostBeforeStartTls()
    {
        await using var server = await NntpTestServer.StartAsync(NntpTestServer.Config(requireSecure: true));
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("101", await client.CommandAsync("CAPABILITIES"));
        var capabilities = await client.ReadBlockAsync();
        Assert.Contains("AUTHINFO", capabilities);
        Assert.DoesNotContain("AUTHINFO USER SASL", capabilities);
        Assert.StartsWith("483", await client.CommandAsync("AUTHINFO USER " + NntpTestServer.User));
        Assert.StartsWith("483", await client.CommandAsync("AUTHINFO SASL PLAIN"));
        Assert.StartsWith("483", await client.CommandAsync("POST"));
        Assert.StartsWith("483", await client.CommandAsync("IHAVE <x@y>"));

        // Nor is news read in clear text, even from a group anyone may read: the option means TLS for everything.
        Assert.StartsWith("483", await client.CommandAsync("GROUP example.general"));
        Assert.StartsWith("483", await client.CommandAsync("LIST ACTIVE"));
        Assert.StartsWith("483", await client.CommandAsync("ARTICLE <any@example.test>"));

        Assert.StartsWith("382", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article()));
        Assert.StartsWith("211", await client.CommandAsync("GROUP example.general"));

        await using var tls = await NntpTestClient.ConnectAsync(server.Port(BindingMode.ImplicitTls), implicitTls: true);
        Assert.StartsWith("200", tls.Greeting);
        Assert.StartsWith("281", await tls.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
    }

    [Fact]
    public async Task SaslPlainWithAndWithoutInitialResponse()
    {
        await using var server = await NntpTestServer.StartAsync();
        var good = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{NntpTestServer.User}\0{NntpTestServer.Password}"));
        var bad = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{NntpTestServer.User}\0wrong"));
        await using (var client = await NntpTestClient.ConnectAsync(server.Port()))
        {
            Assert.StartsWith("481", await client.CommandAsync("AUTHINFO SASL PLAIN " + bad));
            Assert.StartsWith("503", await client.CommandAsync("AUTHINFO SASL CRAM-MD5"));
            Assert.StartsWith("482", await client.CommandAsync("AUTHINFO PASS x"));
            Assert.StartsWith("281", await client.CommandAsync("AUTHINFO SASL PLAIN " + good));
            Assert.StartsWith("502", await client.CommandAsync("AUTHINFO USER again"));
        }

        await using (var client = await NntpTestClient.ConnectAsync(server.Port()))
        {
            Assert.Equal("383 ", await client.CommandAsync("AUTHINFO SASL PLAIN"));
            Assert.StartsWith("281", await client.CommandAsync(good));
        }
    }

    [Fact]
    public async Task CompressDeflateAfterAuthentication()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("480", await client.CommandAsync("COMPRESS DEFLATE"));
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.StartsWith("101", await client.CommandAsync("CAPABILITIES"));
        Assert.Contains("COMPRESS DEFLATE", await client.ReadBlockAsync());
        Assert.StartsWith("501", await client.CommandAsync("COMPRESS GZIP"));
        Assert.StartsWith("206", await client.CommandAsync("COMPRESS DEFLATE"));
        client.StartCompression();
        Assert.StartsWith("111", await client.CommandAsync("DATE"));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<compressed@example.test>", body: string.Concat(Enumerable.Repeat("compressible line\n", 500)))));
        Assert.StartsWith("502", await client.CommandAsync("COMPRESS DEFLATE"));
        Assert.StartsWith("211", await client.CommandAsync("GROUP example.general"));
        Assert.StartsWith("222", await client.CommandAsync("BODY 1"));
        Assert.Equal(500, (await client.ReadBlockAsync()).Count);
    }

    [Fact]
    public async Task BadInputGetsProperCodesAndTheServerStaysUp()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using (var client = await NntpTestClient.ConnectAsync(server.Port()))
        {
            // RFC 3977 §3.1: 512 octets per command line.
            Assert.StartsWith("501", await client.CommandAsync("GROUP " + new string('a', 600)));
            Assert.StartsWith("111", await client.CommandAsync("DATE"));
            Assert.StartsWith("501", await client.CommandAsync("X" + new string('y', 20000)));
            Assert.StartsWith("111", await client.CommandAsync("DATE"));
            await client.SendRawAsync([0x00, 0xFF, 0xFE, 0x01, (byte)'\r', (byte)'\n']);
            Assert.StartsWith("501", await client.ReadLineAsync());
            Assert.StartsWith("500", await client.CommandAsync("FROBNICATE"));
            Assert.StartsWith("501", await client.CommandAsync("ARTICLE notanumber"));
            Assert.StartsWith("412", await client.CommandAsync("ARTICLE 1"));
            Assert.StartsWith("501", await client.CommandAsync("NEWNEWS * 2026 1200"));
            Assert.StartsWith("501", await client.CommandAsync("LIST ACTIVE [bad"));
            Assert.StartsWith("111", await client.CommandAsync("DATE"));
        }

        // A flood of junk: after MaxBadCommands the server says 400 and closes; other clients are unaffected.
        await using (var flood = await NntpTestClient.ConnectAsync(server.Port()))
        {
            await flood.SendAsync(string.Concat(Enumerable.Repeat("JUNK\r\n", 50)));
            string line;
            var replies = 0;
            do
            {
                line = await flood.ReadLineAsync();
                replies++;
            }
            while (line.StartsWith("500", StringComparison.Ordinal));

            Assert.StartsWith("400", line);
            Assert.Equal("<closed>", await flood.ReadLineAsync());
            Assert.True(replies < 50);
        }

        await using var after = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("111", await after.CommandAsync("DATE"));
    }

    [Fact]
    public async Task ArticlesWithNulOctetsAreRefused()
    {
        await using var server = await NntpTestServer.StartAsync();
        await AddFeedingPeerAsync(server);
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);

        // RFC 5322 §3.5: no NUL in an article. POST answers 441, IHAVE 437 and, from a peer, remembers it (435 on a second offer).
        Assert.StartsWith("340", await client.CommandAsync("POST"));
        Assert.StartsWith("441", await client.SendArticleAsync("From: a@b.test\nNewsgroups: example.general\nSubject: x\0y\n\nbody\n"));
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <nul@peer.test>"));
        Assert.StartsWith("437", await client.SendArticleAsync(TransitArticle("<nul@peer.test>").Replace("Relayed body.", "Relayed\0body.", StringComparison.Ordinal)));
        Assert.StartsWith("435", await client.CommandAsync("IHAVE <nul@peer.test>"));

        Assert.StartsWith("340", await client.CommandAsync("POST"));
        Assert.StartsWith("240", await client.SendArticleAsync("From: a@b.test\nNewsgroups: example.general\nSubject: clean\n\nbody\n"));
        Assert.Empty(await server.Store.PublicFolders.FindByMessageIdAsync("<nul@peer.test>", CancellationToken.None));
    }

    [Fact]
    public async Task A_logged_on_reader_cannot_feed_an_approved_article_into_a_moderated_group_past_the_moderator()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var folder = (await folders.FindNewsgroupAsync("example.general", CancellationToken.None))!;
        Assert.Equal(StoreStatus.Ok, await folders.SetModerationAsync(folder.Id, true, "moderator@example.test", CancellationToken.None));
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));

        // POST holds such an article for the moderator; IHAVE and TAKETHIS published it at once.
        var approved = (string id) => TransitArticle(id).Replace("Subject: Relayed\n", "Subject: Relayed\nApproved: moderator@example.test\n", StringComparison.Ordinal);
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <self-approved@peer.test>"));
        Assert.StartsWith("437", await client.SendArticleAsync(approved("<self-approved@peer.test>")));
        Assert.StartsWith("203", await client.CommandAsync("MODE STREAM"));
        await client.SendAsync("TAKETHIS <self-approved-2@peer.test>\r\n");
        Assert.StartsWith("439", await client.SendArticleAsync(approved("<self-approved-2@peer.test>")));
        Assert.Equal("211 0 1 0 example.general", await client.CommandAsync("GROUP example.general"));
        Assert.Empty(await folders.FindByMessageIdAsync("<self-approved@peer.test>", CancellationToken.None));

        // Not remembered: the genuine approved article is still wanted from a peer.
        Assert.StartsWith("238", await client.CommandAsync("CHECK <self-approved@peer.test>"));
    }

    /// <summary>This test client's address as a news peer that feeds the server (pull), for the example.* groups.</summary>
    private static async Task AddFeedingPeerAsync(InProcessServer server, string groups = "example.*", NewsFeedDirection direction = NewsFeedDirection.Pull) =>
        Assert.True((await server.Store.PublicFolders.AddPeerAsync(new NewsPeer { Name = "news.peer.test", Host = "127.0.0.1", Groups = groups, Direction = direction }, CancellationToken.None)).IsOk);

    [Fact]
    public async Task A_reader_refused_for_lack_of_rights_does_not_block_the_message_id_for_a_peer()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var moderated = (await folders.AddFolderAsync("Example/Moderated", "example.moderated", null, CancellationToken.None)).Value!;
        Assert.Equal(StoreStatus.Ok, await folders.SetModerationAsync(moderated.Id, true, "moderator@example.test", CancellationToken.None));
        var readOnly = (await folders.AddFolderAsync("Example/Readonly", "example.readonly", null, CancellationToken.None)).Value!;
        Assert.Equal(StoreStatus.Ok, await folders.SetPermissionAsync(readOnly.Id, PublicFolderPrincipals.Authenticated, PublicFolderRights.Read, CancellationToken.None));

        // A logged-on reader offers throwaway articles under Message-IDs it wants to block; each is refused for a reason
        // that depends on who offers it, or for a flaw of its own.
        await using (var reader = await NntpTestClient.ConnectAsync(server.Port()))
        {
            Assert.StartsWith("281", await reader.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
            Assert.StartsWith("335", await reader.CommandAsync("IHAVE <poison1@peer.test>"));
            Assert.StartsWith("437", await reader.SendArticleAsync(TransitArticle("<poison1@peer.test>", "example.moderated")));
            Assert.StartsWith("335", await reader.CommandAsync("IHAVE <poison2@peer.test>"));
            Assert.StartsWith("437", await reader.SendArticleAsync(TransitArticle("<poison2@peer.test>", "example.readonly")));
            Assert.StartsWith("335", await reader.CommandAsync("IHAVE <poison3@peer.test>"));
            Assert.StartsWith("437", await reader.SendArticleAsync("From: a@b.test\nNewsgroups: example.general\nSubject: x\nMessage-ID: <poison3@peer.test>\n\nbody\n"));
            Assert.StartsWith("203", await reader.CommandAsync("MODE STREAM"));
            Assert.Equal("439 <poison4@peer.test>", await reader.SendArticleAsync("TAKETHIS <poison4@peer.test>\r\n" + TransitArticle("<poison4@peer.test>", "example.readonly")));
            foreach (var id in new[] { "<poison1@peer.test>", "<poison2@peer.test>", "<poison3@peer.test>", "<poison4@peer.test>" })
            {
                Assert.Equal($"238 {id}", await reader.CommandAsync("CHECK " + id));
            }
        }

        // The genuine articles, from a configured peer, are still taken.
        await AddFeedingPeerAsync(server);
        await using var peer = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("335", await peer.CommandAsync("IHAVE <poison1@peer.test>"));
        Assert.StartsWith("235", await peer.SendArticleAsync(TransitArticle("<poison1@peer.test>", "example.moderated").Replace("Subject: Relayed\n", "Subject: Relayed\nApproved: moderator@example.test\n", StringComparison.Ordinal)));
        foreach (var (id, group) in new[] { ("<poison2@peer.test>", "example.readonly"), ("<poison3@peer.test>", "example.general"), ("<poison4@peer.test>", "example.readonly") })
        {
            Assert.StartsWith("335", await peer.CommandAsync("IHAVE " + id));
            Assert.StartsWith("235", await peer.SendArticleAsync(TransitArticle(id, group)));
        }
    }

    [Fact]
    public async Task A_peer_known_by_address_feeds_only_when_it_feeds_us_only_its_groups_and_reads_as_anonymous()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        Assert.True((await folders.AddFolderAsync("Example/Secret", "example.secret", null, CancellationToken.None)).IsOk);
        await using (var author = await NntpTestClient.ConnectAsync(server.Port()))
        {
            Assert.StartsWith("281", await author.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
            Assert.StartsWith("240", await author.PostAsync(NntpTestServer.Article(newsgroups: "example.secret", messageId: "<secret@example.test>")));
        }

        // A push peer only receives our feed: its address lets it feed nothing.
        await AddFeedingPeerAsync(server, "example.general", NewsFeedDirection.Push);
        await using (var pushPeer = await NntpTestClient.ConnectAsync(server.Port()))
        {
            // It is told why, so the administrator on its side can see what to change.
            var refused = await pushPeer.CommandAsync("IHAVE <from-push-peer@peer.test>");
            Assert.StartsWith("480", refused);
            Assert.Contains("receive our feed only (--direction push)", refused, StringComparison.Ordinal);
        }

        Assert.True(await folders.RemovePeerAsync("news.peer.test", CancellationToken.None));
        await AddFeedingPeerAsync(server, "example.general", NewsFeedDirection.Pull);
        await using var peer = await NntpTestClient.ConnectAsync(server.Port());

        // Into a group outside its wildmat: refused as INN refuses what incoming.conf does not let a peer send.
        Assert.StartsWith("335", await peer.CommandAsync("IHAVE <unwanted@peer.test>"));
        Assert.Equal("437 Unwanted newsgroup", await peer.SendArticleAsync(TransitArticle("<unwanted@peer.test>", "example.secret")));

        // A cross-post is filed only in the groups the peer feeds.
        Assert.StartsWith("335", await peer.CommandAsync("IHAVE <cross@peer.test>"));
        Assert.StartsWith("235", await peer.SendArticleAsync(TransitArticle("<cross@peer.test>", "example.general,example.secret")));
        var copy = Assert.Single(await folders.FindByMessageIdAsync("<cross@peer.test>", CancellationToken.None));
        Assert.Equal((await folders.FindNewsgroupAsync("example.general", CancellationToken.None))!.Id, copy.FolderId);

        // Its cancel cannot reach an article in a group it does not feed.
        Assert.StartsWith("335", await peer.CommandAsync("IHAVE <cancel-secret@peer.test>"));
        Assert.StartsWith("437", await peer.SendArticleAsync(TransitArticle("<cancel-secret@peer.test>").Replace("Subject: Relayed\n", "Subject: cmsg cancel\nControl: cancel <secret@example.test>\n", StringComparison.Ordinal)));
        Assert.Single(await folders.FindByMessageIdAsync("<secret@example.test>", CancellationToken.None));

        // No reader access beyond an anonymous client's.
        Assert.StartsWith("480", await peer.CommandAsync("GROUP example.secret"));
        Assert.StartsWith("430", await peer.CommandAsync("ARTICLE <secret@example.test>"));
    }

    [Fact]
    public async Task A_cross_post_naming_a_group_the_poster_may_not_post_to_is_refused_whole()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var readOnly = (await folders.AddFolderAsync("Example/Readonly", "example.readonly", null, CancellationToken.None)).Value!;
        Assert.Equal(StoreStatus.Ok, await folders.SetPermissionAsync(readOnly.Id, PublicFolderPrincipals.Authenticated, PublicFolderRights.Read, CancellationToken.None));
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));

        // As INN's nnrpd: filing it in example.general alone would leave example.readonly in Newsgroups for the peers.
        Assert.Equal("441 You are not allowed to post to example.readonly",
            await client.PostAsync(NntpTestServer.Article(newsgroups: "example.general, example.readonly", messageId: "<cross-post@example.test>")));
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <cross-ihave@peer.test>"));
        Assert.Equal("437 You are not allowed to post to example.readonly", await client.SendArticleAsync(TransitArticle("<cross-ihave@peer.test>", "example.general,example.readonly")));
        Assert.Empty(await folders.FindByMessageIdAsync("<cross-post@example.test>", CancellationToken.None));
        Assert.Empty(await folders.FindByMessageIdAsync("<cross-ihave@peer.test>", CancellationToken.None));

        // A group that does not exist here is still left out, as INN does.
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(newsgroups: "example.general,example.elsewhere", messageId: "<cross-unknown@example.test>")));
    }

    [Theory]
    [InlineData(null, 48, false)]
    [InlineData(null, 23, true)]
    [InlineData("72", 48, true)]
    [InlineData("0", 1, false)]
    public async Task An_article_dated_past_the_allowance_is_refused_as_posted_in_the_future(string? allowanceHours, int hoursAhead, bool accepted)
    {
        var settings = allowanceHours is null ? null : new Dictionary<string, string> { [NntpDefaults.FutureDateAllowanceHoursSetting] = allowanceHours };
        await using var server = await NntpTestServer.StartAsync(NntpTestServer.Config(settings: settings));
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        var date = MimeKit.Utils.DateUtils.FormatDate(DateTimeOffset.UtcNow.AddHours(hoursAhead));
        string Dated(string article) => article.Replace("Date: Fri, 27 Nov 2026 10:00:00 +0000\n", "", StringComparison.Ordinal).Replace("Subject: ", $"Date: {date}\nSubject: ", StringComparison.Ordinal);

        var posted = await client.PostAsync(Dated(NntpTestServer.Article(messageId: "<future-post@example.test>")));
        Assert.Equal(accepted ? "240" : "441 Article posted in the future", accepted ? posted[..3] : posted);
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <future-ihave@peer.test>"));
        var offered = await client.SendArticleAsync(Dated(TransitArticle("<future-ihave@peer.test>")));
        Assert.Equal(accepted ? "235" : "437 Article posted in the future", accepted ? offered[..3] : offered);
        Assert.StartsWith("203", await client.CommandAsync("MODE STREAM"));
        Assert.Equal((accepted ? "239" : "439") + " <future-takethis@peer.test>", await client.SendArticleAsync("TAKETHIS <future-takethis@peer.test>\r\n" + Dated(TransitArticle("<future-takethis@peer.test>"))));
    }

    [Fact]
    public async Task AuthInfoPassTakesThePasswordVerbatimAndAnEmptySaslPlainResponseFails()
    {
        await using var server = await NntpTestServer.StartAsync();
        const string Spaced = "pass with  spaces ";
        Assert.True((await server.Store.Directory.AddAccountAsync("spaced@example.test", Spaced, CancellationToken.None)).IsOk);
        await using (var client = await NntpTestClient.ConnectAsync(server.Port()))
        {
            // RFC 4643 §2.3: everything after "AUTHINFO PASS " is the password, its double and trailing spaces too.
            Assert.StartsWith("381", await client.CommandAsync("AUTHINFO USER spaced@example.test"));
            Assert.StartsWith("481", await client.CommandAsync("AUTHINFO PASS pass with spaces"));
            Assert.StartsWith("381", await client.CommandAsync("AUTHINFO USER spaced@example.test"));
            Assert.StartsWith("281", await client.CommandAsync("AUTHINFO PASS " + Spaced));
        }

        await using (var client = await NntpTestClient.ConnectAsync(server.Port()))
        {
            // RFC 4643 §2.4.1: "=" is the empty initial response, valid base64: a failed PLAIN exchange (481), not 504.
            Assert.StartsWith("481", await client.CommandAsync("AUTHINFO SASL PLAIN ="));
            Assert.StartsWith("504", await client.CommandAsync("AUTHINFO SASL PLAIN !!!"));
            Assert.Equal("383 ", await client.CommandAsync("AUTHINFO SASL PLAIN"));
            Assert.StartsWith("481", await client.CommandAsync("="));
        }
    }

    [Fact]
    public async Task IHaveStoresOnceAndAnswers435437()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using (var anonymous = await NntpTestClient.ConnectAsync(server.Port()))
        {
            Assert.StartsWith("480", await anonymous.CommandAsync("IHAVE <t1@peer.test>"));
        }

        // From a configured peer's address, without AUTHINFO: refusals about the article are remembered.
        await AddFeedingPeerAsync(server);
        await using var client = await NntpTestClient.ConnectAsync(server.Port());

        Assert.StartsWith("335", await client.CommandAsync("IHAVE <t1@peer.test>"));
        Assert.StartsWith("235", await client.SendArticleAsync(TransitArticle("<t1@peer.test>")));
        Assert.StartsWith("435", await client.CommandAsync("IHAVE <t1@peer.test>"));

        // Missing Date and Path: refused for good, and the refusal is remembered.
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <t2@peer.test>"));
        Assert.StartsWith("437", await client.SendArticleAsync("From: a@b.test\nNewsgroups: example.general\nSubject: x\nMessage-ID: <t2@peer.test>\n\nbody\n"));
        Assert.StartsWith("435", await client.CommandAsync("IHAVE <t2@peer.test>"));

        // Message-ID in the article differs from the one offered.
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <t3@peer.test>"));
        Assert.StartsWith("437", await client.SendArticleAsync(TransitArticle("<other@peer.test>")));
        Assert.StartsWith("501", await client.CommandAsync("IHAVE not-an-id"));

        // ... and the genuine <t3@peer.test> is still wanted afterwards (nothing was remembered for it).
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <t3@peer.test>"));
        Assert.StartsWith("235", await client.SendArticleAsync(TransitArticle("<t3@peer.test>")));

        // A header line without a colon, or a second Newsgroups: refused for good (INN answers 437 too).
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <t4@peer.test>"));
        Assert.StartsWith("437", await client.SendArticleAsync(TransitArticle("<t4@peer.test>").Replace("Subject: Relayed\n", "Subject: Relayed\nnot a header\n", StringComparison.Ordinal)));
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <t5@peer.test>"));
        Assert.StartsWith("437", await client.SendArticleAsync(TransitArticle("<t5@peer.test>").Replace("Subject: Relayed\n", "Subject: Relayed\nNewsgroups: example.other\n", StringComparison.Ordinal)));
        Assert.StartsWith("435", await client.CommandAsync("IHAVE <t5@peer.test>"));
        Assert.Empty(await server.Store.PublicFolders.FindByMessageIdAsync("<t4@peer.test>", CancellationToken.None));

        var stored = Assert.Single(await server.Store.PublicFolders.FindByMessageIdAsync("<t1@peer.test>", CancellationToken.None));
        var content = Encoding.UTF8.GetString(await server.Store.PublicFolders.ReadContentAsync(stored.BlobId, CancellationToken.None));
        Assert.StartsWith("Path: mail.example.test!news.peer.test!not-for-mail\r\n", content);
    }

    [Fact]
    public async Task TakeThisBeforeLogonOnAServerThatRequiresItHasItsArticleDiscardedNotRunAsCommands()
    {
        await using var server = await NntpTestServer.StartAsync(NntpTestServer.Config() with { RequireAuthentication = true });
        await using var client = await NntpTestClient.ConnectAsync(server.Port());

        // RFC 4644 §2.5: the article follows TAKETHIS whatever the answer; its lines are not commands (here a POST
        // and a QUIT inside the body), and the one reply comes after it.
        static string Stuffed(string article) => string.Concat(article.TrimEnd('\n').Split('\n').Select(l => (l.StartsWith('.') ? "." + l : l) + "\r\n")) + ".\r\n";
        await client.SendAsync("TAKETHIS <before-logon@peer.test>\r\n" + Stuffed(TransitArticle("<before-logon@peer.test>") + "POST\nQUIT\n") + "DATE\r\n");
        Assert.StartsWith("480", await client.ReadLineAsync());
        Assert.StartsWith("111 ", await client.ReadLineAsync());
        Assert.Empty(await server.Store.PublicFolders.FindByMessageIdAsync("<before-logon@peer.test>", CancellationToken.None));
    }

    [Fact]
    public async Task StreamingCheckAndPipelinedTakeThis()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.StartsWith("203", await client.CommandAsync("MODE STREAM"));
        Assert.Equal("238 <s1@peer.test>", await client.CommandAsync("CHECK <s1@peer.test>"));

        static string Stuffed(string article) => string.Concat(article.TrimEnd('\n').Split('\n').Select(l => (l.StartsWith('.') ? "." + l : l) + "\r\n")) + ".\r\n";
        await client.SendAsync("TAKETHIS <s1@peer.test>\r\n" + Stuffed(TransitArticle("<s1@peer.test>")) + "TAKETHIS <s2@peer.test>\r\n" + Stuffed(TransitArticle("<s2@peer.test>")) + "CHECK <s1@peer.test>\r\n");
        Assert.Equal("239 <s1@peer.test>", await client.ReadLineAsync());
        Assert.Equal("239 <s2@peer.test>", await client.ReadLineAsync());
        Assert.Equal("438 <s1@peer.test>", await client.ReadLineAsync());
        Assert.Equal("439 <s1@peer.test>", await client.SendArticleAsync("TAKETHIS <s1@peer.test>\r\n" + TransitArticle("<s1@peer.test>")));
        Assert.Equal(2, (await server.Store.PublicFolders.GetSummaryAsync((await server.Store.PublicFolders.FindNewsgroupAsync("example.general", CancellationToken.None))!.Id, CancellationToken.None)).Count);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(NntpDefaults.MaxTakeThisInFlightSetting, "1")] // one at a time: each stored before the next is read
    [InlineData(NntpDefaults.MaxTakeThisInFlightSetting, "7")]
    [InlineData(NntpDefaults.MaxTakeThisInFlightBytesSetting, "1000")] // about two articles' worth held at once
    public async Task AWindowOfPipelinedTakeThisIsStoredSideBySideAndAnsweredInOrder(string? setting, string? value)
    {
        await using var server = await NntpTestServer.StartAsync(setting is null ? null : NntpTestServer.Config(settings: new Dictionary<string, string> { [setting] = value! }));
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.StartsWith("203", await client.CommandAsync("MODE STREAM"));

        static string Stuffed(string article) => string.Concat(article.TrimEnd('\n').Split('\n').Select(l => (l.StartsWith('.') ? "." + l : l) + "\r\n")) + ".\r\n";
        var window = new StringBuilder();
        var expected = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            var id = $"<w{i}@peer.test>";
            switch (i)
            {
                case 30:
                    // No Path or Date: refused for good, in its place in the replies.
                    window.Append($"TAKETHIS {id}\r\n").Append(Stuffed($"From: a@b.test\nNewsgroups: example.general\nSubject: x\nMessage-ID: {id}\n\nbody\n"));
                    expected.Add($"439 {id}");
                    break;
                case 60:
                    // Answered at once by the session (a syntax error) only after the 59 before it.
                    window.Append("TAKETHIS not-an-id\r\n").Append(Stuffed(TransitArticle(id)));
                    expected.Add("501 Syntax: TAKETHIS message-id");
                    break;
                default:
                    window.Append($"TAKETHIS {id}\r\n").Append(Stuffed(TransitArticle(id)));
                    expected.Add($"239 {id}");
                    break;
            }
        }

        window.Append("CHECK <w99@peer.test>\r\nDATE\r\n");
        expected.Add("438 <w99@peer.test>");
        await client.SendAsync(window.ToString());
        foreach (var reply in expected)
        {
            Assert.Equal(reply, await client.ReadLineAsync());
        }

        Assert.StartsWith("111 ", await client.ReadLineAsync());
        var group = (await server.Store.PublicFolders.FindNewsgroupAsync("example.general", CancellationToken.None))!;
        Assert.Equal(98, (await server.Store.PublicFolders.GetSummaryAsync(group.Id, CancellationToken.None)).Count);
        Assert.Empty(await server.Store.PublicFolders.FindByMessageIdAsync("<w30@peer.test>", CancellationToken.None));
        Assert.Single(await server.Store.PublicFolders.FindByMessageIdAsync("<w99@peer.test>", CancellationToken.None));
    }

    [Fact]
    public async Task OpenSslStartTlsNntpClientCompletesTheHandshake()
    {
        if (!OpenSslSupportsNntp())
        {
            return;
        }

        await using var server = await NntpTestServer.StartAsync();
        var caFile = Path.Combine(server.DataDirectory, "root.pem");
        await File.WriteAllTextAsync(caFile, TestCertificates.Shared.Root.ExportCertificatePem());
        var start = new ProcessStartInfo("openssl", ["s_client", "-starttls", "nntp", "-connect", $"127.0.0.1:{server.Port()}", "-servername", "localhost", "-CAfile", caFile, "-verify_return_error", "-quiet"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync("DATE\r\nQUIT\r\n");
        await process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.Contains("111 ", output);
        Assert.Contains("205 ", output);
        Assert.DoesNotContain("verify error", errors);
    }

    private static bool OpenSslSupportsNntp()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("openssl", ["s_client", "-help"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var help = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return help.Contains("starttls", StringComparison.OrdinalIgnoreCase);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
