using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;

namespace Postern.IntegrationTests.Imap;

/// <summary>SORT and THREAD (RFC 5256) as a real client (MailKit) uses them.</summary>
public sealed class ImapSortThreadTests
{
    [Fact]
    public async Task Sort_orders_by_subject_sender_date_and_size_as_mailkit_asks()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: Carol <carol@example.test>\r\nSubject: Re: budget\r\nDate: Tue, 03 Nov 2026 10:00:00 +0000\r\n\r\nshort\r\n");
        await server.DeliverAsync("INBOX", "From: alice@example.test\r\nSubject: [team] agenda\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\na longer body than the others\r\n");
        await server.DeliverAsync("INBOX", "From: \"Bob\" <bob@example.test>\r\nSubject: Budget\r\nDate: Sun, 01 Nov 2026 10:00:00 +0000\r\n\r\nmid length\r\n");
        await server.DeliverAsync("INBOX", "Subject: no date, no sender\r\n\r\nx\r\n");

        using var client = await server.ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Sort));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Thread));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.SortDisplay));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.ESort));
        Assert.Contains(ThreadingAlgorithm.References, client.ThreadingAlgorithms);
        Assert.Contains(ThreadingAlgorithm.OrderedSubject, client.ThreadingAlgorithms);

        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);

        // Base subjects "budget", "agenda", "budget", "no date, no sender"; ties keep mailbox order.
        Assert.Equal(U(2u, 1u, 3u, 4u), Uids(await inbox.SortAsync(SearchQuery.All, [OrderBy.Subject])));

        // Date: the Date header; a message without one sorts by its arrival (now, the latest).
        Assert.Equal(U(3u, 2u, 1u, 4u), Uids(await inbox.SortAsync(SearchQuery.All, [OrderBy.Date])));
        Assert.Equal(U(4u, 1u, 2u, 3u), Uids(await inbox.SortAsync(SearchQuery.All, [OrderBy.ReverseDate])));

        // From: the local part; no From sorts first. DISPLAYFROM: the display name, else the address.
        Assert.Equal(U(4u, 2u, 3u, 1u), Uids(await inbox.SortAsync(SearchQuery.All, [OrderBy.From])));
        Assert.Equal(U(4u, 2u, 3u, 1u), Uids(await inbox.SortAsync(SearchQuery.All, [OrderBy.DisplayFrom])));

        // Criteria combine with a search, and UID SORT answers UIDs.
        Assert.Equal(U(1u, 3u), Uids(await inbox.SortAsync(SearchQuery.SubjectContains("budget"), [OrderBy.Subject, OrderBy.ReverseDate])));
        var sizes = await inbox.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Size);
        var bySize = sizes.OrderByDescending(s => s.Size).ThenBy(s => s.UniqueId.Id).Select(s => s.UniqueId.Id).ToArray();
        Assert.Equal(bySize, Uids(await inbox.SortAsync(SearchQuery.All, [OrderBy.ReverseSize])));

        // ESORT (RFC 5267): MIN and MAX are the first and last in the sort order.
        var results = await inbox.SortAsync(SearchOptions.Min | SearchOptions.Max | SearchOptions.Count | SearchOptions.All, SearchQuery.All, [OrderBy.Subject]);
        Assert.Equal(4, results.Count);
        Assert.Equal(2u, results.Min!.Value.Id);
        Assert.Equal(4u, results.Max!.Value.Id);
        Assert.Equal(U(2u, 1u, 3u, 4u), Uids(results.UniqueIds));
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task Thread_by_references_and_by_subject()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Message-ID: <root@x>\r\nSubject: plans\r\nDate: Sun, 01 Nov 2026 10:00:00 +0000\r\n\r\n1\r\n");
        await server.DeliverAsync("INBOX", "Message-ID: <other@x>\r\nSubject: lunch\r\nDate: Sun, 01 Nov 2026 11:00:00 +0000\r\n\r\n2\r\n");
        await server.DeliverAsync("INBOX", "Message-ID: <r1@x>\r\nIn-Reply-To: <root@x>\r\nSubject: Re: plans\r\nDate: Sun, 01 Nov 2026 12:00:00 +0000\r\n\r\n3\r\n");
        await server.DeliverAsync("INBOX", "Message-ID: <r2@x>\r\nReferences: <root@x> <r1@x>\r\nSubject: Re: plans\r\nDate: Sun, 01 Nov 2026 13:00:00 +0000\r\n\r\n4\r\n");
        await server.DeliverAsync("INBOX", "Message-ID: <r3@x>\r\nReferences: <root@x>\r\nSubject: Re: plans\r\nDate: Sun, 01 Nov 2026 14:00:00 +0000\r\n\r\n5\r\n");
        await server.DeliverAsync("INBOX", "Message-ID: <late@x>\r\nSubject: RE: lunch\r\nDate: Sun, 01 Nov 2026 15:00:00 +0000\r\n\r\n6\r\n");

        using var client = await server.ConnectAsync();
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);

        // 1 ─┬─ 3 ── 4      2 ── 6 (joined by subject: no references)
        //    └─ 5
        var threads = await inbox.ThreadAsync(ThreadingAlgorithm.References, SearchQuery.All);
        Assert.Equal(2, threads.Count);
        Assert.Equal(1u, threads[0].UniqueId!.Value.Id);
        Assert.Equal(U(3u, 5u), threads[0].Children.Select(c => c.UniqueId!.Value.Id));
        Assert.Equal(4u, Assert.Single(threads[0].Children[0].Children).UniqueId!.Value.Id);
        Assert.Equal(2u, threads[1].UniqueId!.Value.Id);
        Assert.Equal(6u, Assert.Single(threads[1].Children).UniqueId!.Value.Id);

        // ORDEREDSUBJECT: the first message of each subject is the parent of all the others.
        var bySubject = await inbox.ThreadAsync(ThreadingAlgorithm.OrderedSubject, SearchQuery.All);
        Assert.Equal(U(1u, 2u), bySubject.Select(t => t.UniqueId!.Value.Id));
        Assert.Equal(U(3u, 4u, 5u), bySubject[0].Children.Select(c => c.UniqueId!.Value.Id));

        // A search narrows what is threaded: a reply whose parent did not match starts its own thread.
        var unanswered = await inbox.ThreadAsync(ThreadingAlgorithm.References, SearchQuery.SubjectContains("Re:").Or(SearchQuery.SubjectContains("RE:")));
        Assert.All(unanswered, t => Assert.NotEqual(1u, t.UniqueId?.Id));
        await client.DisconnectAsync(true);
    }

    private static uint[] U(params uint[] ids) => ids;

    private static uint[] Uids(IEnumerable<UniqueId> ids) => [.. ids.Select(id => id.Id)];
}
