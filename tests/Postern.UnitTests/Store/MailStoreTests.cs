using Postern.Tests;
using System.Text;
using Postern.Store;

namespace Postern.UnitTests.Store;

public sealed class MailStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task NewAccountHasInboxAndSpecialUseMailboxes()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("alice@example.test", "secret", None)).Value!;
        var names = (await fixture.Store.Mail.ListMailboxesAsync(account.Id, None)).ToDictionary(m => m.Name, m => m.SpecialUse);

        Assert.Null(names["INBOX"]);
        Assert.Equal("\\Sent", names["Sent"]);
        Assert.Equal("\\Drafts", names["Drafts"]);
        Assert.Equal("\\Trash", names["Trash"]);
        Assert.Equal("\\Junk", names["Junk"]);
        Assert.Equal("\\Archive", names["Archive"]);
        Assert.True(await fixture.Store.Directory.IsLocalDomainAsync("EXAMPLE.test", None));
    }

    [Fact]
    public async Task PasswordsAreHashedAndVerified()
    {
        await using var fixture = new StoreFixture();
        await fixture.Store.Directory.AddAccountAsync("bob@example.test", "correct horse", None);

        Assert.NotNull(await fixture.Store.Directory.AuthenticateAsync("BOB@example.test", "correct horse", None));
        Assert.Null(await fixture.Store.Directory.AuthenticateAsync("bob@example.test", "wrong", None));
        Assert.Null(await fixture.Store.Directory.AuthenticateAsync("nobody@example.test", "correct horse", None));

        var stored = await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT password_hash FROM accounts").Scalar<string>(), None);
        Assert.StartsWith("$pbkdf2-sha256$i=1000$", stored);
        Assert.DoesNotContain("correct horse", stored, StringComparison.Ordinal);

        await fixture.Store.Directory.SetPasswordAsync("bob@example.test", "new one", None);
        Assert.Null(await fixture.Store.Directory.AuthenticateAsync("bob@example.test", "correct horse", None));
        Assert.NotNull(await fixture.Store.Directory.AuthenticateAsync("bob@example.test", "new one", None));
    }

    [Fact]
    public async Task AccountsCanBeDisabledAndGivenQuotasAndAliasesListedAndRemoved()
    {
        await using var fixture = new StoreFixture();
        var directory = fixture.Store.Directory;
        await directory.AddAccountAsync("bob@example.test", "correct horse", None);

        // A disabled account cannot log on, even with the right password; enabled again, it can.
        Assert.True(await directory.SetEnabledAsync("BOB@example.test", false, None));
        Assert.Null(await directory.AuthenticateAsync("bob@example.test", "correct horse", None));
        Assert.False((await directory.FindAccountAsync("bob@example.test", None))!.Enabled);
        Assert.True(await directory.SetEnabledAsync("bob@example.test", true, None));
        Assert.NotNull(await directory.AuthenticateAsync("bob@example.test", "correct horse", None));
        Assert.False(await directory.SetEnabledAsync("nobody@example.test", false, None));

        Assert.True(await directory.SetQuotaAsync("bob@example.test", 5 << 20, None));
        Assert.Equal(5 << 20, (await directory.FindAccountAsync("bob@example.test", None))!.QuotaBytes);
        Assert.True(await directory.SetQuotaAsync("bob@example.test", -1, None));
        Assert.Equal(0, (await directory.FindAccountAsync("bob@example.test", None))!.QuotaBytes);
        Assert.False(await directory.SetQuotaAsync("nobody@example.test", 1, None));

        await directory.AddAliasAsync("team@example.test", "bob@example.test", None);
        await directory.AddAliasAsync("all@example.test", "team@example.test", None);
        Assert.Equal([new MailAlias("all@example.test", "team@example.test"), new MailAlias("team@example.test", "bob@example.test")], await directory.ListAliasesAsync(None));
        Assert.Equal("bob@example.test", (await directory.ResolveRecipientAsync("all@example.test", None))!.Address);
        Assert.True(await directory.RemoveAliasAsync("TEAM@example.test", None));
        Assert.False(await directory.RemoveAliasAsync("team@example.test", None));
        Assert.Null(await directory.ResolveRecipientAsync("all@example.test", None));
    }

    [Fact]
    public async Task ConcurrentAppendsGetDistinctAscendingUids()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("carol@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "inbox", None))!;

        var appends = Enumerable.Range(0, 200).Select(i =>
            fixture.Store.Mail.AppendAsync(inbox.Id, Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\nbody {i}\r\n"), MessageFlags.None, [], DateTimeOffset.UtcNow, None));
        var results = await Task.WhenAll(appends);

        var uids = results.Select(r => r.Value!.Uid).ToList();
        Assert.Equal(200, uids.Distinct().Count());
        var messages = await fixture.Store.Mail.ListMessagesAsync(inbox.Id, None);
        Assert.Equal(uids.Order(), messages.Select(m => m.Uid));
        var status = await fixture.Store.Mail.GetStatusAsync(inbox.Id, None);
        Assert.Equal(201, status.UidNext);
        Assert.Equal(200, status.Messages);
    }

    [Fact]
    public async Task MultiappendAddsEveryMessageWithConsecutiveUidsOrNone()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("erin@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
        var when = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        NewMessage[] messages =
        [
            new("Subject: 1\r\n\r\none\r\n"u8.ToArray(), MessageFlags.Seen, [], when),
            new("Subject: 2\r\n\r\ntwo\r\n"u8.ToArray(), MessageFlags.Flagged, ["$Work"], when),
        ];

        var appended = await fixture.Store.Mail.AppendAllAsync(inbox.Id, messages, None);
        Assert.True(appended.IsOk);
        Assert.Equal([1L, 2L], appended.Value!.Select(r => r.Uid));
        var stored = await fixture.Store.Mail.ListMessagesAsync(inbox.Id, None);
        Assert.Equal([MessageFlags.Seen, MessageFlags.Flagged], stored.Select(m => m.Flags));
        Assert.Equal(["$Work"], stored[1].Keywords);
        Assert.All(stored, m => Assert.Equal(when, m.InternalDate));

        // A target that is gone takes nothing, and the UIDs of the real mailbox do not move.
        var missing = await fixture.Store.Mail.AppendAllAsync(inbox.Id + 1000, messages, None);
        Assert.Equal(StoreStatus.NotFound, missing.Status);
        Assert.Equal(3, (await fixture.Store.Mail.GetStatusAsync(inbox.Id, None)).UidNext);
    }

    [Fact]
    public async Task FlagsChangeModSeqAndUnchangedSinceReportsConflicts()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("dave@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
        var first = (await fixture.Store.Mail.AppendAsync(inbox.Id, "a\r\n"u8.ToArray(), MessageFlags.None, [], DateTimeOffset.UtcNow, None)).Value!;
        var second = (await fixture.Store.Mail.AppendAsync(inbox.Id, "b\r\n"u8.ToArray(), MessageFlags.None, [], DateTimeOffset.UtcNow, None)).Value!;

        var changed = await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [first.Uid], FlagOperation.Add, MessageFlags.Seen | MessageFlags.Flagged, ["$Important"], null, None);
        var updated = Assert.Single(changed.Updated);
        Assert.True(updated.ModSeq > second.ModSeq);
        Assert.Equal(MessageFlags.Seen | MessageFlags.Flagged, updated.Flags);
        Assert.Equal(["$Important"], updated.Keywords);

        var conflict = await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [first.Uid, second.Uid], FlagOperation.Add, MessageFlags.Answered, [], second.ModSeq, None);
        Assert.Equal([first.Uid], conflict.Conflicts);
        Assert.Equal(second.Uid, Assert.Single(conflict.Updated).Uid);

        var sinceFirstChange = await fixture.Store.Mail.ListMessagesChangedSinceAsync(inbox.Id, updated.ModSeq, None);
        Assert.Equal([second.Uid], sinceFirstChange.Select(m => m.Uid));
    }

    [Fact]
    public async Task A_mailbox_keeps_the_keywords_set_in_it_and_cuts_the_list_back_to_those_in_use_once_it_is_long()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("kim@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
        var first = (await fixture.Store.Mail.AppendAsync(inbox.Id, "a\r\n"u8.ToArray(), MessageFlags.None, ["$Appended"], DateTimeOffset.UtcNow, None)).Value!;
        await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [first.Uid], FlagOperation.Add, MessageFlags.None, ["$Stored", "$appended"], null, None);
        await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [first.Uid], FlagOperation.Replace, MessageFlags.None, [], null, None);

        // Kept once no message carries them; matched without regard to case, as IMAP keywords are.
        var keywords = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!.Keywords;
        Assert.Equal(["$Appended", "$Stored"], keywords);

        // Past 1,024 the list is cut back to the keywords in use, the new ones included.
        await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [first.Uid], FlagOperation.Add, MessageFlags.None, ["$Kept"], null, None);
        var archive = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "Archive", None))!;
        Assert.True((await fixture.Store.Mail.CopyAsync(inbox.Id, [first.Uid], archive.Id, move: false, None)).IsOk);
        Assert.Equal(["$Kept"], (await fixture.Store.Mail.GetMailboxAsync(account.Id, "Archive", None))!.Keywords);
        for (var batch = 0; batch < 4; batch++)
        {
            var many = Enumerable.Range(batch * 256, 256).Select(i => "k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
            await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [first.Uid], FlagOperation.Add, MessageFlags.None, many, null, None);
            if (batch < 3)
            {
                await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [first.Uid], FlagOperation.Remove, MessageFlags.None, many, null, None);
                Assert.Equal(3 + ((batch + 1) * 256), (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!.Keywords.Count);
            }
        }

        var cut = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!.Keywords;
        Assert.Equal(257, cut.Count);
        Assert.Contains("$Kept", cut);
        Assert.Contains("k1023", cut);
        Assert.DoesNotContain("k0", cut);
    }

    [Fact]
    public async Task ExpungeRemovesOnlyDeletedAndRemembersVanished()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("erin@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
        var uids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            uids.Add((await fixture.Store.Mail.AppendAsync(inbox.Id, "x\r\n"u8.ToArray(), MessageFlags.None, [], DateTimeOffset.UtcNow, None)).Value!.Uid);
        }

        var before = (await fixture.Store.Mail.GetStatusAsync(inbox.Id, None)).HighestModSeq;
        await fixture.Store.Mail.StoreFlagsAsync(inbox.Id, [uids[1]], FlagOperation.Add, MessageFlags.Deleted, [], null, None);
        var expunged = await fixture.Store.Mail.ExpungeAsync(inbox.Id, null, onlyDeleted: true, None);

        Assert.Equal([uids[1]], expunged);
        Assert.Equal([uids[0], uids[2]], (await fixture.Store.Mail.ListMessagesAsync(inbox.Id, None)).Select(m => m.Uid));
        Assert.Equal([uids[1]], await fixture.Store.Mail.ListExpungedSinceAsync(inbox.Id, before, None));

        // POP3-style: exactly the named UIDs, flagged or not.
        Assert.Equal([uids[0]], await fixture.Store.Mail.ExpungeAsync(inbox.Id, [uids[0]], onlyDeleted: false, None));
    }

    [Fact]
    public async Task MoveAllocatesNewUidsAndExpungesSource()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("fay@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
        var archive = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "Archive", None))!;
        var uid = (await fixture.Store.Mail.AppendAsync(inbox.Id, "m\r\n"u8.ToArray(), MessageFlags.Seen, ["k"], DateTimeOffset.UtcNow, None)).Value!.Uid;

        var moved = await fixture.Store.Mail.CopyAsync(inbox.Id, [uid], archive.Id, move: true, None);

        Assert.True(moved.IsOk);
        Assert.Equal(archive.UidValidity, moved.Value!.UidValidity);
        Assert.Empty(await fixture.Store.Mail.ListMessagesAsync(inbox.Id, None));
        var copy = Assert.Single(await fixture.Store.Mail.ListMessagesAsync(archive.Id, None));
        Assert.Equal(moved.Value.DestinationUids[0], copy.Uid);
        Assert.Equal(MessageFlags.Seen, copy.Flags);
        Assert.Equal("m\r\n", Encoding.ASCII.GetString(await fixture.Store.Mail.ReadContentAsync(copy.BlobId, None)));
    }

    [Fact]
    public async Task UidValidityIsNeverReusedForARecreatedMailbox()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("gus@example.test", "pw", None)).Value!;
        var first = (await fixture.Store.Mail.CreateMailboxAsync(account.Id, "Projects", null, None)).Value!;
        Assert.Equal(StoreStatus.Ok, await fixture.Store.Mail.DeleteMailboxAsync(account.Id, "Projects", None));
        var second = (await fixture.Store.Mail.CreateMailboxAsync(account.Id, "Projects", null, None)).Value!;

        Assert.NotEqual(first.UidValidity, second.UidValidity);
        Assert.Equal(StoreStatus.Invalid, await fixture.Store.Mail.DeleteMailboxAsync(account.Id, "INBOX", None));
    }

    [Fact]
    public async Task IdsOfDeletedMailboxesAccountsQueueEntriesAndPublicFoldersAreNeverGivenToNewOnes()
    {
        await using var fixture = new StoreFixture();
        var one = (await fixture.Store.Directory.AddAccountAsync("k1@example.test", "pw", None)).Value!;
        var two = (await fixture.Store.Directory.AddAccountAsync("k2@example.test", "pw", None)).Value!;
        var newest = (await fixture.Store.Mail.CreateMailboxAsync(one.Id, "Private", null, None)).Value!;

        // The newest row goes; SQLite alone would hand its id, and every session or shared list still naming it, to the
        // next mailbox created, here another account's. Also across a restart.
        Assert.Equal(StoreStatus.Ok, await fixture.Store.Mail.DeleteMailboxAsync(one.Id, "Private", None));
        await fixture.ReopenAsync();
        var next = (await fixture.Store.Mail.CreateMailboxAsync(two.Id, "Other", null, None)).Value!;
        Assert.True(next.Id > newest.Id, $"mailbox id {next.Id} reused");

        // A removed account's id, which its open sessions still hold, is not the next account's either.
        var three = (await fixture.Store.Directory.AddAccountAsync("k3@example.test", "pw", None)).Value!;
        Assert.True(await fixture.Store.Directory.RemoveAccountAsync("k3@example.test", None));
        var four = (await fixture.Store.Directory.AddAccountAsync("k4@example.test", "pw", None)).Value!;
        Assert.True(four.Id > three.Id, $"account id {four.Id} reused");

        // A queue entry delivered (or deleted) while a delivery or an administrator still names it by id.
        var envelope = new OutboundEnvelope("k1@example.test", [new OutboundRecipient("x@remote.test")]);
        await fixture.Store.Mail.AcceptAsync("Subject: a\r\n\r\na\r\n"u8.ToArray(), [], envelope, DateTimeOffset.UtcNow, None);
        var delivered = Assert.Single(await fixture.Store.Queue.ListAsync(None));
        await fixture.Store.Queue.DeleteAsync(delivered.Id, None);
        await fixture.Store.Mail.AcceptAsync("Subject: b\r\n\r\nb\r\n"u8.ToArray(), [], envelope, DateTimeOffset.UtcNow, None);
        Assert.True(Assert.Single(await fixture.Store.Queue.ListAsync(None)).Id > delivered.Id, "queue id reused");

        var folder = (await fixture.Store.PublicFolders.AddFolderAsync("Team", "example.team", null, None)).Value!;
        Assert.Equal(StoreStatus.Ok, await fixture.Store.PublicFolders.RemoveFolderAsync("Team", None));
        var again = (await fixture.Store.PublicFolders.AddFolderAsync("Team", "example.team", null, None)).Value!;
        Assert.True(again.Id > folder.Id, $"public folder id {again.Id} reused");
    }

    [Fact]
    public async Task IdsOfPendingArticlesFeedEntriesAndPeersAreNeverGivenToNewOnes()
    {
        await using var fixture = new StoreFixture();
        var news = fixture.Store.PublicFolders;
        var folder = (await news.AddFolderAsync("Moderated", "example.moderated", null, None)).Value!;
        var peer = (await news.AddPeerAsync(new NewsPeer { Name = "east", Host = "east.example.test", Direction = NewsFeedDirection.Push }, None)).Value!;

        // A moderator acts on pending article N; the one after a rejected newest one must not be N.
        NewArticle Article(string id, bool hold) => new(Encoding.ASCII.GetBytes($"Message-ID: <{id}>\r\nSubject: s\r\n\r\nb\r\n"), $"<{id}>", [folder.Id], DateTimeOffset.UtcNow, hold);
        var first = (await news.PostArticleAsync(Article("p1@x", hold: true), None)).PendingId!.Value;
        Assert.True(await news.RejectPendingAsync(first, None));
        var second = (await news.PostArticleAsync(Article("p2@x", hold: true), None)).PendingId!.Value;
        Assert.True(second > first, $"pending id {second} reused");

        // A feed worker removes entry N once sent; a later article's entry must not be N.
        await news.PostArticleAsync(Article("f1@x", hold: false), None);
        var sent = Assert.Single(await news.ListDueFeedAsync(peer.Id, DateTimeOffset.UtcNow.AddMinutes(1), 10, None));
        await news.CompleteFeedAsync([sent.Id], None);
        await news.PostArticleAsync(Article("f2@x", hold: false), None);
        Assert.True(Assert.Single(await news.ListDueFeedAsync(peer.Id, DateTimeOffset.UtcNow.AddMinutes(1), 10, None)).Id > sent.Id, "feed entry id reused");

        Assert.True(await news.RemovePeerAsync("east", None));
        var west = (await news.AddPeerAsync(new NewsPeer { Name = "west", Host = "west.example.test" }, None)).Value!;
        Assert.True(west.Id > peer.Id, $"peer id {west.Id} reused");
    }

    [Fact]
    public async Task ContentIdOfAnExpungedMessageIsNeverGivenToNewContent()
    {
        await using var fixture = new StoreFixture();
        var one = (await fixture.Store.Directory.AddAccountAsync("i1@example.test", "pw", None)).Value!;
        var two = (await fixture.Store.Directory.AddAccountAsync("i2@example.test", "pw", None)).Value!;
        var inboxOne = (await fixture.Store.Mail.GetMailboxAsync(one.Id, "INBOX", None))!;
        var inboxTwo = (await fixture.Store.Mail.GetMailboxAsync(two.Id, "INBOX", None))!;
        var old = (await fixture.Store.Mail.AppendAsync(inboxOne.Id, "Subject: one's\r\n\r\nprivate\r\n"u8.ToArray(), MessageFlags.None, [], DateTimeOffset.UtcNow, None)).Value!;
        var stale = Assert.Single(await fixture.Store.Mail.ListMessagesAsync(inboxOne.Id, None));

        // The newest blob goes with the expunge; SQLite alone would hand its id to the next content.
        await fixture.Store.Mail.ExpungeAsync(inboxOne.Id, [old.Uid], onlyDeleted: false, None);
        await fixture.ReopenAsync();
        await fixture.Store.Mail.AppendAsync(inboxTwo.Id, "Subject: two's\r\n\r\nsecret\r\n"u8.ToArray(), MessageFlags.None, [], DateTimeOffset.UtcNow, None);
        var fresh = Assert.Single(await fixture.Store.Mail.ListMessagesAsync(inboxTwo.Id, None));

        Assert.True(fresh.BlobId > stale.BlobId);
        Assert.Null(await fixture.Store.Mail.ReadMessageContentAsync(inboxOne.Id, old.Uid, None));
        Assert.Empty(await fixture.Store.Mail.ReadContentAsync(stale.BlobId, None));
    }

    [Fact]
    public async Task TheReturnPathGoesOnTheMailboxCopiesOnlyNotOnTheQueuedOne()
    {
        await using var fixture = new StoreFixture();
        var one = (await fixture.Store.Directory.AddAccountAsync("rp@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(one.Id, "INBOX", None))!.Id;
        var content = "Subject: hello\r\n\r\nhi\r\n"u8.ToArray();

        await fixture.Store.Mail.AcceptAsync(content, [inbox], new OutboundEnvelope("s@example.test", [new OutboundRecipient("x@remote.test")]), DateTimeOffset.UtcNow, None,
            "Return-Path: <s@example.test>\r\n"u8.ToArray());

        var delivered = Assert.Single(await fixture.Store.Mail.ListMessagesAsync(inbox, None));
        Assert.Equal("Return-Path: <s@example.test>\r\nSubject: hello\r\n\r\nhi\r\n", Encoding.ASCII.GetString(await fixture.Store.Mail.ReadContentAsync(delivered.BlobId, None)));
        Assert.Equal(delivered.Size, await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT size FROM blobs WHERE id = @b", ("@b", delivered.BlobId)).Scalar<long>(), None));
        var queued = Assert.Single(await fixture.Store.Queue.ListAsync(None));
        Assert.Equal(content.Length, queued.Size);
        Assert.Equal("Subject: hello\r\n\r\nhi\r\n", Encoding.ASCII.GetString(await fixture.Store.Mail.ReadContentAsync(queued.BlobId, None)));
    }

    [Fact]
    public async Task AcceptedMessageSurvivesReopenWithQueueEntryAndSharedContent()
    {
        await using var fixture = new StoreFixture();
        var one = (await fixture.Store.Directory.AddAccountAsync("h1@example.test", "pw", None)).Value!;
        var two = (await fixture.Store.Directory.AddAccountAsync("h2@example.test", "pw", None)).Value!;
        var inboxes = new[] { (await fixture.Store.Mail.GetMailboxAsync(one.Id, "INBOX", None))!.Id, (await fixture.Store.Mail.GetMailboxAsync(two.Id, "INBOX", None))!.Id };
        var content = "Subject: hello\r\n\r\nhi\r\n"u8.ToArray();

        await fixture.Store.Mail.AcceptAsync(content, inboxes, new OutboundEnvelope("h1@example.test", [new OutboundRecipient("x@remote.test")]), DateTimeOffset.UtcNow, None);
        await fixture.ReopenAsync();

        var blobs = await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM blobs").Scalar<long>(), None);
        Assert.Equal(1, blobs);
        Assert.Single(await fixture.Store.Mail.ListMessagesAsync(inboxes[0], None));
        Assert.Single(await fixture.Store.Mail.ListMessagesAsync(inboxes[1], None));
        var queued = Assert.Single(await fixture.Store.Queue.ListAsync(None));
        Assert.Equal("x@remote.test", Assert.Single(queued.Recipients).Address);

        // Content goes only when nothing refers to it any more.
        await fixture.Store.Queue.DeleteAsync(queued.Id, None);
        await fixture.Store.Mail.ExpungeAsync(inboxes[0], null, onlyDeleted: false, None);
        Assert.Equal(1, await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM blobs").Scalar<long>(), None));
        await fixture.Store.Mail.ExpungeAsync(inboxes[1], null, onlyDeleted: false, None);
        Assert.Equal(0, await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM blobs").Scalar<long>(), None));
    }

    [Fact]
    public async Task ChangeFeedReportsAppendsAfterCommit()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("ivy@example.test", "pw", None)).Value!;
        var inbox = (await fixture.Store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
        var seen = new TaskCompletionSource<MailboxChange>();
        using var subscription = fixture.Store.Changes.Subscribe(inbox.Id, c => seen.TrySetResult(c));

        var appended = (await fixture.Store.Mail.AppendAsync(inbox.Id, "z\r\n"u8.ToArray(), MessageFlags.None, [], DateTimeOffset.UtcNow, None)).Value!;
        var change = await seen.Task.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(MailboxChangeKind.Appended, change.Kind);
        Assert.Equal([appended.Uid], change.Uids);
    }

    [Fact]
    public async Task PostmasterResolvesToTheConfiguredAccount()
    {
        await using var fixture = new StoreFixture();
        await fixture.Store.Directory.AddAccountAsync("admin@example.test", "pw", None);
        Assert.Null(await fixture.Store.Directory.ResolveRecipientAsync("postmaster@example.test", None));

        await fixture.Store.Configuration.SetSettingAsync(SettingKeys.Postmaster, "admin@example.test", None);
        Assert.Equal("admin@example.test", (await fixture.Store.Directory.ResolveRecipientAsync("PostMaster@example.test", None))?.Address);
    }

    [Fact]
    public async Task RemovingThePostmastersAccountHandsPostmasterMailToTheOldestAccountLeft()
    {
        await using var fixture = new StoreFixture();
        var directory = fixture.Store.Directory;
        await directory.AddAccountAsync("first@example.test", "pw", None);
        await directory.AddAccountAsync("second@example.test", "pw", None);
        await directory.AddAccountAsync("third@example.test", "pw", None);
        await fixture.Store.Configuration.SetSettingAsync(SettingKeys.Postmaster, "First@example.test", None);

        // Removing another account changes nothing; removing the postmaster's moves postmaster mail on, never to nowhere.
        Assert.True(await directory.RemoveAccountAsync("third@example.test", None));
        Assert.Equal("First@example.test", await fixture.Store.Configuration.GetSettingAsync(SettingKeys.Postmaster, None));
        Assert.True(await directory.RemoveAccountAsync("first@example.test", None));
        Assert.Equal("second@example.test", (await directory.ResolveRecipientAsync("postmaster@example.test", None))?.Address);

        // With no account left the setting goes, so that the next account added receives postmaster mail.
        Assert.True(await directory.RemoveAccountAsync("second@example.test", None));
        Assert.Null(await fixture.Store.Configuration.GetSettingAsync(SettingKeys.Postmaster, None));
    }

    [Fact]
    public async Task SubscriptionsAreNamesThatOutliveTheirMailboxes()
    {
        await using var fixture = new StoreFixture();
        var mail = fixture.Store.Mail;
        var account = (await fixture.Store.Directory.AddAccountAsync("jo@example.test", "pw", None)).Value!;
        Assert.Equal(["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"], await mail.ListSubscriptionsAsync(account.Id, None));

        await mail.CreateMailboxAsync(account.Id, "Lists", null, None);
        Assert.Equal(StoreStatus.Ok, await mail.SetSubscribedAsync(account.Id, "Lists", true, None));
        Assert.Equal(StoreStatus.Ok, await mail.SetSubscribedAsync(account.Id, "Lists", true, None));
        Assert.Equal(StoreStatus.Ok, await mail.SetSubscribedAsync(account.Id, "Not/Yet", true, None));
        Assert.Equal(StoreStatus.Ok, await mail.SetSubscribedAsync(account.Id, "inbox", true, None));
        Assert.Equal(StoreStatus.Ok, await mail.DeleteMailboxAsync(account.Id, "Lists", None));

        // RFC 3501 §6.3.6: DELETE does not take the name off the subscription list.
        var subscriptions = await mail.ListSubscriptionsAsync(account.Id, None);
        Assert.Contains("Lists", subscriptions);
        Assert.Contains("Not/Yet", subscriptions);
        Assert.Single(subscriptions, "INBOX");
        Assert.Null(await mail.GetMailboxAsync(account.Id, "Not/Yet", None));

        Assert.Equal(StoreStatus.Ok, await mail.SetSubscribedAsync(account.Id, "Lists", false, None));
        Assert.Equal(StoreStatus.Ok, await mail.SetSubscribedAsync(account.Id, "Lists", false, None));
        Assert.DoesNotContain("Lists", await mail.ListSubscriptionsAsync(account.Id, None));

        // Another account's list is its own.
        var other = (await fixture.Store.Directory.AddAccountAsync("kim@example.test", "pw", None)).Value!;
        Assert.DoesNotContain("Not/Yet", await mail.ListSubscriptionsAsync(other.Id, None));
        await fixture.Store.Directory.RemoveAccountAsync("jo@example.test", None);
        Assert.Empty(await mail.ListSubscriptionsAsync(account.Id, None));
    }

    [Fact]
    public async Task A_due_queue_entry_is_claimed_by_one_delivery_only_until_its_lease_ends()
    {
        await using var fixture = new StoreFixture();
        var envelope = new OutboundEnvelope("c1@example.test", [new OutboundRecipient("x@remote.test")]);
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 5; i++)
        {
            await fixture.Store.Mail.AcceptAsync(Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\n{i}\r\n"), [], envelope, now, None);
        }

        // Deliveries on several nodes of one store saw the queue at once: each message goes to exactly one of them, with
        // its recipients.
        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => fixture.Store.Queue.ClaimDueAsync(now.AddSeconds(1), now.AddMinutes(15), 2, None)));
        var taken = claims.SelectMany(c => c).ToList();
        Assert.Equal(5, taken.Count);
        Assert.Equal(5, taken.Select(m => m.Id).Distinct().Count());
        Assert.All(taken, m => Assert.Equal("x@remote.test", Assert.Single(m.Recipients).Address));
        Assert.Empty(await fixture.Store.Queue.ClaimDueAsync(now.AddMinutes(14), now.AddMinutes(30), 10, None));

        // A delivery that never came back leaves its message due again when the lease ends.
        Assert.Equal(5, (await fixture.Store.Queue.ClaimDueAsync(now.AddMinutes(16), now.AddMinutes(30), 10, None)).Count);
    }

    [Fact]
    public async Task RenameMovesTheSubscriptionsOfTheMailboxAndItsChildren()
    {
        await using var fixture = new StoreFixture();
        var mail = fixture.Store.Mail;
        var account = (await fixture.Store.Directory.AddAccountAsync("lee@example.test", "pw", None)).Value!;
        foreach (var name in new[] { "Work", "Work/Alpha", "Workshop" })
        {
            await mail.CreateMailboxAsync(account.Id, name, null, None);
            await mail.SetSubscribedAsync(account.Id, name, true, None);
        }

        await mail.SetSubscribedAsync(account.Id, "Work/Gone/Deep", true, None);
        await mail.SetSubscribedAsync(account.Id, "Done/Alpha", true, None);

        Assert.Equal(StoreStatus.Ok, await mail.RenameMailboxAsync(account.Id, "Work", "Done", '/', None));
        var subscriptions = await mail.ListSubscriptionsAsync(account.Id, None);
        Assert.Equal(["Done", "Done/Alpha", "Done/Gone/Deep", "Workshop"], subscriptions.Where(n => n.StartsWith("Do", StringComparison.Ordinal) || n.StartsWith("Wo", StringComparison.Ordinal)));

        // Renaming INBOX moves its messages, not INBOX itself: its subscription stays.
        Assert.Equal(StoreStatus.Ok, await mail.RenameMailboxAsync(account.Id, "INBOX", "Old", '/', None));
        subscriptions = await mail.ListSubscriptionsAsync(account.Id, None);
        Assert.Contains("INBOX", subscriptions);
        Assert.DoesNotContain("Old", subscriptions);
    }

    [SqliteFact]
    public async Task MigrationCarriesTheOldSubscribedColumnIntoTheSubscriptionList()
    {
        await using var fixture = new StoreFixture();
        var account = (await fixture.Store.Directory.AddAccountAsync("max@example.test", "pw", None)).Value!;
        await fixture.Store.Mail.CreateMailboxAsync(account.Id, "Kept", null, None);
        await fixture.Store.Mail.CreateMailboxAsync(account.Id, "Plain", null, None);

        // Back to the schema before mail migration 3: the flag on the mailbox row.
        await fixture.Store.Database.WriteAsync(w =>
        {
            w.Command("DROP TABLE subscriptions").Execute();
            w.Command("ALTER TABLE mailboxes ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 0").Execute();
            w.Command("UPDATE mailboxes SET subscribed = 1 WHERE name IN ('INBOX', 'Kept')").Execute();
            return w.Command("DELETE FROM schema_migrations WHERE module = 'mail' AND version = 3").Execute();
        }, None);
        await fixture.ReopenAsync();

        Assert.Equal(["INBOX", "Kept"], await fixture.Store.Mail.ListSubscriptionsAsync(account.Id, None));
        var columns = await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT name FROM pragma_table_info('mailboxes')").Query(r => r.GetString(0)), None);
        Assert.DoesNotContain("subscribed", columns);
    }
}
