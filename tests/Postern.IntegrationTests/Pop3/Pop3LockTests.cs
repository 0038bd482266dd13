using Microsoft.Extensions.Logging.Abstractions;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Pop3;
using Postern.Store;

namespace Postern.IntegrationTests.Pop3;

/// <summary>RFC 1939 §8 maildrop locks: a database row, so they hold across processes, and lapse if their holder dies.</summary>
public sealed class Pop3LockTests
{
    private const string Alice = "alice@example.test";

    [Fact]
    public async Task LockRowLivesExactlyAsLongAsTheTransactionState()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        var inbox = await server.InboxAsync(alice);
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        Assert.Equal(0, await LockRowsAsync(server.Store, inbox.Id));

        await client.LoginAsync(Alice);
        Assert.Equal(1, await LockRowsAsync(server.Store, inbox.Id));

        Assert.StartsWith("+OK", await client.CommandAsync("QUIT"));
        Assert.True(await client.IsClosedAsync());
        await server.WaitForLocksReleasedAsync();
        Assert.Equal(0, await LockRowsAsync(server.Store, inbox.Id));
    }

    [Fact]
    public async Task QuitReleasesTheLockBeforeItsReply()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);

        // A client that reconnects the moment it reads QUIT's +OK must not find the maildrop locked.
        for (var i = 0; i < 20; i++)
        {
            await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
            await client.LoginAsync(Alice);
            Assert.StartsWith("+OK", await client.CommandAsync("QUIT"));
        }
    }

    [Fact]
    public async Task LockHeldByAnotherProcessRefusesUntilItLapses()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        var inbox = await server.InboxAsync(alice);
        var clock = new ManualClock(DateTimeOffset.UtcNow);

        // "Another process": its own lock owner on the same database, its clock frozen (it stopped refreshing).
        var other = new Pop3MaildropLocks(server.Store.Database, clock, NullLogger.Instance, TimeSpan.FromMinutes(2));
        Assert.True(await other.TryAcquireAsync(inbox.Id, 1, CancellationToken.None));
        Assert.False(await new Pop3MaildropLocks(server.Store.Database, clock, NullLogger.Instance, TimeSpan.FromMinutes(2)).TryAcquireAsync(inbox.Id, 2, CancellationToken.None));

        await using (var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort))
        {
            Assert.StartsWith("+OK", await client.CommandAsync("USER " + Alice));
            Assert.StartsWith("-ERR [IN-USE]", await client.CommandAsync("PASS " + Pop3TestServer.Password));
        }

        // Three minutes later by a third node's clock, the row has lapsed and is taken over.
        var later = new ManualClock(clock.Now + TimeSpan.FromMinutes(3));
        var third = new Pop3MaildropLocks(server.Store.Database, later, NullLogger.Instance, TimeSpan.FromMinutes(2));
        Assert.True(await third.TryAcquireAsync(inbox.Id, 3, CancellationToken.None));

        // The old holder's release does not remove the new holder's row.
        await other.ReleaseAsync(inbox.Id, 1, CancellationToken.None);
        Assert.Equal(1, await LockRowsAsync(server.Store, inbox.Id));
        await third.ReleaseAsync(inbox.Id, 3, CancellationToken.None);
        Assert.Equal(0, await LockRowsAsync(server.Store, inbox.Id));
        await server.WaitForLocksReleasedAsync();

        await using var again = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        await again.LoginAsync(Alice);
    }

    [Fact]
    public async Task LockLeftByACrashedServerOnThisMachineIsTakenAtOnce()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        var inbox = await server.InboxAsync(alice);
        var farFuture = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();

        // A process id that runs nothing: the row's holder crashed, its row would otherwise block for a lifetime.
        var deadOwner = $"{Environment.MachineName}/{int.MaxValue - 7}/0123456789abcdef";
        await InsertLockAsync(server.Store, inbox.Id, deadOwner, farFuture);
        await using (var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort))
        {
            await client.LoginAsync(Alice);
            Assert.StartsWith("+OK", await client.CommandAsync("QUIT"));
        }

        // A holder on another machine (or a live process here) is respected until its row lapses.
        await InsertLockAsync(server.Store, inbox.Id, "other-node/1234/0123456789abcdef", farFuture);
        await using (var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort))
        {
            Assert.StartsWith("+OK", await client.CommandAsync("USER " + Alice));
            Assert.StartsWith("-ERR [IN-USE]", await client.CommandAsync("PASS " + Pop3TestServer.Password));
        }

        Assert.False(Pop3MaildropLocks.IsDeadLocalHolder($"{Environment.MachineName}/{Environment.ProcessId}/x"));
        Assert.False(Pop3MaildropLocks.IsDeadLocalHolder("garbage"));
    }

    [Fact]
    public async Task HolderRefreshesItsLockWhileAlive()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        var inbox = await server.InboxAsync(alice);
        var locks = new Pop3MaildropLocks(server.Store.Database, TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(3));
        Assert.True(await locks.TryAcquireAsync(inbox.Id, 1, CancellationToken.None));
        var first = await ExpiresAsync(server.Store, inbox.Id);

        // Refreshed every lifetime/3 (one second here).
        long refreshed = first;
        for (var i = 0; i < 50 && refreshed <= first; i++)
        {
            await Task.Delay(100);
            refreshed = await ExpiresAsync(server.Store, inbox.Id);
        }

        Assert.True(refreshed > first);
        await locks.ReleaseAsync(inbox.Id, 1, CancellationToken.None);
        Assert.Equal(0, locks.HeldCount);
    }

    private static Task InsertLockAsync(IPosternStore store, long mailboxId, string owner, long expires) =>
        store.Database.WriteAsync(
            w => w.Command("INSERT INTO pop3_locks (mailbox_id, owner, session, acquired, expires) VALUES (@m, @o, 1, 0, @e) ON CONFLICT (mailbox_id) DO UPDATE SET owner = excluded.owner, session = excluded.session, acquired = excluded.acquired, expires = excluded.expires", ("@m", mailboxId), ("@o", owner), ("@e", expires)).Execute(),
            CancellationToken.None);

    private static Task<long> LockRowsAsync(IPosternStore store, long mailboxId) =>
        store.Database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM pop3_locks WHERE mailbox_id = @m", ("@m", mailboxId)).Scalar<long>(), CancellationToken.None);

    private static Task<long> ExpiresAsync(IPosternStore store, long mailboxId) =>
        store.Database.ReadAsync(c => c.CreateCommand("SELECT expires FROM pop3_locks WHERE mailbox_id = @m", ("@m", mailboxId)).Scalar<long>(), CancellationToken.None);
}
