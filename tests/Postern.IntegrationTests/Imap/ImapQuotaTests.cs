using MailKit;
using MailKit.Net.Imap;
using MimeKit;

namespace Postern.IntegrationTests.Imap;

/// <summary>QUOTA (RFC 9208) with a limit the administrator sets while the client is logged on.</summary>
public sealed class ImapQuotaTests
{
    private static MimeMessage Message(int octets) => new()
    {
        Subject = "filler",
        Body = new TextPart("plain") { Text = string.Join("\r\n", Enumerable.Repeat(new string('z', 70), octets / 72)) },
    };

    [Fact]
    public async Task A_quota_set_during_a_session_is_reported_and_enforced_on_append_and_copy()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Quota));
        var inbox = client.Inbox;
        await inbox.AppendAsync(Message(6000));

        // No limit: no STORAGE resource.
        var unlimited = await inbox.GetQuotaAsync();
        Assert.Null(unlimited.StorageLimit);

        // The administrator sets 10 KiB; the same session sees it at once.
        Assert.True(await server.Server.Store.Directory.SetQuotaAsync(ImapTestServer.User, 10 * 1024, CancellationToken.None));
        var quota = await inbox.GetQuotaAsync();
        Assert.Equal(10u, quota.StorageLimit);
        Assert.True(quota.CurrentStorageSize is >= 5 and <= 7);

        var append = await Assert.ThrowsAsync<ImapCommandException>(() => inbox.AppendAsync(Message(6000)));
        Assert.Equal(ImapCommandResponse.No, append.Response);
        Assert.Equal("Quota exceeded", append.ResponseText);

        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var archive = await client.GetFolderAsync("Archive");
        var copy = await Assert.ThrowsAsync<ImapCommandException>(() => inbox.CopyToAsync(new UniqueId(1), archive));
        Assert.Equal(ImapCommandResponse.No, copy.Response);

        // A move frees nothing and needs nothing: it is allowed at the limit.
        await inbox.MoveToAsync(new UniqueId(1), archive);

        // A public folder belongs to the organization: under no user's quota root.
        Assert.True((await server.Server.Store.PublicFolders.AddFolderAsync("Shared", null, null, CancellationToken.None)).IsOk);
        using (var raw = await ImapTranscriptTests.LoginAsync(server))
        {
            await raw.SendAsync("q1 GETQUOTAROOT \"Public Folders/Shared\"\r\nq2 GETQUOTAROOT INBOX\r\n");
            Assert.Equal(["* QUOTAROOT \"Public Folders/Shared\"", "q1 OK GETQUOTAROOT completed"], await raw.ReadUntilTaggedAsync("q1"));
            Assert.Equal("* QUOTAROOT INBOX \"\"", (await raw.ReadUntilTaggedAsync("q2"))[0]);
        }

        // Lifted again: the append goes through.
        Assert.True(await server.Server.Store.Directory.SetQuotaAsync(ImapTestServer.User, 0, CancellationToken.None));
        await inbox.AppendAsync(Message(6000));
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task A_synchronizing_append_larger_than_the_room_left_is_refused_before_the_go_ahead()
    {
        await using var server = await ImapTestServer.StartAsync();
        Assert.True(await server.Server.Store.Directory.SetQuotaAsync(ImapTestServer.User, 100 * 1024, CancellationToken.None));
        using var raw = await ImapTranscriptTests.LoginAsync(server);

        // RFC 9208 §4.2 (and RFC 7889's APPENDLIMIT): the announced size alone is over the quota, so the client gets NO
        // instead of '+' and never sends the 200,000 octets (RFC 3501 §7.5); the session reads the next command.
        await raw.SendAsync("a1 APPEND Drafts {200000}\r\n");
        Assert.Equal("a1 NO [OVERQUOTA] Quota exceeded", await raw.ReadLineAsync());
        await raw.SendAsync("a2 NOOP\r\n");
        Assert.StartsWith("a2 OK", (await raw.ReadUntilTaggedAsync("a2"))[^1], StringComparison.Ordinal);

        // A message that fits gets its '+' and is stored; one that fits the announcement but not what is left, too.
        await raw.SendAsync("a3 APPEND Drafts {60000}\r\n");
        Assert.StartsWith("+ ", await raw.ReadLineAsync(), StringComparison.Ordinal);
        await raw.SendAsync("Subject: fits\r\n\r\n" + new string('x', 60000 - 17) + "\r\n");
        Assert.StartsWith("a3 OK", (await raw.ReadUntilTaggedAsync("a3"))[^1], StringComparison.Ordinal);
        await raw.SendAsync("a4 APPEND Drafts {60000}\r\n");
        Assert.Equal("a4 NO [OVERQUOTA] Quota exceeded", await raw.ReadLineAsync());

        // The same with the mailbox named by a literal (as MailKit sends a name it cannot quote).
        await raw.SendAsync("a6 APPEND {6}\r\n");
        Assert.StartsWith("+ ", await raw.ReadLineAsync(), StringComparison.Ordinal);
        await raw.SendAsync("Drafts {60000}\r\n");
        Assert.Equal("a6 NO [OVERQUOTA] Quota exceeded", await raw.ReadLineAsync());

        // A public folder is under no user's quota: its APPEND is not refused for the user's quota.
        Assert.True((await server.Server.Store.PublicFolders.AddFolderAsync("Shared", null, null, CancellationToken.None)).IsOk);
        await raw.SendAsync("a5 APPEND \"Public Folders/Shared\" {60000}\r\n");
        Assert.StartsWith("+ ", await raw.ReadLineAsync(), StringComparison.Ordinal);
    }
}
