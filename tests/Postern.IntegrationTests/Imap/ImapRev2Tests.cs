using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;

namespace Postern.IntegrationTests.Imap;

/// <summary>IMAP4rev1 and IMAP4rev2 on the same port, rev2 chosen per session with ENABLE (RFC 9051 §6.3.1, Appendix E).</summary>
public sealed class ImapRev2Tests
{
    private static async Task<RawImapClient> LoginAsync(ImapTestServer server, bool rev2)
    {
        var client = await server.ConnectRawAsync();
        await client.SendAsync($"L1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n");
        Assert.StartsWith("L1 OK", (await client.ReadUntilTaggedAsync("L1"))[^1], StringComparison.Ordinal);
        if (rev2)
        {
            await client.SendAsync("E1 ENABLE IMAP4rev2\r\n");
            Assert.Equal(["* ENABLED IMAP4rev2", "E1 OK ENABLE completed"], await client.ReadUntilTaggedAsync("E1"));
        }

        return client;
    }

    [Fact]
    public async Task Both_revisions_are_advertised_before_and_after_login()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectRawAsync();
        await client.SendAsync("c1 CAPABILITY\r\n");
        var before = (await client.ReadUntilTaggedAsync("c1"))[0];
        Assert.StartsWith("* CAPABILITY IMAP4rev1 IMAP4rev2 ", before, StringComparison.Ordinal);
        await client.SendAsync($"c2 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\nc3 CAPABILITY\r\n");
        await client.ReadUntilTaggedAsync("c2");
        var after = (await client.ReadUntilTaggedAsync("c3"))[0].Split(' ');
        Assert.Contains("IMAP4rev2", after);
        Assert.Contains("ENABLE", after);
    }

    [Fact]
    public async Task Enable_is_refused_once_a_mailbox_is_selected()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server, rev2: false);
        await client.SendAsync("s1 SELECT INBOX\r\ne2 ENABLE IMAP4rev2\r\n");
        await client.ReadUntilTaggedAsync("s1");
        Assert.StartsWith("e2 BAD", (await client.ReadUntilTaggedAsync("e2"))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rev2_session_gets_esearch_and_no_recent_while_rev1_keeps_the_old_forms()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await server.DeliverAsync("INBOX", $"Subject: m{i}\r\n\r\nbody {i}\r\n", i == 0 ? Postern.Store.MessageFlags.Seen : Postern.Store.MessageFlags.None);
        }

        using var rev2 = await LoginAsync(server, rev2: true);
        using var rev1 = await LoginAsync(server, rev2: false);

        await rev2.SendAsync("a1 SELECT INBOX\r\n");
        var select2 = await rev2.ReadUntilTaggedAsync("a1");
        Assert.Contains("* 3 EXISTS", select2);
        Assert.DoesNotContain(select2, l => l.Contains("RECENT", StringComparison.Ordinal) || l.Contains("[UNSEEN", StringComparison.Ordinal));
        Assert.Contains("* LIST (\\HasNoChildren) \"/\" INBOX", select2);
        Assert.Equal("a1 OK [READ-WRITE] SELECT completed", select2[^1]);

        await rev1.SendAsync("b1 SELECT INBOX\r\n");
        var select1 = await rev1.ReadUntilTaggedAsync("b1");
        Assert.Contains("* 0 RECENT", select1);
        Assert.Contains(select1, l => l.StartsWith("* OK [UNSEEN 2]", StringComparison.Ordinal));
        Assert.DoesNotContain(select1, l => l.StartsWith("* LIST", StringComparison.Ordinal));

        await rev2.SendAsync("a2 SEARCH 2:3\r\na3 UID SEARCH SUBJECT nothing\r\na4 SEARCH RETURN (COUNT) ALL\r\n");
        Assert.Equal(["* ESEARCH (TAG \"a2\") ALL 2:3", "a2 OK SEARCH completed"], await rev2.ReadUntilTaggedAsync("a2"));
        Assert.Equal(["* ESEARCH (TAG \"a3\") UID", "a3 OK SEARCH completed"], await rev2.ReadUntilTaggedAsync("a3"));
        Assert.Equal("* ESEARCH (TAG \"a4\") COUNT 3", (await rev2.ReadUntilTaggedAsync("a4"))[0]);

        await rev1.SendAsync("b2 SEARCH 2:3\r\nb3 UID SEARCH SUBJECT nothing\r\n");
        Assert.Equal(["* SEARCH 2 3", "b2 OK SEARCH completed"], await rev1.ReadUntilTaggedAsync("b2"));
        Assert.Equal(["* SEARCH", "b3 OK SEARCH completed"], await rev1.ReadUntilTaggedAsync("b3"));
    }

    [Fact]
    public async Task Rev2_select_replacing_a_mailbox_says_closed()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var rev2 = await LoginAsync(server, rev2: true);
        using var rev1 = await LoginAsync(server, rev2: false);
        await rev2.SendAsync("a1 SELECT INBOX\r\na2 EXAMINE Sent\r\n");
        Assert.DoesNotContain(await rev2.ReadUntilTaggedAsync("a1"), l => l.Contains("[CLOSED]", StringComparison.Ordinal));
        Assert.Equal("* OK [CLOSED] Previous mailbox closed", (await rev2.ReadUntilTaggedAsync("a2"))[0]);

        await rev1.SendAsync("b1 SELECT INBOX\r\nb2 EXAMINE Sent\r\n");
        await rev1.ReadUntilTaggedAsync("b1");
        Assert.DoesNotContain(await rev1.ReadUntilTaggedAsync("b2"), l => l.Contains("[CLOSED]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rev2_mailbox_names_are_utf8_and_rev1_names_modified_utf7()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var rev2 = await LoginAsync(server, rev2: true);
        using var rev1 = await LoginAsync(server, rev2: false);
        await rev2.SendAsync("a1 CREATE \"Entwürfe/Ältere\"\r\na2 LIST \"\" \"Entw*\"\r\n");
        Assert.Matches(@"^a1 OK \[MAILBOXID \(M\d+\)\] CREATE completed$", (await rev2.ReadUntilTaggedAsync("a1"))[^1]);
        var list2 = await rev2.ReadUntilTaggedAsync("a2");
        Assert.Contains(list2, l => l.StartsWith("* LIST (", StringComparison.Ordinal) && l.EndsWith(" \"/\" \"Entwürfe/Ältere\"", StringComparison.Ordinal));

        await rev1.SendAsync("b1 LIST \"\" \"Entw*\"\r\n");
        var list1 = await rev1.ReadUntilTaggedAsync("b1");
        Assert.Contains(list1, l => l.EndsWith(" \"/\" Entw&APw-rfe/&AMQ-ltere", StringComparison.Ordinal));
        Assert.DoesNotContain(list1, l => l.Contains('ü', StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rev2_list_uses_nonexistent_subscribed_and_childinfo()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var rev2 = await LoginAsync(server, rev2: true);
        using var rev1 = await LoginAsync(server, rev2: false);
        await rev2.SendAsync("a1 CREATE Work/Projects/Alpha\r\na2 DELETE Work/Projects\r\na3 SUBSCRIBE Work/Projects/Alpha\r\n");
        await rev2.ReadUntilTaggedAsync("a1");
        await rev2.ReadUntilTaggedAsync("a2");
        Assert.Equal("a3 OK SUBSCRIBE completed", (await rev2.ReadUntilTaggedAsync("a3"))[^1]);

        await rev2.SendAsync("a4 LIST \"\" Work/*\r\n");
        var plain = await rev2.ReadUntilTaggedAsync("a4");
        Assert.Contains("* LIST (\\NonExistent \\HasChildren) \"/\" Work/Projects", plain);

        await rev2.SendAsync("a5 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n");
        var childInfo = await rev2.ReadUntilTaggedAsync("a5");
        Assert.Contains("* LIST (\\HasChildren) \"/\" Work (\"CHILDINFO\" (\"SUBSCRIBED\"))", childInfo);

        await rev2.SendAsync("a6 LIST (SUBSCRIBED) \"\" Work/*\r\na7 LSUB \"\" Work/*\r\n");
        Assert.Contains("* LIST (\\HasNoChildren \\Subscribed) \"/\" Work/Projects/Alpha", await rev2.ReadUntilTaggedAsync("a6"));
        Assert.Contains("* LSUB () \"/\" Work/Projects/Alpha", await rev2.ReadUntilTaggedAsync("a7"));

        await rev1.SendAsync("b1 LIST \"\" Work/*\r\n");
        Assert.Contains("* LIST (\\Noselect \\HasChildren) \"/\" Work/Projects", await rev1.ReadUntilTaggedAsync("b1"));
    }

    [Fact]
    public async Task Rev2_status_allows_size_and_deleted()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: x\r\n\r\nbody\r\n", Postern.Store.MessageFlags.Deleted);
        using var rev2 = await LoginAsync(server, rev2: true);
        await rev2.SendAsync("a1 STATUS INBOX (MESSAGES DELETED SIZE)\r\n");
        Assert.Matches(@"^\* STATUS INBOX \(MESSAGES 1 DELETED 1 SIZE \d+\)$", (await rev2.ReadUntilTaggedAsync("a1"))[0]);
    }

    [Fact]
    public async Task MailKit_sees_imap4rev2_and_without_enable_stays_rev1()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 0; i < 4; i++)
        {
            await server.DeliverAsync("INBOX", $"Subject: {(i % 2 == 0 ? "even" : "odd")} {i}\r\n\r\nbody\r\n");
        }

        using var log = new MemoryStream();
        using var client = new ImapClient(new ProtocolLogger(log, leaveOpen: true)) { ServerCertificateValidationCallback = Infrastructure.TestCertificates.Shared.Validate };
        await client.ConnectAsync("127.0.0.1", server.PlainPort, MailKit.Security.SecureSocketOptions.None);
        await client.AuthenticateAsync(ImapTestServer.User, ImapTestServer.Password);
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.IMAP4rev2));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.IMAP4rev1));

        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.Equal(4, inbox.Count);
        var even = await inbox.SearchAsync(SearchQuery.SubjectContains("even"));
        Assert.Equal(2, even.Count);
        await client.DisconnectAsync(true);

        // MailKit 4.18 sees IMAP4rev2 but never sends ENABLE IMAP4rev2 itself: its session stays rev1 and must get the rev1 forms.
        var transcript = Encoding.UTF8.GetString(log.ToArray());
        Assert.DoesNotContain("ENABLE IMAP4rev2", transcript, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("* 4 RECENT", transcript, StringComparison.Ordinal); // the first session to select sees the four as recent
    }

    [Fact]
    public async Task MailKit_on_a_rev2_session_gets_esearch_and_no_recent()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 0; i < 4; i++)
        {
            await server.DeliverAsync("INBOX", $"Subject: {(i % 2 == 0 ? "even" : "odd")} {i}\r\n\r\nbody\r\n", i == 0 ? Postern.Store.MessageFlags.Seen : Postern.Store.MessageFlags.None);
        }

        using var log = new MemoryStream();
        using var client = new ImapClient(new ProtocolLogger(log, leaveOpen: true));
        var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.PlainPort);
        await client.ConnectAsync(new Rev2EnablingStream(tcp.GetStream()), "127.0.0.1", server.PlainPort, MailKit.Security.SecureSocketOptions.None);
        await client.AuthenticateAsync(ImapTestServer.User, ImapTestServer.Password);
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.IMAP4rev2));

        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.Equal(4, inbox.Count);
        var even = await inbox.SearchAsync(SearchQuery.SubjectContains("even"));
        Assert.Equal(2, even.Count);
        var unseen = await inbox.SearchAsync(SearchQuery.NotSeen);
        Assert.Equal(3, unseen.Count);
        var summaries = await inbox.FetchAsync(even, MessageSummaryItems.Envelope | MessageSummaryItems.Flags);
        Assert.All(summaries, s => Assert.StartsWith("even", s.Envelope?.Subject ?? string.Empty, StringComparison.Ordinal));

        var sent = await client.GetFolderAsync("Sent");
        await sent.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal(0, sent.Count);
        await client.DisconnectAsync(true);

        var transcript = Encoding.UTF8.GetString(log.ToArray());
        Assert.Contains("* ESEARCH (TAG", transcript, StringComparison.Ordinal);
        Assert.Contains("* OK [CLOSED]", transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("RECENT", transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("[UNSEEN", transcript, StringComparison.Ordinal);
    }
}
