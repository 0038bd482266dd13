using MailKit;

namespace Postern.IntegrationTests.Imap;

/// <summary>CATENATE (RFC 4469): messages built from literal text and URLs of stored messages.</summary>
public sealed class ImapCatenateTests
{
    private const string Original = "From: alice@example.test\r\nSubject: draft\r\n\r\nfirst version\r\n";

    private static string Literal(string text) => "{" + System.Text.Encoding.UTF8.GetByteCount(text) + "+}\r\n" + text;

    [Fact]
    public async Task A_new_message_is_made_of_an_old_header_and_new_text()
    {
        await using var server = await ImapTestServer.StartAsync();
        var uid = await server.DeliverAsync("Drafts", Original);
        using var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync("c1 EXAMINE Drafts\r\n");
        var validity = (await client.ReadUntilTaggedAsync("c1")).Single(l => l.StartsWith("* OK [UIDVALIDITY ", StringComparison.Ordinal)).Split(' ')[3].TrimEnd(']');

        await client.SendAsync($"c2 APPEND Drafts (\\Draft) CATENATE (URL \"/Drafts;UIDVALIDITY={validity}/;UID={uid}/;SECTION=HEADER\" TEXT {Literal("second version\r\n")} " +
            $"URL \"imap://{ImapTestServer.User.Replace("@", "%40", StringComparison.Ordinal)}@mail.example.test/Drafts/;UID={uid}/;SECTION=TEXT/;PARTIAL=0.5\")\r\n");
        Assert.StartsWith("c2 OK [APPENDUID ", (await client.ReadUntilTaggedAsync("c2"))[^1], StringComparison.Ordinal);

        using var mail = await server.ConnectAsync();
        var drafts = await mail.GetFolderAsync("Drafts");
        await drafts.OpenAsync(FolderAccess.ReadOnly);
        using var raw = new MemoryStream();
        await using (var stream = await drafts.GetStreamAsync(1, string.Empty))
        {
            await stream.CopyToAsync(raw);
        }

        Assert.Equal("From: alice@example.test\r\nSubject: draft\r\n\r\nsecond version\r\nfirst", System.Text.Encoding.UTF8.GetString(raw.ToArray()));
        var summary = (await drafts.FetchAsync(1, 1, MessageSummaryItems.Flags))[0];
        Assert.True(summary.Flags!.Value.HasFlag(MessageFlags.Draft));
    }

