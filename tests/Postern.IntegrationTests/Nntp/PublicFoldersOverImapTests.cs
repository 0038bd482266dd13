using System.Net.Sockets;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using Postern.IntegrationTests.Imap;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Imap;
using Postern.Server.Nntp;
using Postern.Store;
using MessageFlags = MailKit.MessageFlags;

namespace Postern.IntegrationTests.Nntp;

/// <summary>Public folders seen over IMAP (shared namespace "Public Folders/") and NNTP at once.</summary>
public sealed class PublicFoldersOverImapTests
{
    private const string ImapName = "IMAP";
    private const string Poster = "alice@example.test";
    private const string Reader = "bob@example.test";
    private const string Password = "correct horse";
    private const string FolderName = "Public Folders/Example/General";

    private static async Task<InProcessServer> StartAsync()
    {
        var server = await InProcessServer.StartAsync(ctx => [new ImapProtocolHandler(ctx), new NntpProtocolHandler(ctx)],
        [
            new VirtualServer
            {
                Name = ImapName,
                Protocol = ServiceProtocol.Imap,
                Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls)],
                Security = new SecurityOptions { AllowPlaintextAuthentication = true },
                Limits = new ConnectionLimits { MaxMessageSize = 1024 * 1024, MaxBadCommands = 20 },
            },
            NntpTestServer.Config(),
        ]);
        await server.Store.Directory.AddDomainAsync("example.test", CancellationToken.None);
        Assert.True((await server.Store.Directory.AddAccountAsync(Poster, Password, CancellationToken.None)).IsOk);
        Assert.True((await server.Store.Directory.AddAccountAsync(Reader, Password, CancellationToken.None)).IsOk);
        var folder = await server.Store.PublicFolders.AddFolderAsync("Example/General", "example.general", "General discussion", CancellationToken.None);
        Assert.True(folder.IsOk, folder.Message);

        // Everyone logged on may read and post (the default); Bob may only read.
        Assert.Equal(StoreStatus.Ok, await server.Store.PublicFolders.SetPermissionAsync(folder.Value!.Id, Reader, PublicFolderRights.Read, CancellationToken.None));
        return server;
    }

    private static async Task<ImapClient> ImapAsync(InProcessServer server, string user)
    {
        var client = new ImapClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(ImapName, BindingMode.StartTls), SecureSocketOptions.None);
        await client.AuthenticateAsync(user, Password);
        return client;
    }

    private static async Task<NntpTestClient> NntpAsync(InProcessServer server, string user)
    {
        var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(user, Password));
        return client;
    }

    private static async Task<RawImapClient> RawImapAsync(InProcessServer server, string user)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.PortOf(ImapName, BindingMode.StartTls));
        var raw = new RawImapClient(tcp);
        Assert.StartsWith("* OK", await raw.ReadLineAsync(), StringComparison.Ordinal);
        await raw.SendAsync($"l LOGIN {user} \"{Password}\"\r\n");
        Assert.StartsWith("l OK", (await raw.ReadUntilTaggedAsync("l"))[^1], StringComparison.Ordinal);
        return raw;
    }

    [Fact]
    public async Task An_article_appended_over_imap_without_a_final_line_break_has_the_bytes_article_sends()
    {
        await using var server = await StartAsync();
        using (var imap = await RawImapAsync(server, Poster))
        {
            // MailKit always ends what it appends with a line break, so this APPEND is written by hand.
            var message = "From: alice@example.test\r\nSubject: No final line break\r\nMessage-ID: <unended@example.test>\r\n\r\nfirst\nlast"u8.ToArray();
            await imap.SendAsync($"a APPEND \"{FolderName}\" {{{message.Length}+}}\r\n");
            await imap.SendAsync([.. message, .. "\r\n"u8]);
            Assert.StartsWith("a OK", (await imap.ReadUntilTaggedAsync("a"))[^1], StringComparison.Ordinal);
        }

        await using var nntp = await NntpAsync(server, Poster);
        Assert.StartsWith("211", await nntp.CommandAsync("GROUP example.general"));
        Assert.StartsWith("220", await nntp.CommandAsync("ARTICLE <unended@example.test>"));
        var article = await nntp.ReadBlockAsync();
        var octets = article.Sum(line => Encoding.UTF8.GetByteCount(line) + 2);

        // RFC 3977 §8.4.2: :bytes counts the article as ARTICLE sends it, every line ending in CRLF.
        Assert.StartsWith("225", await nntp.CommandAsync("HDR :bytes <unended@example.test>"));
        Assert.Equal([$"0 {octets}"], await nntp.ReadBlockAsync());
        Assert.StartsWith("224", await nntp.CommandAsync("OVER <unended@example.test>"));
        Assert.Equal(octets.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(await nntp.ReadBlockAsync()).Split('\t')[6]);
    }

    [Fact]
    public async Task Article_posted_over_nntp_is_read_over_imap_in_the_shared_namespace()
    {
        await using var server = await StartAsync();
        await using (var nntp = await NntpAsync(server, Poster))
        {
            Assert.StartsWith("240", await nntp.PostAsync(NntpTestServer.Article(subject: "Welcome", messageId: "<welcome@example.test>")));
        }

        using var imap = await ImapAsync(server, Poster);
        var shared = Assert.Single(imap.SharedNamespaces);
        Assert.Equal('/', shared.DirectorySeparator);
        Assert.Equal("Public Folders", shared.Path.TrimEnd('/'));
        Assert.Contains(await imap.GetFoldersAsync(shared), f => f.FullName == FolderName);

        var folder = await imap.GetFolderAsync(FolderName);
        await folder.OpenAsync(FolderAccess.ReadWrite);
        var stored = await server.Store.PublicFolders.GetFolderAsync("Example/General", CancellationToken.None);
        Assert.Equal((uint)stored!.UidValidity, folder.UidValidity);
        Assert.Equal(1, folder.Count);
        var message = await folder.GetMessageAsync(new UniqueId(1));
        Assert.Equal("Welcome", message.Subject);
        Assert.Equal("welcome@example.test", message.MessageId);
        Assert.Equal([new UniqueId(1)], await folder.SearchAsync(SearchQuery.SubjectContains("Welcome")));

        // \Seen is the account's own: Alice reads it, Bob still sees it unread.
        await folder.AddFlagsAsync(new UniqueId(1), MessageFlags.Seen | MessageFlags.Flagged, true);
        await folder.CloseAsync();
        var status = await imap.GetFolderAsync(FolderName);
        await status.StatusAsync(StatusItems.Unread | StatusItems.Count);
        Assert.Equal(0, status.Unread);
        await folder.OpenAsync(FolderAccess.ReadOnly);
        var summary = Assert.Single(await folder.FetchAsync(0, -1, MessageSummaryItems.Flags | MessageSummaryItems.UniqueId));
        Assert.Equal(MessageFlags.Seen | MessageFlags.Flagged, summary.Flags!.Value & (MessageFlags.Seen | MessageFlags.Flagged));

        using var bob = await ImapAsync(server, Reader);
        var bobs = await bob.GetFolderAsync(FolderName);
        await bobs.StatusAsync(StatusItems.Unread | StatusItems.Count);
        Assert.Equal(1, bobs.Count);
        Assert.Equal(1, bobs.Unread);
    }

    [Fact]
    public async Task Recent_in_a_public_folder_goes_to_the_first_read_write_session_of_any_account()
    {
        // RFC 3501 §2.3.2: \Recent belongs to the mailbox, here the shared folder, not to an account.
        await using var server = await StartAsync();
        await using (var nntp = await NntpAsync(server, Poster))
        {
            Assert.StartsWith("240", await nntp.PostAsync(NntpTestServer.Article(subject: "One", messageId: "<r1@example.test>")));
            Assert.StartsWith("240", await nntp.PostAsync(NntpTestServer.Article(subject: "Two", messageId: "<r2@example.test>")));
        }

        using var looker = await RawImapAsync(server, Reader);
        await looker.SendAsync($"e1 EXAMINE \"{FolderName}\"\r\n");
        Assert.Contains("* 2 RECENT", await looker.ReadUntilTaggedAsync("e1"));

        using var first = await RawImapAsync(server, Poster);
        await first.SendAsync($"a1 SELECT \"{FolderName}\"\r\na2 SEARCH RECENT\r\n");
        Assert.Contains("* 2 RECENT", await first.ReadUntilTaggedAsync("a1"));
        Assert.Equal(["* SEARCH 1 2", "a2 OK SEARCH completed"], await first.ReadUntilTaggedAsync("a2"));

        using var second = await RawImapAsync(server, Reader);
        await second.SendAsync($"b1 SELECT \"{FolderName}\"\r\n");
        Assert.Contains("* 0 RECENT", await second.ReadUntilTaggedAsync("b1"));

        await using (var nntp = await NntpAsync(server, Poster))
        {
            Assert.StartsWith("240", await nntp.PostAsync(NntpTestServer.Article(subject: "Three", messageId: "<r3@example.test>")));
        }

        await second.SendAsync("b3 NOOP\r\n");
        Assert.Equal(["* 3 EXISTS", "* 1 RECENT", "b3 OK NOOP completed"], await second.ReadUntilTaggedAsync("b3"));
        await first.SendAsync("a3 NOOP\r\n");
        Assert.Equal(["* 3 EXISTS", "* 2 RECENT", "a3 OK NOOP completed"], await first.ReadUntilTaggedAsync("a3"));
    }

    [Fact]
    public async Task Multiappend_with_one_bad_article_files_none()
    {
        // RFC 3502 §6: if any message cannot be appended, none is.
        await using var server = await StartAsync();
        using var imap = await ImapAsync(server, Poster);
        var folder = await imap.GetFolderAsync(FolderName);
        MimeMessage Load(string raw) => MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(raw)));
        var good = Load("From: Alice <alice@example.test>\r\nSubject: fine\r\n\r\nbody\r\n");
        var bad = Load("From: Alice <alice@example.test>\r\nSubject: broken\r\nMessage-ID: not-a-message-id\r\n\r\nbody\r\n");
        var refused = await Assert.ThrowsAsync<ImapCommandException>(() => folder.AppendAsync([new AppendRequest(good), new AppendRequest(bad)]));
        Assert.Equal(ImapCommandResponse.No, refused.Response);

        await folder.StatusAsync(StatusItems.Count);
        Assert.Equal(0, folder.Count);
        await using var nntp = await NntpAsync(server, Reader);
        Assert.StartsWith("211 0 ", await nntp.CommandAsync("GROUP example.general"));
    }

    [Fact]
    public async Task Message_appended_over_imap_becomes_an_article()
    {
        await using var server = await StartAsync();
        Assert.True((await server.Store.PublicFolders.AddPeerAsync(new NewsPeer { Name = "news.peer.test", Host = "127.0.0.1", Groups = "example.*", Direction = NewsFeedDirection.Push }, CancellationToken.None)).IsOk);
        using var imap = await ImapAsync(server, Poster);
        var folder = await imap.GetFolderAsync(FolderName);
        var raw = "From: Alice <alice@example.test>\r\nSubject: From a mail client\r\n\r\nHello from IMAP.\r\n";
        var uid = await folder.AppendAsync(MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(raw))), MessageFlags.Seen);
        Assert.Equal(new UniqueId(1), uid);

        await using var nntp = await NntpAsync(server, Reader);
        Assert.StartsWith("211 1 1 1 example.general", await nntp.CommandAsync("GROUP example.general"));
        Assert.StartsWith("220 1 <", await nntp.CommandAsync("ARTICLE 1"));
        var article = await nntp.ReadBlockAsync();
        Assert.Contains("Subject: From a mail client", article);
        Assert.Contains("Hello from IMAP.", article);
        Assert.Contains("Newsgroups: example.general", article);
        var messageId = article.Single(l => l.StartsWith("Message-ID: ", StringComparison.OrdinalIgnoreCase))["Message-ID: ".Length..];
        Assert.StartsWith("220 1 " + messageId, await nntp.CommandAsync("ARTICLE " + messageId));
        Assert.Contains("Hello from IMAP.", await nntp.ReadBlockAsync());

        // The history knows it (a peer offering it back gets a duplicate), and it waits in the push peer's feed.
        Assert.Equal(NewsHistoryState.Accepted, (await server.Store.PublicFolders.GetHistoryAsync(messageId, CancellationToken.None))!.State);
        Assert.Equal(1, await server.Store.PublicFolders.CountFeedAsync(null, CancellationToken.None));

        // A copy from INBOX is filed as an article too.
        var inbox = imap.Inbox;
        await inbox.AppendAsync(MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes("From: a@example.test\r\nSubject: Copied\r\nMessage-ID: <copied@example.test>\r\n\r\nbody\r\n"))));
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var copied = await inbox.CopyToAsync(new UniqueId(1), folder);
        Assert.Equal(new UniqueId(2), copied);
        Assert.StartsWith("220 2 <copied@example.test>", await nntp.CommandAsync("ARTICLE <copied@example.test>"));
        await nntp.ReadBlockAsync();
    }

    [Fact]
    public async Task Reader_without_post_right_gets_noperm_and_cannot_expunge()
    {
        await using var server = await StartAsync();
        using var raw = await RawImapAsync(server, Reader);
        await raw.SendAsync("n NAMESPACE\r\n");
        var ns = await raw.ReadUntilTaggedAsync("n");
        Assert.Contains("* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\"))", ns);

        await raw.SendAsync("a APPEND \"Public Folders/Example/General\" {27+}\r\nSubject: x\r\n\r\nNot allowed\r\n\r\n");
        var reply = (await raw.ReadUntilTaggedAsync("a"))[^1];
        Assert.StartsWith("a NO [NOPERM]", reply, StringComparison.Ordinal);
        Assert.Equal(0, (await server.Store.PublicFolders.GetSummaryAsync((await server.Store.PublicFolders.GetFolderAsync("Example/General", CancellationToken.None))!.Id, CancellationToken.None)).Count);

        await using (var nntp = await NntpAsync(server, Poster))
        {
            Assert.StartsWith("240", await nntp.PostAsync(NntpTestServer.Article()));
        }

        await raw.SendAsync("s SELECT \"Public Folders/Example/General\"\r\n");
        var select = await raw.ReadUntilTaggedAsync("s");
        Assert.Contains("* 1 EXISTS", select);
        Assert.StartsWith("s OK", select[^1], StringComparison.Ordinal);
        await raw.SendAsync("f STORE 1 +FLAGS (\\Deleted)\r\n");
        Assert.StartsWith("f OK", (await raw.ReadUntilTaggedAsync("f"))[^1], StringComparison.Ordinal);
        await raw.SendAsync("e EXPUNGE\r\n");
        Assert.StartsWith("e NO [NOPERM]", (await raw.ReadUntilTaggedAsync("e"))[^1], StringComparison.Ordinal);
        await raw.SendAsync("c COPY 1 INBOX\r\n");
        Assert.StartsWith("c OK", (await raw.ReadUntilTaggedAsync("c"))[^1], StringComparison.Ordinal);
        await raw.SendAsync("m MOVE 1 INBOX\r\n");
        Assert.StartsWith("m NO [NOPERM]", (await raw.ReadUntilTaggedAsync("m"))[^1], StringComparison.Ordinal);

        // A folder Bob may not read at all does not exist for him.
        var hidden = await server.Store.PublicFolders.AddFolderAsync("Staff", null, null, CancellationToken.None);
        await server.Store.PublicFolders.SetPermissionAsync(hidden.Value!.Id, PublicFolderPrincipals.Authenticated, PublicFolderRights.None, CancellationToken.None);
        await raw.SendAsync("x LIST \"\" \"Public Folders/*\"\r\n");
        var list = await raw.ReadUntilTaggedAsync("x");
        Assert.Contains(list, l => l.EndsWith("\"Public Folders/Example/General\"", StringComparison.Ordinal));
        Assert.DoesNotContain(list, l => l.Contains("Staff", StringComparison.Ordinal));
        await raw.SendAsync("y EXAMINE \"Public Folders/Staff\"\r\n");
        Assert.StartsWith("y NO", (await raw.ReadUntilTaggedAsync("y"))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acl_rights_show_clients_what_each_user_may_do()
    {
        await using var server = await StartAsync();
        var folder = (await server.Store.PublicFolders.GetFolderAsync("Example/General", CancellationToken.None))!;
        await server.Store.PublicFolders.SetPermissionAsync(folder.Id, Poster, PublicFolderRights.All, CancellationToken.None);

        using var bob = await ImapAsync(server, Reader);
        Assert.True(bob.Capabilities.HasFlag(MailKit.Net.Imap.ImapCapabilities.Acl));
        var general = await bob.GetFolderAsync(FolderName);

        // Bob reads only: his own flags (s, w, t and the obsolete d), no insert, post or expunge.
        var bobRights = await general.GetMyAccessRightsAsync();
        Assert.Equal("dlrstw", new string([.. bobRights.ToString().Order()]));
        Assert.Equal("acdeiklprstwx", new string([.. (await bob.Inbox.GetMyAccessRightsAsync()).ToString().Order()]));

        // Only an owner may read a mailbox's access list: his INBOX, not the public folder.
        var acl = await bob.Inbox.GetAccessControlListAsync();
        Assert.Equal(Reader, Assert.Single(acl).Name);
        var refused = await Assert.ThrowsAsync<ImapCommandException>(() => general.GetAccessControlListAsync());
        Assert.Equal(ImapCommandResponse.No, refused.Response);
        var set = await Assert.ThrowsAsync<ImapCommandException>(() => general.SetAccessRightsAsync(Reader, new AccessRights("lrswipte")));
        Assert.Equal(ImapCommandResponse.No, set.Response);
        Assert.Equal("dlrstw", new string([.. (await general.GetMyAccessRightsAsync()).ToString().Order()]));

        // Alice may post and moderate.
        using var alice = await ImapAsync(server, Poster);
        Assert.Equal("deilprstw", new string([.. (await (await alice.GetFolderAsync(FolderName)).GetMyAccessRightsAsync()).ToString().Order()]));
    }

    [Fact]
    public async Task Moderator_may_expunge_and_moderated_appends_wait()
    {
        await using var server = await StartAsync();
        var folder = (await server.Store.PublicFolders.GetFolderAsync("Example/General", CancellationToken.None))!;
        await server.Store.PublicFolders.SetPermissionAsync(folder.Id, Poster, PublicFolderRights.All, CancellationToken.None);
        await using (var nntp = await NntpAsync(server, Poster))
        {
            Assert.StartsWith("240", await nntp.PostAsync(NntpTestServer.Article()));
        }

        using var raw = await RawImapAsync(server, Poster);
        await raw.SendAsync("s SELECT \"Public Folders/Example/General\"\r\nf STORE 1 +FLAGS.SILENT (\\Deleted)\r\ne EXPUNGE\r\n");
        await raw.ReadUntilTaggedAsync("s");
        await raw.ReadUntilTaggedAsync("f");
        var expunge = await raw.ReadUntilTaggedAsync("e");
        Assert.Contains("* 1 EXPUNGE", expunge);
        Assert.StartsWith("e OK", expunge[^1], StringComparison.Ordinal);
        Assert.Equal(0, (await server.Store.PublicFolders.GetSummaryAsync(folder.Id, CancellationToken.None)).Count);

        await server.Store.PublicFolders.SetModerationAsync(folder.Id, moderated: true, moderator: Poster, CancellationToken.None);
        await raw.SendAsync("a APPEND \"Public Folders/Example/General\" {27+}\r\nSubject: x\r\n\r\nModerate me\r\n\r\n");
        var reply = (await raw.ReadUntilTaggedAsync("a"))[^1];
        Assert.StartsWith("a OK", reply, StringComparison.Ordinal);
        Assert.DoesNotContain("APPENDUID", reply, StringComparison.Ordinal);
        Assert.Single(await server.Store.PublicFolders.ListPendingAsync(folder.Id, CancellationToken.None));
        Assert.Equal(0, (await server.Store.PublicFolders.GetSummaryAsync(folder.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Idle_in_a_public_folder_sees_a_new_article()
    {
        await using var server = await StartAsync();
        using var imap = await ImapAsync(server, Reader);
        var folder = await imap.GetFolderAsync(FolderName);
        await folder.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal(0, folder.Count);

        var arrived = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        folder.CountChanged += (_, _) => arrived.TrySetResult(folder.Count);
        using var done = new CancellationTokenSource();
        var idle = imap.IdleAsync(done.Token);
        await Task.Delay(200);

        await using (var nntp = await NntpAsync(server, Poster))
        {
            Assert.StartsWith("240", await nntp.PostAsync(NntpTestServer.Article(subject: "Breaking")));
        }

        var count = await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        done.Cancel();
        await idle;
        Assert.Equal(1, count);
        Assert.Equal("Breaking", (await folder.GetMessageAsync(0)).Subject);
    }
}
