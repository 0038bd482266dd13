using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Imap;

/// <summary>A real client (MailKit) against the whole IMAP virtual server.</summary>
public sealed class ImapMailKitTests
{
    private const string Sample = """
        From: Bob Example <bob@example.test>
        To: Alice <alice@example.test>, "Group Member" <member@example.test>
        Subject: =?UTF-8?B?R3LDvMOfZQ==?=
        Date: Fri, 27 Nov 2026 10:00:00 +0000
        Message-ID: <sample-1@example.test>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        --b1
        Content-Type: text/plain; charset=utf-8

        Hello Alice, the quarterly report is attached.
        --b1
        Content-Type: application/octet-stream; name="report.bin"
        Content-Disposition: attachment; filename="report.bin"
        Content-Transfer-Encoding: base64

        AAECAwQFBgc=
        --b1--

        """;

    [Fact]
    public async Task Login_capabilities_and_folders()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        Assert.True(client.IsAuthenticated);
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.UidPlus));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Move));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Idle));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.CondStore));

        var personal = client.GetFolder(client.PersonalNamespaces[0]);
        var folders = await personal.GetSubfoldersAsync(false);
        Assert.Contains(folders, f => f.Name == "Sent" && f.Attributes.HasFlag(FolderAttributes.Sent));
        Assert.Contains(folders, f => f.Name == "Trash" && f.Attributes.HasFlag(FolderAttributes.Trash));
        Assert.Equal(FolderAttributes.Sent, client.GetFolder(SpecialFolder.Sent)!.Attributes & FolderAttributes.Sent);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task Wrong_password_is_refused()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync(login: false);
        await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync(ImapTestServer.User, "wrong"));
    }

    [Fact]
    public async Task Append_then_fetch_summaries_and_parts()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        var inbox = client.Inbox;
        var uid = await inbox.AppendAsync(new AppendRequest(MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Sample.ReplaceLineEndings("\r\n")))), MessageFlags.Flagged));
        Assert.NotNull(uid);

        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.Equal(1, inbox.Count);
        var summaries = await inbox.FetchAsync(0, -1, MessageSummaryItems.Envelope | MessageSummaryItems.BodyStructure | MessageSummaryItems.Flags |
            MessageSummaryItems.UniqueId | MessageSummaryItems.Size | MessageSummaryItems.InternalDate | MessageSummaryItems.ModSeq);
        var summary = Assert.Single(summaries);
        Assert.Equal(uid, summary.UniqueId);
        Assert.NotNull(summary.Envelope);
        Assert.Equal("Grüße", summary.Envelope.Subject);
        Assert.Equal("bob@example.test", summary.Envelope.From.Mailboxes.Single().Address);
        Assert.Equal("Bob Example", summary.Envelope.From.Mailboxes.Single().Name);
        Assert.Equal(2, summary.Envelope.To.Count);
        Assert.Equal("sample-1@example.test", summary.Envelope.MessageId);
        Assert.True(summary.Flags!.Value.HasFlag(MessageFlags.Flagged));
        Assert.False(summary.Flags!.Value.HasFlag(MessageFlags.Seen));
        Assert.NotNull(summary.ModSeq);

        var body = Assert.IsType<BodyPartMultipart>(summary.Body);
        Assert.Equal(2, body.BodyParts.Count);
        var text = Assert.IsType<BodyPartText>(body.BodyParts[0]);
        Assert.True(text.ContentType.IsMimeType("text", "plain"));
        var attachment = Assert.Single(summary.Attachments);
        Assert.Equal("report.bin", attachment.FileName);

        // BODY.PEEK of a part, decoded by MailKit from the base64 the server sends byte-exact.
        var part = (MimePart)await inbox.GetBodyPartAsync(summary.UniqueId, attachment);
        using var decoded = new MemoryStream();
        await part.Content!.DecodeToAsync(decoded);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 5, 6, 7 }, decoded.ToArray());

        // The whole message comes back byte for byte (MailKit peeks, so \Seen stays off).
        var message = await inbox.GetMessageAsync(summary.UniqueId);
        Assert.Equal("Grüße", message.Subject);
        Assert.Contains("quarterly report", message.TextBody, StringComparison.Ordinal);
        var flags = await inbox.FetchAsync([summary.UniqueId], MessageSummaryItems.Flags);
        Assert.False(flags[0].Flags!.Value.HasFlag(MessageFlags.Seen));
    }

    [Fact]
    public async Task Preview_text_headers_and_references()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", Sample);
        await server.DeliverAsync("INBOX", "Subject: reply\r\nReferences: <sample-1@example.test>\r\nIn-Reply-To: <sample-1@example.test>\r\n\r\nThanks for the report.\r\n");
        using var client = await server.ConnectAsync();
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var summaries = await client.Inbox.FetchAsync(0, -1, MessageSummaryItems.PreviewText | MessageSummaryItems.Headers | MessageSummaryItems.References |
            MessageSummaryItems.UniqueId);
        Assert.Equal(2, summaries.Count);
        Assert.StartsWith("Hello Alice, the quarterly report", summaries[0].PreviewText, StringComparison.Ordinal);
        Assert.Equal("Thanks for the report.", summaries[1].PreviewText);
        Assert.Equal("sample-1@example.test", summaries[1].References!.Single());
        Assert.Equal("reply", summaries[1].Headers![HeaderId.Subject]);
        var text = await client.Inbox.GetBodyPartAsync(summaries[0].UniqueId, new BodyPartBasic(new ContentType("text", "plain"), "1"));
        Assert.Contains("quarterly report", ((TextPart)text).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_store_copy_move_expunge()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: alpha report\r\n\r\nfirst body\r\n");
        await server.DeliverAsync("INBOX", "From: b@example.test\r\nSubject: beta\r\n\r\nsecond body mentions report\r\n");
        await server.DeliverAsync("INBOX", "From: c@example.test\r\nSubject: gamma\r\n\r\nthird\r\n", Postern.Store.MessageFlags.Seen);

        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.Equal(3, inbox.Count);

        Assert.Equal(2, (await inbox.SearchAsync(SearchQuery.NotSeen)).Count);
        Assert.Single(await inbox.SearchAsync(SearchQuery.SubjectContains("ALPHA")));
        Assert.Equal(2, (await inbox.SearchAsync(SearchQuery.BodyContains("report").Or(SearchQuery.SubjectContains("report")))).Count);
        Assert.Single(await inbox.SearchAsync(SearchQuery.FromContains("b@example")));
        var all = await inbox.SearchAsync(SearchQuery.All);
        Assert.Equal(3, all.Count);

        await inbox.AddFlagsAsync(all[0], MessageFlags.Deleted | MessageFlags.Answered, silent: false);
        Assert.Equal([all[0]], await inbox.SearchAsync(SearchQuery.Deleted));
        await inbox.AddLabelsOrKeywords(inbox, all[1]);

        var archive = client.GetFolder("Archive");
        var copied = await inbox.CopyToAsync(all[1], archive);
        Assert.NotNull(copied);
        var moved = await inbox.MoveToAsync(all[2], archive);
        Assert.NotNull(moved);
        Assert.Equal(2, inbox.Count);

        await inbox.ExpungeAsync();
        Assert.Equal(1, inbox.Count);
        await archive.StatusAsync(StatusItems.Count | StatusItems.Unread);
        Assert.Equal(2, archive.Count);
        Assert.Equal(1, archive.Unread);
    }

    [Fact]
    public async Task Idle_reports_new_mail()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal(0, inbox.Count);

        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var arrived = new TaskCompletionSource();
        inbox.CountChanged += (_, _) =>
        {
            if (inbox.Count == 1)
            {
                arrived.TrySetResult();
                done.Cancel();
            }
        };
        var idle = client.IdleAsync(done.Token);
        await Task.Delay(300);
        await server.DeliverAsync("INBOX", "Subject: pushed\r\n\r\nbody\r\n");
        await idle;
        Assert.True(arrived.Task.IsCompleted);
        Assert.Equal(1, inbox.Count);
    }

    [Fact]
    public async Task Create_rename_delete_and_subscriptions()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        var personal = client.GetFolder(client.PersonalNamespaces[0]);
        var projects = await personal.CreateAsync("Prøjects", true) ?? throw new InvalidOperationException();
        var child = await projects.CreateAsync("2026", true) ?? throw new InvalidOperationException();
        Assert.Equal("Prøjects/2026", child.FullName);
        await projects.SubscribeAsync();
        var names = (await personal.GetSubfoldersAsync(false)).Select(f => f.Name).ToList();
        Assert.Contains("Prøjects", names);
        Assert.Contains(await personal.GetSubfoldersAsync(true), f => f.Name == "Prøjects");

        await child.RenameAsync(projects, "Done");
        Assert.Contains(await projects.GetSubfoldersAsync(false), f => f.Name == "Done");
        await projects.GetSubfolder("Done").DeleteAsync();
        Assert.DoesNotContain(await projects.GetSubfoldersAsync(false), f => f.Name == "Done");
    }

    [Fact]
    public async Task A_mailbox_deleted_and_created_again_never_shows_the_old_messages()
    {
        await using var server = await ImapTestServer.StartAsync();
        using (var first = await server.ConnectAsync())
        {
            var old = await first.GetFolder(first.PersonalNamespaces[0]).CreateAsync("Reused", true) ?? throw new InvalidOperationException("CREATE failed");
            await old.AppendAsync(MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes("Subject: old one\r\n\r\n" + new string('x', 300) + "\r\n"))));
            await old.AppendAsync(MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes("Subject: old two\r\n\r\n" + new string('y', 600) + "\r\n"))));

            // Selecting publishes the mailbox's message list for other sessions to share; it outlives the session.
            await old.OpenAsync(FolderAccess.ReadWrite);
            Assert.Equal(2, old.Count);
            await first.DisconnectAsync(true);
        }

        // Deleted, then created again under the same name with as many changes (the same HIGHESTMODSEQ): it must get an
        // id of its own, or the list shared under the old id, with the old sizes and flags, is served for it.
        using var second = await server.ConnectAsync();
        var personal = second.GetFolder(second.PersonalNamespaces[0]);
        await (await personal.GetSubfolderAsync("Reused")).DeleteAsync();
        var recreated = await personal.CreateAsync("Reused", true) ?? throw new InvalidOperationException("CREATE failed");
        await recreated.AppendAsync(MimeMessage.Load(new MemoryStream("Subject: new one\r\n\r\n1\r\n"u8.ToArray())));
        await recreated.AppendAsync(MimeMessage.Load(new MemoryStream("Subject: new two\r\n\r\n2\r\n"u8.ToArray())));

        await recreated.OpenAsync(FolderAccess.ReadOnly);
        var summaries = await recreated.FetchAsync(0, -1, MessageSummaryItems.Envelope | MessageSummaryItems.Size);
        Assert.Equal(["new one", "new two"], summaries.Select(s => s.Envelope?.Subject));
        Assert.All(summaries, s => Assert.True(s.Size < 40, $"RFC822.SIZE {s.Size} is an old message's"));
    }

    [Fact]
    public async Task Compress_deflate_keeps_the_session_working()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: squeezed\r\n\r\n" + string.Concat(Enumerable.Repeat("compressible text ", 2000)) + "\r\n");
        using var client = await server.ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Compress));
        await client.CompressAsync();
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var message = await client.Inbox.GetMessageAsync(0);
        Assert.Equal("squeezed", message.Subject);
        Assert.Contains("compressible text compressible text", message.TextBody, StringComparison.Ordinal);
        await client.NoOpAsync();
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task A_corrupt_deflate_stream_after_compress_ends_the_session_quietly_and_others_go_on()
    {
        using var log = new RecordingLoggerFactory();
        await using var server = await ImapTestServer.StartAsync(loggerFactory: log);
        using (var raw = await server.ConnectRawAsync())
        {
            await raw.SendAsync($"a LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n");
            Assert.StartsWith("a OK", (await raw.ReadUntilTaggedAsync("a"))[^1], StringComparison.Ordinal);
            await raw.SendAsync("b COMPRESS DEFLATE\r\n");
            Assert.StartsWith("b OK", (await raw.ReadUntilTaggedAsync("b"))[^1], StringComparison.Ordinal);

            // A deflate block with the reserved block type 3: no inflater can read past it.
            await raw.SendAsync([0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            Assert.Null(await raw.ReadLineAsync());
        }

        using var client = await server.ConnectAsync();
        await client.NoOpAsync();
        Assert.DoesNotContain(log.Entries, e => e.EventId == 2003);
    }

    [Fact]
    public async Task Quick_resync_and_esearch_with_mailkit()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await server.DeliverAsync("INBOX", $"Subject: r{i}\r\n\r\nbody {i}\r\n");
        }

        uint validity;
        ulong highest;
        IList<UniqueId> known;
        using (var first = await server.ConnectAsync())
        {
            await first.Inbox.OpenAsync(FolderAccess.ReadWrite);
            validity = first.Inbox.UidValidity;
            highest = first.Inbox.HighestModSeq;
            known = await first.Inbox.SearchAsync(SearchQuery.All);

            var esearch = await first.Inbox.SearchAsync(SearchOptions.All | SearchOptions.Count | SearchOptions.Min | SearchOptions.Max, SearchQuery.All);
            Assert.Equal(5, esearch.Count);
            Assert.Equal(known[0], esearch.Min);
            Assert.Equal(known[^1], esearch.Max);

            await first.Inbox.AddFlagsAsync(known[0], MessageFlags.Deleted, true);
            await first.Inbox.ExpungeAsync();
            await first.Inbox.AddFlagsAsync(known[3], MessageFlags.Flagged, true);
            await first.DisconnectAsync(true);
        }

        using var client = await server.ConnectAsync();
        await client.EnableQuickResyncAsync();
        var vanished = new List<UniqueId>();
        var changed = new List<int>();
        client.Inbox.MessagesVanished += (_, e) => vanished.AddRange(e.UniqueIds);
        client.Inbox.MessageFlagsChanged += (_, e) => changed.Add(e.Index);
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite, validity, highest, known);
        Assert.Equal([known[0]], vanished);
        Assert.Equal([2], changed);
        Assert.Equal(4, client.Inbox.Count);

        var sinceChanges = await client.Inbox.FetchAsync(0, -1, highest, MessageSummaryItems.Flags | MessageSummaryItems.UniqueId);
        Assert.Equal(known[3], Assert.Single(sinceChanges).UniqueId);
    }

    [Fact]
    public async Task Starttls_then_login()
    {
        await using var server = await ImapTestServer.StartAsync(requireSecureChannel: true);
        using var client = new ImapClient { ServerCertificateValidationCallback = TestCertificates.Shared.Validate };
        await client.ConnectAsync("127.0.0.1", server.PlainPort, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        await client.AuthenticateAsync(ImapTestServer.User, ImapTestServer.Password);
        Assert.True(client.IsAuthenticated);
    }

    [Fact]
    public async Task Implicit_tls()
    {
        await using var server = await ImapTestServer.StartAsync(requireSecureChannel: true);
        using var client = new ImapClient { ServerCertificateValidationCallback = TestCertificates.Shared.Validate };
        await client.ConnectAsync("127.0.0.1", server.TlsPort, SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(ImapTestServer.User, ImapTestServer.Password);
        Assert.True(client.IsAuthenticated);
    }
}

internal static class ImapFolderTestExtensions
{
    public static async Task AddLabelsOrKeywords(this IMailFolder folder, IMailFolder _, UniqueId uid) =>
        await folder.StoreAsync(uid, new StoreFlagsRequest(StoreAction.Add, ["$Important"]) { Silent = true });
}
