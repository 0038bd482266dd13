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
}
