using System.Text;
using Postern.Store;

namespace Postern.UnitTests.Nntp;

/// <summary>Group and article numbering, permissions, history and the feed queue of the public folder store.</summary>
public sealed class PublicFolderStoreTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "postern-pf-" + Guid.NewGuid().ToString("N"));
    private IPosternStore _store = null!;

    private IPublicFolderStore Folders => _store.PublicFolders;

    public Task InitializeAsync()
    {
        _store = PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(_directory));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Postern.Tests.TestStoreOptions.Drop(_directory);
        Directory.Delete(_directory, recursive: true);
    }

    private static byte[] Article(string id, string groups = "example.general") =>
        Encoding.ASCII.GetBytes($"From: a@b.test\r\nNewsgroups: {groups}\r\nSubject: s\r\nMessage-ID: {id}\r\n\r\nline 1\r\nline 2\r\n");

    [Fact]
    public async Task FoldersGetParentsDefaultPermissionsAndUniqueNewsgroups()
    {
        var general = await Folders.AddFolderAsync("Example/General", "example.general", "General", CancellationToken.None);
        Assert.True(general.IsOk);
        var all = await Folders.ListFoldersAsync(CancellationToken.None);
        Assert.Equal(["Example", "Example/General"], all.Select(f => f.Path));
        Assert.Null(all[0].Newsgroup);
        Assert.Equal(PublicFolderRights.Read | PublicFolderRights.Post | PublicFolderRights.CreateSubfolders, general.Value!.RightsOf("anyone@example.test"));
        Assert.Equal(PublicFolderRights.None, general.Value.RightsOf(null));

        Assert.Equal(StoreStatus.AlreadyExists, (await Folders.AddFolderAsync("example/general", null, null, CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.AlreadyExists, (await Folders.AddFolderAsync("Other", "example.general", null, CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.Invalid, (await Folders.AddFolderAsync("Bad//Path", null, null, CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.Invalid, (await Folders.AddFolderAsync("Other", "bad name!", null, CancellationToken.None)).Status);
        Assert.Equal("example.general-talk", PublicFolderNames.ToNewsgroup("Example/General Talk"));
    }

    [Fact]
    public async Task PermissionsPerPrincipal()
    {
        var folder = (await Folders.AddFolderAsync("Staff", "staff", null, CancellationToken.None)).Value!;
        Assert.Equal(StoreStatus.Ok, await Folders.SetPermissionAsync(folder.Id, PublicFolderPrincipals.Authenticated, PublicFolderRights.Read, CancellationToken.None));
        Assert.Equal(StoreStatus.Ok, await Folders.SetPermissionAsync(folder.Id, "boss@example.test", PublicFolderRights.All, CancellationToken.None));
        Assert.Equal(StoreStatus.Ok, await Folders.SetPermissionAsync(folder.Id, PublicFolderPrincipals.Anonymous, PublicFolderRights.Read, CancellationToken.None));
        folder = (await Folders.GetFolderByIdAsync(folder.Id, CancellationToken.None))!;
        Assert.Equal(PublicFolderRights.Read, folder.RightsOf(null));
        Assert.Equal(PublicFolderRights.Read, folder.RightsOf("someone@example.test"));
        Assert.Equal(PublicFolderRights.All, folder.RightsOf("BOSS@example.test"));
        Assert.Equal(StoreStatus.Ok, await Folders.SetPermissionAsync(folder.Id, PublicFolderPrincipals.Anonymous, PublicFolderRights.None, CancellationToken.None));
        Assert.Equal(PublicFolderRights.None, (await Folders.GetFolderByIdAsync(folder.Id, CancellationToken.None))!.RightsOf(null));
        Assert.Equal(StoreStatus.NotFound, await Folders.SetPermissionAsync(9999, "x", PublicFolderRights.Read, CancellationToken.None));
    }

    [Fact]
    public async Task CrossPostGetsANumberPerGroupAndHistoryRefusesTheSecondCopy()
    {
        var general = (await Folders.AddFolderAsync("Example/General", "example.general", null, CancellationToken.None)).Value!;
        var other = (await Folders.AddFolderAsync("Example/Other", "example.other", null, CancellationToken.None)).Value!;
        await Folders.PostArticleAsync(new NewArticle(Article("<a@x>"), "<a@x>", [general.Id], DateTimeOffset.UtcNow), CancellationToken.None);

        var cross = await Folders.PostArticleAsync(new NewArticle(Article("<b@x>", "example.general,example.other"), "<b@x>", [general.Id, other.Id], DateTimeOffset.UtcNow), CancellationToken.None);
        Assert.Equal(ArticleOutcome.Stored, cross.Outcome);
        Assert.Equal([(general.Id, 2L), (other.Id, 1L)], cross.Stored.Select(s => (s.FolderId, s.Number)));
        Assert.Single((await Folders.FindByMessageIdAsync("<b@x>", CancellationToken.None)).Select(m => m.BlobId).Distinct());

        var again = await Folders.PostArticleAsync(new NewArticle(Article("<b@x>"), "<b@x>", [general.Id], DateTimeOffset.UtcNow), CancellationToken.None);
        Assert.Equal(ArticleOutcome.Duplicate, again.Outcome);

        var summary = await Folders.GetSummaryAsync(general.Id, CancellationToken.None);
        Assert.Equal(new PublicFolderSummary(general.Id, 2, 1, 2), summary);
        var message = (await Folders.GetMessageAsync(general.Id, 2, CancellationToken.None))!;
        Assert.Equal(2, message.Lines);
        Assert.StartsWith("From: a@b.test", Encoding.ASCII.GetString(message.Headers));
        Assert.DoesNotContain("line 1", Encoding.ASCII.GetString(message.Headers));

        // Numbers are never reused: remove the highest, the next one still goes up.
        Assert.Equal(StoreStatus.Ok, await Folders.RemoveMessageAsync(general.Id, 2, CancellationToken.None));
        Assert.Equal(new PublicFolderSummary(general.Id, 1, 1, 1), await Folders.GetSummaryAsync(general.Id, CancellationToken.None));
        var next = await Folders.PostArticleAsync(new NewArticle(Article("<c@x>"), "<c@x>", [general.Id], DateTimeOffset.UtcNow), CancellationToken.None);
        Assert.Equal(3, Assert.Single(next.Stored).Number);
    }

    [Fact]
    public async Task NewArticlesArePublishedOnTheChangeFeedUnderTheFolderKey()
    {
        var folder = (await Folders.AddFolderAsync("Example/General", "example.general", null, CancellationToken.None)).Value!;
        var seen = new List<MailboxChange>();
        using var subscription = _store.Changes.Subscribe(PublicFolderChanges.ChangeKey(folder.Id), seen.Add);
        await Folders.AppendAsync(folder.Id, Article("<f@x>"), "<f@x>", DateTimeOffset.UtcNow, CancellationToken.None);
        await Folders.RemoveMessageAsync(folder.Id, 1, CancellationToken.None);
        Assert.Equal([(MailboxChangeKind.Appended, 1L), (MailboxChangeKind.Expunged, 1L)], seen.Select(c => (c.Kind, c.Uids.Single())));
    }

    [Fact]
    public async Task EmptyGroupReportsHighBelowLow()
    {
        var folder = (await Folders.AddFolderAsync("Empty", "empty", null, CancellationToken.None)).Value!;
        Assert.Equal(new PublicFolderSummary(folder.Id, 0, 1, 0), await Folders.GetSummaryAsync(folder.Id, CancellationToken.None));
    }

    [Postern.Tests.PostgresFact]
    public async Task TheSameArticleTakenByTwoNodesAtOnceIsStoredOnceAndTheOtherCopyIsADuplicate()
    {
        var folder = (await Folders.AddFolderAsync("Example/General", "example.general", null, CancellationToken.None)).Value!;

        // Another node's transaction has taken <race@x> and not yet committed.
        await using var other = new Npgsql.NpgsqlConnection(Postern.Tests.TestStoreOptions.DatabaseFor(_directory));
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO news_history (message_id, state, recorded) VALUES ('<race@x>', 1, 0)", other, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        // On a thread of its own: the committer runs a batch on the calling thread, which waits for the row lock.
        var post = Task.Run(() => Folders.PostArticleAsync(new NewArticle(Article("<race@x>"), "<race@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None));
        await Task.Delay(500);
        Assert.False(post.IsCompleted, "the post did not wait for the other node's history row: " + (post.IsFaulted ? post.Exception!.ToString() : post.IsCompleted ? post.Result.Outcome.ToString() : ""));
        await transaction.CommitAsync();

        Assert.Equal(ArticleOutcome.Duplicate, (await post).Outcome);
        Assert.Equal(0, (await Folders.GetSummaryAsync(folder.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task APushClaimsEachDueEntryOnceUntilItsLeaseEnds()
    {
        var folder = (await Folders.AddFolderAsync("Example/General", "example.general", null, CancellationToken.None)).Value!;
        Assert.True((await Folders.AddPeerAsync(new NewsPeer { Name = "push.test", Host = "push.test", Direction = NewsFeedDirection.Push }, CancellationToken.None)).IsOk);
        for (var i = 0; i < 5; i++)
        {
            await Folders.PostArticleAsync(new NewArticle(Article($"<c{i}@x>"), $"<c{i}@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None);
        }

        var peer = Assert.Single(await Folders.ListPeersAsync(CancellationToken.None));
        var now = DateTimeOffset.UtcNow.AddSeconds(1);

        // Two pushes at once (two nodes on one store): every entry goes to exactly one of them, in queue order.
        var claims = await Task.WhenAll(
            Folders.ClaimDueFeedAsync(peer.Id, now, now.AddMinutes(15), 3, CancellationToken.None),
            Folders.ClaimDueFeedAsync(peer.Id, now, now.AddMinutes(15), 3, CancellationToken.None));
        var taken = claims.SelectMany(c => c).Select(e => e.MessageId).ToList();
        Assert.Equal(5, taken.Count);
        Assert.Equal(5, taken.Distinct().Count());
        Assert.All(claims, c => Assert.Equal(c.OrderBy(e => e.Id).Select(e => e.Id), c.Select(e => e.Id)));
        Assert.Empty(await Folders.ClaimDueFeedAsync(peer.Id, now.AddMinutes(14), now.AddMinutes(30), 10, CancellationToken.None));

        // A push that never came back leaves its entries due again when the lease ends.
        Assert.Equal(5, (await Folders.ClaimDueFeedAsync(peer.Id, now.AddMinutes(16), now.AddMinutes(30), 10, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task PushPeersGetAQueueEntryInTheSameTransactionAndBlobsAreCollected()
    {
        var folder = (await Folders.AddFolderAsync("Example/General", "example.general", null, CancellationToken.None)).Value!;
        Assert.True((await Folders.AddPeerAsync(new NewsPeer { Name = "push.test", Host = "push.test", Direction = NewsFeedDirection.Push }, CancellationToken.None)).IsOk);
        Assert.True((await Folders.AddPeerAsync(new NewsPeer { Name = "pull.test", Host = "pull.test", Direction = NewsFeedDirection.Pull }, CancellationToken.None)).IsOk);
        Assert.Equal(StoreStatus.AlreadyExists, (await Folders.AddPeerAsync(new NewsPeer { Name = "PUSH.test", Host = "x" }, CancellationToken.None)).Status);
        Assert.Equal(StoreStatus.Invalid, (await Folders.AddPeerAsync(new NewsPeer { Name = "bad", Host = "x", Port = 0 }, CancellationToken.None)).Status);

        await Folders.PostArticleAsync(new NewArticle(Article("<q@x>"), "<q@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None);
        var peers = await Folders.ListPeersAsync(CancellationToken.None);
        var push = peers.Single(p => p.Name == "push.test");
        Assert.Equal(1, await Folders.CountFeedAsync(push.Id, CancellationToken.None));
        Assert.Equal(0, await Folders.CountFeedAsync(peers.Single(p => p.Name == "pull.test").Id, CancellationToken.None));

        var entry = Assert.Single(await Folders.ListDueFeedAsync(push.Id, DateTimeOffset.UtcNow.AddSeconds(1), 10, CancellationToken.None));
        await Folders.RetryFeedLaterAsync(entry.Id, DateTimeOffset.UtcNow.AddHours(1), "down", CancellationToken.None);
        Assert.Empty(await Folders.ListDueFeedAsync(push.Id, DateTimeOffset.UtcNow, 10, CancellationToken.None));

        // Removing the folder leaves the queued copy's blob alone; completing the entry then frees it.
        Assert.Equal(StoreStatus.Ok, await Folders.RemoveFolderAsync("Example", CancellationToken.None));
        Assert.Empty(await Folders.ListFoldersAsync(CancellationToken.None));
        Assert.NotEmpty(await Folders.ReadContentAsync(entry.BlobId, CancellationToken.None));
        await Folders.CompleteFeedAsync([entry.Id], CancellationToken.None);
        Assert.Empty(await Folders.ReadContentAsync(entry.BlobId, CancellationToken.None));

        Assert.True(await Folders.RemovePeerAsync("push.test", CancellationToken.None));
        Assert.False(await Folders.RemovePeerAsync("push.test", CancellationToken.None));
    }

    [Fact]
    public async Task ExpiredArticlesLeaveTheGroupButStayKnown()
    {
        var folder = (await Folders.AddFolderAsync("Example/General", "example.general", null, CancellationToken.None)).Value!;
        var plain = (await Folders.AddFolderAsync("Internal", null, null, CancellationToken.None)).Value!;
        await Folders.PostArticleAsync(new NewArticle(Article("<old@x>"), "<old@x>", [folder.Id], DateTimeOffset.UtcNow.AddDays(-60)), CancellationToken.None);
        await Folders.PostArticleAsync(new NewArticle(Article("<new@x>"), "<new@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None);
        await Folders.AppendAsync(plain.Id, Article("<kept@x>"), "<kept@x>", DateTimeOffset.UtcNow.AddDays(-60), CancellationToken.None);

        Assert.Equal(1, await Folders.ExpireAsync(null, DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None));
        Assert.Equal(new PublicFolderSummary(folder.Id, 1, 2, 2), await Folders.GetSummaryAsync(folder.Id, CancellationToken.None));
        Assert.Equal(NewsHistoryState.Expired, (await Folders.GetHistoryAsync("<old@x>", CancellationToken.None))!.State);
        Assert.Equal(ArticleOutcome.Duplicate, (await Folders.PostArticleAsync(new NewArticle(Article("<old@x>"), "<old@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None)).Outcome);
        Assert.Equal(1, (await Folders.GetSummaryAsync(plain.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task HistoryRemembersRejectionsUntilPurged()
    {
        await Folders.RememberRejectedAsync("<r@x>", DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None);
        Assert.Equal(NewsHistoryState.Rejected, (await Folders.GetHistoryAsync("<r@x>", CancellationToken.None))!.State);
        Assert.Equal(1, await Folders.PurgeHistoryAsync(DateTimeOffset.UtcNow.AddDays(-14), CancellationToken.None));
        Assert.Null(await Folders.GetHistoryAsync("<r@x>", CancellationToken.None));
    }

    [Fact]
    public async Task CancelArticlesAreKeptForPullPeersUntilTheHistoryIsPurged()
    {
        var folder = (await Folders.AddFolderAsync("Example/General", "example.general", null, CancellationToken.None)).Value!;
        await Folders.PostArticleAsync(new NewArticle(Article("<victim@x>"), "<victim@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None);
        var received = DateTimeOffset.UtcNow.AddDays(-20);
        var cancel = new ArticleCancel("<victim@x>", received, "<cancel@x>", Article("<cancel@x>"), ControlNewsgroups: ["example.general", "example.other"]);
        Assert.Equal(1, (await Folders.CancelArticleAsync(cancel, CancellationToken.None)).Removed);

        var kept = Assert.Single(await Folders.ListControlArticlesSinceAsync(received, CancellationToken.None));
        Assert.Equal(["example.general", "example.other"], kept.Newsgroups);
        Assert.Empty(await Folders.ListControlArticlesSinceAsync(received.AddSeconds(1), CancellationToken.None));
        Assert.NotEmpty(await Folders.ReadContentAsync((await Folders.FindControlArticleAsync("<cancel@x>", CancellationToken.None))!.BlobId, CancellationToken.None));

        await Folders.PurgeHistoryAsync(DateTimeOffset.UtcNow.AddDays(-14), CancellationToken.None);
        Assert.Null(await Folders.FindControlArticleAsync("<cancel@x>", CancellationToken.None));
        Assert.Empty(await Folders.ReadContentAsync(kept.BlobId, CancellationToken.None));
        Assert.Equal(NewsHistoryState.Cancelled, (await Folders.GetHistoryAsync("<victim@x>", CancellationToken.None))!.State);
    }
}

public sealed class PublicFolderRightsTextTests
{
    [Theory]
    [InlineData("read", PublicFolderRights.Read)]
    [InlineData("Read,Post", PublicFolderRights.Read | PublicFolderRights.Post)]
    [InlineData("all", PublicFolderRights.All)]
    [InlineData("none", PublicFolderRights.None)]
    [InlineData("read+moderate", PublicFolderRights.Read | PublicFolderRights.Moderate)]
    public void ParsesAndFormatsBack(string text, PublicFolderRights expected)
    {
        Assert.True(PublicFolderPrincipals.TryParseRights(text, out var rights));
        Assert.Equal(expected, rights);
        Assert.True(PublicFolderPrincipals.TryParseRights(PublicFolderPrincipals.FormatRights(rights), out var again));
        Assert.Equal(rights, again);
    }

    [Fact]
    public void UnknownWordsAreRefused() => Assert.False(PublicFolderPrincipals.TryParseRights("read,delete", out _));
}
