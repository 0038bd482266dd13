using System.Text;
using Postern.Store;
using Postern.Tests;

namespace Postern.UnitTests.Store;

/// <summary>
/// Flag changes on the embedded store wait up to a second for the disk; a served data folder is marked so that after a
/// stop that was not clean no MODSEQ such a lost change took is handed out again.
/// </summary>
public sealed class CleanStopTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "postern-cleanstop-" + Guid.NewGuid().ToString("N"));

    private StoreOptions Options => new() { DataDirectory = _directory, PasswordIterations = 1000, TrackCleanStop = true };

    private string Mark => Path.Combine(_directory, "postern.serving");

    [SqliteFact]
    public async Task A_clean_stop_leaves_no_mark_and_the_next_start_keeps_every_modseq()
    {
        long highest;
        await using (var store = PosternStoreFactory.Open(Options))
        {
            Assert.True(File.Exists(Mark));
            highest = await ChangeFlagsAsync(store);
            Assert.False(store.RecoveredFromUncleanStop);
        }

        Assert.False(File.Exists(Mark));
        await using (var store = PosternStoreFactory.Open(Options))
        {
            Assert.False(store.RecoveredFromUncleanStop);
            Assert.Equal(highest, (await InboxAsync(store)).HighestModSeq);
        }
    }

    [SqliteFact]
    public async Task After_a_stop_that_was_not_clean_every_mailbox_modseq_moves_past_what_lost_flag_changes_could_have_taken()
    {
        long highest;
        await using (var store = PosternStoreFactory.Open(Options))
        {
            highest = await ChangeFlagsAsync(store);
        }

        // What a power failure leaves: the mark of a run that never stopped.
        await File.WriteAllTextAsync(Mark, "12345");
        await using (var store = PosternStoreFactory.Open(Options))
        {
            Assert.True(store.RecoveredFromUncleanStop);
            var inbox = await InboxAsync(store);
            Assert.Equal(highest + SqlPosternStore.ModSeqsSkippedAfterUncleanStop, inbox.HighestModSeq);

            // The next change takes a MODSEQ above every one the lost run could have given.
            var message = (await store.Mail.ListMessagesAsync(inbox.Id, None))[0];
            var result = await store.Mail.StoreFlagsAsync(inbox.Id, [message.Uid], FlagOperation.Add, MessageFlags.Answered, [], null, None);
            Assert.True(result.Updated[0].ModSeq > highest + SqlPosternStore.ModSeqsSkippedAfterUncleanStop);
        }

        Assert.False(File.Exists(Mark));
    }

    [SqliteFact]
    public async Task Admin_commands_that_open_the_store_neither_mark_it_nor_move_modseqs()
    {
        await using (var store = PosternStoreFactory.Open(Options))
        {
            await ChangeFlagsAsync(store);
        }

        await File.WriteAllTextAsync(Mark, "12345");
        await using (var store = PosternStoreFactory.Open(new StoreOptions { DataDirectory = _directory, PasswordIterations = 1000 }))
        {
            Assert.False(store.RecoveredFromUncleanStop);
        }

        // The mark belongs to serve: a CLI command run beside it leaves it in place.
        Assert.True(File.Exists(Mark));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<Mailbox> InboxAsync(IPosternStore store)
    {
        var account = (await store.Directory.FindAccountAsync("dana@example.test", None))!;
        return (await store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
    }

    private static async Task<long> ChangeFlagsAsync(IPosternStore store)
    {
        var account = (await store.Directory.AddAccountAsync("dana@example.test", "pw", None)).Value!;
        var inbox = (await store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!;
        var appended = (await store.Mail.AppendAsync(inbox.Id, Encoding.ASCII.GetBytes("Subject: x\r\n\r\nbody\r\n"), MessageFlags.None, [], DateTimeOffset.UtcNow, None)).Value!;
        var result = await store.Mail.StoreFlagsAsync(inbox.Id, [appended.Uid], FlagOperation.Add, MessageFlags.Seen, [], null, None);
        Assert.Single(result.Updated);
        return (await store.Mail.GetMailboxAsync(account.Id, "INBOX", None))!.HighestModSeq;
    }
}
