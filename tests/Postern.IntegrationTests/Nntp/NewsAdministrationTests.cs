using Postern.Server.Nntp;
using Postern.Store;

namespace Postern.IntegrationTests.Nntp;

public sealed class NewsAdministrationTests
{
    [Fact]
    public async Task AddSetListRemoveFoldersAndPeers()
    {
        await using var server = await NntpTestServer.StartAsync();
        var admin = new NewsAdministration(server.Store);
        Assert.True((await admin.AddFolderAsync("Example/Announce", "example.announce", null, CancellationToken.None)).IsOk);

        var set = await admin.SetFolderAsync("Example/Announce", new PublicFolderChange { Principal = "anonymous", Rights = "read" }, CancellationToken.None);
        Assert.Equal(PublicFolderRights.Read, set.Value!.RightsOf(null));
        set = await admin.SetFolderAsync("Example/Announce", new PublicFolderChange { Moderated = true, Moderator = "boss@example.test" }, CancellationToken.None);
        Assert.True(set.Value!.Moderated);
        Assert.Equal(StoreStatus.AlreadyExists, (await admin.SetFolderAsync("Example/Announce", new PublicFolderChange { Newsgroup = "example.general" }, CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.Invalid, (await admin.SetFolderAsync("Example/Announce", new PublicFolderChange { Principal = "x", Rights = "delete" }, CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.NotFound, (await admin.SetFolderAsync("Nope", new PublicFolderChange { Newsgroup = "" }, CancellationToken.None)).Status);
        Assert.Null((await admin.SetFolderAsync("Example/Announce", new PublicFolderChange { Newsgroup = "" }, CancellationToken.None)).Value!.Newsgroup);

        // The newsgroup view follows the setting at once.
        await using (var client = await NntpTestClient.ConnectAsync(server.Port()))
        {
            await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
            Assert.StartsWith("215", await client.CommandAsync("LIST ACTIVE"));
            Assert.Equal(["example.general 0 1 y"], await client.ReadBlockAsync());
        }

        Assert.Equal(StoreStatus.Invalid, (await admin.AddPeerAsync(new NewsPeer { Name = "p", Host = "h", Groups = "[x" }, CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.Invalid, (await admin.AddPeerAsync(new NewsPeer { Name = "p", Host = "h", UserName = "u" }, CancellationToken.None)).Status);
        Assert.True((await admin.AddPeerAsync(new NewsPeer { Name = "news.peer.test", Host = "h", UserName = "u", Password = "secret" }, CancellationToken.None)).IsOk);
        Assert.Equal("********", Assert.Single(await admin.ListPeersAsync(CancellationToken.None)).Password);
        Assert.True(await admin.RemovePeerAsync("news.peer.test", CancellationToken.None));

        // Clear text is an explicit per-peer choice (INN's innd has no TLS on its feed port) and survives the store.
        Assert.True((await admin.AddPeerAsync(new NewsPeer { Name = "inn.peer.test", Host = "h", Port = 119, Tls = NewsPeerTls.None }, CancellationToken.None)).IsOk);
        Assert.Equal(NewsPeerTls.None, Assert.Single(await admin.ListPeersAsync(CancellationToken.None)).Tls);
        Assert.True(NewsAdministration.TryParseTls("none", out var none) && none == NewsPeerTls.None);
        Assert.True(NewsAdministration.TryParseTls("starttls", out var startTls) && startTls == NewsPeerTls.StartTls);
        Assert.False(NewsAdministration.TryParseTls("plain", out _));
        Assert.Equal(NewsPeerTls.Implicit, new NewsPeer { Name = "n", Host = "h" }.Tls);
        Assert.True(await admin.RemovePeerAsync("inn.peer.test", CancellationToken.None));
        Assert.Equal(StoreStatus.Ok, await admin.RemoveFolderAsync("Example", CancellationToken.None));
        Assert.Empty(await admin.ListFoldersAsync(CancellationToken.None));
    }
}
