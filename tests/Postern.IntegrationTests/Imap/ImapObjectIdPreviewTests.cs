using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MimeKit;

namespace Postern.IntegrationTests.Imap;

/// <summary>OBJECTID (RFC 8474), PREVIEW (RFC 8970), APPENDLIMIT (RFC 7889), WITHIN (RFC 5032) and SAVEDATE (RFC 8514) as MailKit uses them.</summary>
public sealed class ImapObjectIdPreviewTests
{
    [Fact]
    public async Task Mailbox_and_email_ids_survive_rename_copy_and_move()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: one\r\n\r\nfirst\r\n");
        await server.DeliverAsync("INBOX", "Subject: two\r\n\r\nsecond\r\n");

        using var client = await server.ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.ObjectID));
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.False(string.IsNullOrEmpty(inbox.Id));

        var root = await client.GetFolderAsync(client.PersonalNamespaces[0].Path);
        var created = await root.CreateAsync("Projects", isMessageFolder: true) ?? throw new InvalidOperationException("CREATE gave no folder");
        Assert.False(string.IsNullOrEmpty(created.Id));
        Assert.NotEqual(inbox.Id, created.Id);
        var createdId = created.Id;

        var summaries = await inbox.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.EmailId | MessageSummaryItems.ThreadId);
        Assert.Equal(2, summaries.Count);
        Assert.All(summaries, s => Assert.False(string.IsNullOrEmpty(s.EmailId)));
        Assert.NotEqual(summaries[0].EmailId, summaries[1].EmailId);
        Assert.All(summaries, s => Assert.Null(s.ThreadId));

        // A copy and a move keep the EMAILID; a renamed mailbox keeps its MAILBOXID.
        await inbox.CopyToAsync(summaries[0].UniqueId, created);
        await inbox.MoveToAsync(summaries[1].UniqueId, created);
        await created.RenameAsync(root, "Archive2026");
        await created.StatusAsync(StatusItems.MailboxId);
        Assert.Equal(createdId, created.Id);
        await created.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal(createdId, created.Id);
        var copied = await created.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.EmailId);
        Assert.Equal(summaries.Select(s => s.EmailId).Order(), copied.Select(s => s.EmailId).Order());
        await client.DisconnectAsync(true);

        // SEARCH EMAILID finds the copy; THREADID matches nothing (there are no thread ids); a bad id is BAD.
        using var raw = await ImapTranscriptTests.LoginAsync(server);
        await raw.SendAsync("s1 SELECT Archive2026\r\n");
        Assert.Contains(await raw.ReadUntilTaggedAsync("s1"), l => l == $"* OK [MAILBOXID ({createdId})] Ok");
        await raw.SendAsync($"s2 UID SEARCH EMAILID {summaries[1].EmailId}\r\ns3 SEARCH THREADID T1\r\ns4 SEARCH EMAILID \"a b\"\r\n");
        var lines = await raw.ReadUntilTaggedAsync("s4");
        Assert.Contains("* SEARCH 2", lines);
        Assert.Contains("* SEARCH", lines);
        Assert.StartsWith("s4 BAD", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preview_is_the_start_of_the_text_without_quotes_signature_or_markup()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: plain\r\n\r\nHi Bob,\r\n> what you wrote\r\n\r\n   see   you\r\n-- \r\nAlice\r\n");
        await server.DeliverAsync("INBOX", "Subject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p { color: red }</style></head><body><p>Caf&eacute;<br>menu</p><script>x()</script></body></html>\r\n");
        await server.DeliverAsync("INBOX", "Subject: long\r\n\r\n" + string.Concat(Enumerable.Repeat("word ", 200)) + "\r\n");

        using var client = await server.ConnectAsync();
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);
        var summaries = await inbox.FetchAsync(0, -1, MessageSummaryItems.PreviewText);
        Assert.Equal("Hi Bob, see you", summaries[0].PreviewText);
        Assert.Equal("Café menu", summaries[1].PreviewText);
        Assert.Equal(string.Concat(Enumerable.Repeat("word ", 200))[..256], summaries[2].PreviewText);
        await client.DisconnectAsync(true);

        // PREVIEW (LAZY) is the same preview; an unknown modifier is BAD.
        using var raw = await ImapTranscriptTests.LoginAsync(server);
        await raw.SendAsync("p1 EXAMINE INBOX\r\np2 FETCH 1 (PREVIEW (LAZY))\r\np3 FETCH 1 (PREVIEW (EAGER))\r\n");
        var lines = await raw.ReadUntilTaggedAsync("p3");
        Assert.Contains("* 1 FETCH (PREVIEW \"Hi Bob, see you\")", lines);
        Assert.StartsWith("p3 BAD", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preview_sets_no_seen_flag()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: plain\r\n\r\nHello\r\n");
        using var client = await server.ConnectAsync();
        var inbox = client.Inbox;

        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.Equal("Hello", (await inbox.FetchAsync(0, -1, MessageSummaryItems.PreviewText))[0].PreviewText);
        var flags = await inbox.FetchAsync(0, -1, MessageSummaryItems.Flags);
        Assert.All(flags, f => Assert.False(f.Flags!.Value.HasFlag(MessageFlags.Seen)));
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task Append_limit_is_advertised_and_enforced()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        // The virtual server's largest message (1 MiB here).
        Assert.Equal(1024u * 1024, client.AppendLimit);
        var limit = client.AppendLimit!.Value;

        var tooLarge = new MimeMessage { Subject = "big" };
        tooLarge.From.Add(MailboxAddress.Parse("a@example.test"));
        tooLarge.Body = new TextPart("plain") { Text = new string('x', (int)limit + 10) };
        var refused = await Assert.ThrowsAsync<ImapCommandException>(() => client.Inbox.AppendAsync(tooLarge));
        Assert.Equal(ImapCommandResponse.No, refused.Response);
        Assert.True(client.IsConnected);
        await client.DisconnectAsync(true);

        // STATUS gives the same limit per mailbox (MailKit asks for it only from servers without a global one).
        using var raw = await ImapTranscriptTests.LoginAsync(server);
        await raw.SendAsync("t1 STATUS INBOX (APPENDLIMIT MESSAGES)\r\n");
        Assert.Contains("* STATUS INBOX (MESSAGES 0 APPENDLIMIT 1048576)", await raw.ReadUntilTaggedAsync("t1"));
    }

    [Fact]
    public async Task Within_finds_messages_by_age()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Within));
        var old = new MimeMessage { Subject = "old", Body = new TextPart("plain") { Text = "old" } };
        var recent = new MimeMessage { Subject = "recent", Body = new TextPart("plain") { Text = "recent" } };
        await client.Inbox.AppendAsync(old, MessageFlags.None, DateTimeOffset.UtcNow.AddDays(-3));
        await client.Inbox.AppendAsync(recent, MessageFlags.None, DateTimeOffset.UtcNow);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal([1u], (await client.Inbox.SearchAsync(SearchQuery.OlderThan(86400))).Select(u => u.Id));
        Assert.Equal([2u], (await client.Inbox.SearchAsync(SearchQuery.YoungerThan(3600))).Select(u => u.Id));
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task Save_dates_are_when_a_message_reached_its_mailbox()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.SaveDate));
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var old = new MimeMessage { Subject = "from 2020", Body = new TextPart("plain") { Text = "old" } };
        await client.Inbox.AppendAsync(old, MessageFlags.None, new DateTimeOffset(2020, 1, 1, 10, 0, 0, TimeSpan.Zero));
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite);

        // The internal date is the client's; the save date is now, and a copy gets its own.
        var summary = (await client.Inbox.FetchAsync(0, 0, MessageSummaryItems.InternalDate | MessageSummaryItems.SaveDate))[0];
        Assert.Equal(2020, summary.InternalDate!.Value.Year);
        Assert.True(summary.SaveDate >= before && summary.SaveDate <= DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Single(await client.Inbox.SearchAsync(SearchQuery.SavedSince(DateTime.UtcNow.Date)));
        Assert.Empty(await client.Inbox.SearchAsync(SearchQuery.SavedBefore(DateTime.UtcNow.Date.AddDays(-1))));
        Assert.Single(await client.Inbox.SearchAsync(SearchQuery.DeliveredBefore(new DateTime(2021, 1, 1))));
        await client.DisconnectAsync(true);
    }
}
