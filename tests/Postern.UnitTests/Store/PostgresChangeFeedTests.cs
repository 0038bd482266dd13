using Npgsql;
using Postern.Store;
using Postern.Store.Postgres;
using Postern.Tests;

namespace Postern.UnitTests.Store;

/// <summary>Mailbox changes between two nodes' feeds on one PostgreSQL database.</summary>
public sealed class PostgresChangeFeedTests
{
    [PostgresFact]
    public async Task A_change_reaches_the_other_node_and_one_missed_while_it_was_not_listening_is_made_up_for()
    {
        var folder = Path.Combine(Path.GetTempPath(), "postern-feed-" + Guid.NewGuid().ToString("N"));
        var connectionString = TestStoreOptions.DatabaseFor(folder);
        try
        {
            await using var first = new PostgresChangeFeed(connectionString);
            await using var second = new PostgresChangeFeed(connectionString);
            var changes = System.Threading.Channels.Channel.CreateUnbounded<MailboxChange>();
            using var subscription = second.Subscribe(7, change => changes.Writer.TryWrite(change));
            await WaitForListenersAsync(connectionString, 2);

            // A change on the first node is heard on the second; its own sessions hear it at once.
            first.Publish(new MailboxChange(7, MailboxChangeKind.Appended, 1, [1]));
            Assert.Equal(7, (await ReadAsync(changes)).MailboxId);

            // The second node's LISTEN connection is cut (a restart, a failover); a change made meanwhile is never
            // announced to it, so when it listens again every session is told to look at its mailbox.
            await ExecuteAsync(connectionString, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
            first.Publish(new MailboxChange(7, MailboxChangeKind.Expunged, 2, [1]));
            Assert.Equal(7, (await ReadAsync(changes)).MailboxId);
        }
        finally
        {
            TestStoreOptions.Drop(folder);
        }
    }

    private static async Task<MailboxChange> ReadAsync(System.Threading.Channels.Channel<MailboxChange> changes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await changes.Reader.ReadAsync(timeout.Token);
    }

    private static async Task WaitForListenersAsync(string connectionString, int count)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if (await ExecuteAsync(connectionString, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'") >= count)
            {
                return;
            }
        }

        Assert.Fail("the feeds did not start listening");
    }

    private static async Task<long> ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
