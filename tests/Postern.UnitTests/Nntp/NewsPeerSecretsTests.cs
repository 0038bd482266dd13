using Postern.Server.Nntp;
using Postern.Store;
using Postern.UnitTests.Store;

namespace Postern.UnitTests.Nntp;

public sealed class NewsPeerSecretsTests
{
    [Fact]
    public async Task PeerPasswordIsSealedAtRestAndRevealedForTheFeed()
    {
        await using var fixture = new StoreFixture();
        var administration = new NewsAdministration(fixture.Store);
        var added = await administration.AddPeerAsync(new NewsPeer { Name = "news.partner.test", Host = "127.0.0.1", UserName = "feeder", Password = "peer-secret-123" }, CancellationToken.None);
        Assert.True(added.IsOk, added.Message);

        var stored = await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT password FROM news_peers").Scalar<string>(), CancellationToken.None);
        Assert.NotNull(stored);
        Assert.DoesNotContain("peer-secret-123", stored, StringComparison.Ordinal);
        Assert.Equal("peer-secret-123", NewsPeerSecrets.Reveal(fixture.Directory, stored));

        // Another data folder's key cannot open it; an old clear value still reads as itself.
        var other = Path.Combine(Path.GetTempPath(), "postern-other-" + Guid.NewGuid().ToString("N"));
        Assert.Null(NewsPeerSecrets.Reveal(other, stored));
        Assert.Equal("legacy", NewsPeerSecrets.Reveal(fixture.Directory, "legacy"));
        if (Directory.Exists(other))
        {
            Directory.Delete(other, recursive: true);
        }
    }
}
