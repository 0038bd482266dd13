using MailKit;
using MailKit.Net.Imap;
using MimeKit;

namespace Postern.IntegrationTests.Imap;

/// <summary>REPLACE (RFC 8508): a draft saved again, as MailKit's ReplaceAsync sends it.</summary>
public sealed class ImapReplaceTests
{
    private static MimeMessage Draft(string text) => new() { Subject = text, Body = new TextPart("plain") { Text = text } };

    [Fact]
    public async Task A_saved_draft_replaces_its_previous_version_in_one_command()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Replace));
        var drafts = await client.GetFolderAsync("Drafts");
        await drafts.OpenAsync(FolderAccess.ReadWrite);
        var first = await drafts.AppendAsync(new AppendRequest(Draft("version 1"), MessageFlags.Draft));

        var second = await drafts.ReplaceAsync(first!.Value, new ReplaceRequest(Draft("version 2"), MessageFlags.Draft));
        Assert.NotNull(second);
        Assert.NotEqual(first, second);
        var left = await drafts.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Envelope | MessageSummaryItems.Flags);
        var only = Assert.Single(left);
        Assert.Equal(second, only.UniqueId);
        Assert.Equal("version 2", only.Envelope!.Subject);
        Assert.True(only.Flags!.Value.HasFlag(MessageFlags.Draft));

        // Into another mailbox: the draft leaves Drafts and the new version lands in Sent.
        var sent = await client.GetFolderAsync("Sent");
        await drafts.ReplaceAsync(second!.Value, new ReplaceRequest(Draft("as sent"), MessageFlags.Seen) { Destination = sent });
        Assert.Equal(0, drafts.Count);
        await sent.StatusAsync(StatusItems.Count);
        Assert.Equal(1, sent.Count);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task A_failed_append_leaves_the_old_message()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync("r1 APPEND Drafts {20+}\r\nSubject: v1\r\n\r\none\r\n\r\nr2 SELECT Drafts\r\n");
        await client.ReadUntilTaggedAsync("r1");
        await client.ReadUntilTaggedAsync("r2");
        await client.SendAsync("r3 REPLACE 1 Nowhere {3+}\r\nabc\r\nr4 UID REPLACE 7 Drafts {3+}\r\nabc\r\nr5 REPLACE 2 Drafts {3+}\r\nabc\r\n" +
            "r6 REPLACE 1 Drafts {2000000+}\r\n" + new string('x', 2_000_000) + "\r\nr7 STATUS Drafts (MESSAGES)\r\n" +
            "r8 UID REPLACE 1 Drafts {200000+}\r\nSubject: big\r\n\r\n" + new string('y', 200_000 - 16) + "\r\nr9 STATUS Drafts (MESSAGES)\r\n");
        Assert.StartsWith("r3 NO [TRYCREATE]", (await client.ReadUntilTaggedAsync("r3"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("r4 NO [NONEXISTENT]", (await client.ReadUntilTaggedAsync("r4"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("r5 BAD", (await client.ReadUntilTaggedAsync("r5"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("r6 NO [TOOBIG]", (await client.ReadUntilTaggedAsync("r6"))[^1], StringComparison.Ordinal);
        Assert.Contains("* STATUS Drafts (MESSAGES 1)", await client.ReadUntilTaggedAsync("r7"));

        // A draft larger than other commands' literals (64 KiB) is taken: REPLACE carries a message like APPEND.
        Assert.StartsWith("r8 OK", (await client.ReadUntilTaggedAsync("r8"))[^1], StringComparison.Ordinal);
        Assert.Contains("* STATUS Drafts (MESSAGES 1)", await client.ReadUntilTaggedAsync("r9"));
    }

    [Fact]
    public async Task Replacing_a_draft_at_the_quota_counts_the_space_it_frees()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        var drafts = await client.GetFolderAsync("Drafts");
        await drafts.OpenAsync(FolderAccess.ReadWrite);
        var uid = await drafts.AppendAsync(new AppendRequest(Draft("version 1"), MessageFlags.Draft));
        var size = (await drafts.FetchAsync(0, 0, MessageSummaryItems.Size))[0].Size!.Value;
        Assert.True(await server.Server.Store.Directory.SetQuotaAsync(ImapTestServer.User, size + 16, CancellationToken.None));

        // A second copy would not fit; the same draft saved again does, since the old version goes.
        var append = await Assert.ThrowsAsync<ImapCommandException>(() => drafts.AppendAsync(new AppendRequest(Draft("version 2"), MessageFlags.Draft)));
        Assert.Equal(ImapCommandResponse.No, append.Response);
        Assert.NotNull(await drafts.ReplaceAsync(uid!.Value, new ReplaceRequest(Draft("version 2"), MessageFlags.Draft)));
        Assert.Equal("version 2", Assert.Single(await drafts.FetchAsync(0, -1, MessageSummaryItems.Envelope)).Envelope!.Subject);
        await client.DisconnectAsync(true);
    }
}