    [Fact]
    public async Task Bad_urls_too_large_results_and_missing_mailboxes_store_nothing()
    {
        await using var server = await ImapTestServer.StartAsync();
        var uid = await server.DeliverAsync("INBOX", Original);
        using var client = await ImapTranscriptTests.LoginAsync(server);
        var big = new string('x', 600 * 1024);
        await client.SendAsync(
            $"b1 APPEND INBOX CATENATE (URL \"/INBOX;UIDVALIDITY=1/;UID={uid}\")\r\n" +
            $"b2 APPEND INBOX CATENATE (TEXT {Literal("a: b\r\n\r\n")} URL \"/INBOX/;UID=99\")\r\n" +
            $"b3 APPEND INBOX CATENATE (URL \"/INBOX/;UID={uid};URLAUTH=anonymous:internal:0123\")\r\n" +
            $"b4 APPEND INBOX CATENATE (URL \"imap://someone%40example.test@mail.example.test/INBOX/;UID={uid}\")\r\n" +
            $"b5 APPEND INBOX CATENATE (URL \"imap://other.example/INBOX/;UID={uid}\")\r\n" +
            $"b6 APPEND INBOX CATENATE (TEXT {Literal(big)} TEXT {Literal(big)})\r\n" +
            $"b7 APPEND Nowhere CATENATE (URL \"/INBOX/;UID=99\")\r\n" +
            $"b8 APPEND INBOX CATENATE (URL \"/INBOX/;UID={uid}/;SECTION=1]x\")\r\n" +
            $"b9 APPEND INBOX CATENATE (URL \"/INBOX/;UID={uid}\") CATENATE (URL \"/INBOX/;UID=98\")\r\n" +
            "b10 STATUS INBOX (MESSAGES)\r\n");
        Assert.Equal($"b1 NO [BADURL /INBOX;UIDVALIDITY=1/;UID={uid}] Cannot use the URL", (await client.ReadUntilTaggedAsync("b1"))[^1]);
        Assert.StartsWith("b2 NO [BADURL /INBOX/;UID=99]", (await client.ReadUntilTaggedAsync("b2"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("b3 NO [BADURL ", (await client.ReadUntilTaggedAsync("b3"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("b4 NO [BADURL ", (await client.ReadUntilTaggedAsync("b4"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("b5 NO [BADURL ", (await client.ReadUntilTaggedAsync("b5"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("b6 NO [TOOBIG]", (await client.ReadUntilTaggedAsync("b6"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("b7 NO [TRYCREATE]", (await client.ReadUntilTaggedAsync("b7"))[^1], StringComparison.Ordinal);

        // The URL comes back in the code with "]" replaced, so the code cannot end early.
        Assert.Equal($"b8 NO [BADURL /INBOX/;UID={uid}/;SECTION=1?x] Cannot use the URL", (await client.ReadUntilTaggedAsync("b8"))[^1]);

        // MULTIAPPEND: one bad URL and no message is appended.
        Assert.StartsWith("b9 NO [BADURL ", (await client.ReadUntilTaggedAsync("b9"))[^1], StringComparison.Ordinal);
        Assert.Contains("* STATUS INBOX (MESSAGES 1)", await client.ReadUntilTaggedAsync("b10"));
    }

    [Fact]
    public async Task Urls_read_each_stored_message_once_and_at_most_four_times_the_largest_message()
    {
        await using var server = await ImapTestServer.StartAsync();
        var large = "Subject: large\r\n\r\n" + new string('y', 600 * 1024) + "\r\n";
        var uids = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            uids.Add(await server.DeliverAsync("INBOX", large));
        }

        using var client = await ImapTranscriptTests.LoginAsync(server);

        // One message named twenty times is read once: well within the budget of 4 MiB (4 × the 1 MiB limit).
        var same = string.Join(' ', Enumerable.Repeat($"URL \"/INBOX/;UID={uids[0]}/;PARTIAL=0.1\"", 20));
        await client.SendAsync($"d1 APPEND Drafts CATENATE (TEXT {Literal("a: b\r\n\r\n")} {same})\r\n");
        Assert.StartsWith("d1 OK [APPENDUID ", (await client.ReadUntilTaggedAsync("d1"))[^1], StringComparison.Ordinal);

        // Eight different 600 KB messages for eight octets: 4.8 MB of stored mail to read is refused.
        var many = string.Join(' ', uids.Select(uid => $"URL \"/INBOX/;UID={uid}/;PARTIAL=0.1\""));
        await client.SendAsync($"d2 APPEND Drafts CATENATE (TEXT {Literal("a: b\r\n\r\n")} {many})\r\nd3 STATUS Drafts (MESSAGES)\r\n");
        Assert.StartsWith("d2 NO [LIMIT]", (await client.ReadUntilTaggedAsync("d2"))[^1], StringComparison.Ordinal);
        Assert.Contains("* STATUS Drafts (MESSAGES 1)", await client.ReadUntilTaggedAsync("d3"));

        // One message read once, but assembled four times by a MULTIAPPEND: 2.4 MB is past what one command may carry
        // (the largest message and 1 MiB, as for literals), so nothing is appended.
        var four = string.Concat(Enumerable.Repeat($" CATENATE (URL \"/INBOX/;UID={uids[0]}\")", 4));
        await client.SendAsync($"d4 APPEND Drafts{four}\r\nd5 STATUS Drafts (MESSAGES)\r\n");
        Assert.StartsWith("d4 NO [TOOBIG]", (await client.ReadUntilTaggedAsync("d4"))[^1], StringComparison.Ordinal);
        Assert.Contains("* STATUS Drafts (MESSAGES 1)", await client.ReadUntilTaggedAsync("d5"));
    }
}
