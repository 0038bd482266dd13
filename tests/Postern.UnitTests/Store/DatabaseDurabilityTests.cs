using Postern.Tests;
using Postern.Store;

namespace Postern.UnitTests.Store;

public sealed class DatabaseDurabilityTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [SqliteFact]
    public async Task Durable_writes_commit_with_synchronous_full_and_volatile_ones_without()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;

        // PRAGMA synchronous: 2 = FULL (the WAL is fsynced at commit), 1 = NORMAL (not at commit, but a checkpoint still
        // fsyncs the WAL before it and the database after it; OFF would not, and could lose durable commits).
        Assert.Equal(1L, await database.WriteVolatileAsync(w => w.Command("PRAGMA synchronous").Scalar<long>(), None));
        Assert.Equal(2L, await database.WriteAsync(w => w.Command("PRAGMA synchronous").Scalar<long>(), None));
        Assert.Equal(1L, await database.WriteVolatileAsync(w => w.Command("PRAGMA synchronous").Scalar<long>(), None));
    }

    [SqliteFact]
    public async Task A_volatile_commit_is_fsynced_within_about_a_second_when_no_durable_one_follows()
    {
        await using var fixture = new StoreFixture();
        var database = (Postern.Store.Sqlite.SqliteDatabase)fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);
        await Task.Delay(1500);
        var before = database.LogFlushes;

        await database.WriteVolatileAsync(w => w.Command("INSERT INTO scratch (v) VALUES (1)").Execute(), None);
        await database.WriteVolatileAsync(w => w.Command("INSERT INTO scratch (v) VALUES (2)").Execute(), None);
        Assert.Equal(before, database.LogFlushes);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (database.LogFlushes == before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        // One flush for both commits; durable commits never arm it.
        Assert.Equal(before + 1, database.LogFlushes);
        await database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (3)").Execute(), None);
        await Task.Delay(1500);
        Assert.Equal(before + 1, database.LogFlushes);
    }

    [PostgresFact]
    public async Task Reads_and_writes_go_on_after_the_database_server_dropped_every_connection()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);
        await database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (1)").Execute(), None);
        Assert.Equal(1L, await database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM scratch").Scalar<long>(), None));

        // What a PostgreSQL restart or failover does to the kept writer and reader connections.
        var name = new Npgsql.NpgsqlConnectionStringBuilder(TestStoreOptions.DatabaseFor(fixture.Directory)).Database;
        await using (var admin = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(TestStoreOptions.PostgresServer!) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new Npgsql.NpgsqlCommand("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @d AND pid <> pg_backend_pid()", admin);
            terminate.Parameters.AddWithValue("d", name!);
            Assert.True((long)(await terminate.ExecuteScalarAsync())! >= 2, "the writer and a reader were connected");
        }

        // Nothing acknowledged is lost, and the next read and write find a new connection by themselves.
        Assert.Equal(1L, await database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM scratch").Scalar<long>(), None));
        await database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (2)").Execute(), None);
        Assert.Equal(2L, await database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM scratch").Scalar<long>(), None));
    }

    [Fact]
    public async Task A_write_from_a_socket_event_thread_commits_on_a_pool_thread_and_leaves_the_caller_free()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);

        // A dedicated thread, as a socket engine's event thread is with inline completions: it must not run the batch
        // (and its fsync) itself, or every connection on that thread would wait for the disk.
        var (caller, committer, callerFreeBeforeCommit) = await Connections.EventThreadTests.OnDedicatedThreadAsync(async () =>
        {
            var callerThread = Environment.CurrentManagedThreadId;
            var committerThread = 0;
            var task = database.WriteAsync(w =>
            {
                committerThread = Environment.CurrentManagedThreadId;
                return w.Command("INSERT INTO scratch (v) VALUES (1)").Execute();
            }, None);
            var free = !task.IsCompleted || committerThread != callerThread;
            await task;
            return (callerThread, committerThread, free);
        });

        Assert.NotEqual(caller, committer);
        Assert.True(callerFreeBeforeCommit);
        Assert.Equal(1L, await database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM scratch").Scalar<long>(), None));
    }

    [SqliteFact]
    public async Task A_volatile_write_from_a_socket_event_thread_commits_there_without_checkpointing_and_the_pool_checkpoints_later()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        var writer = (GroupCommitDatabase)database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);

        // A flag change waits for no disk, so it is not worth two thread switches; a checkpoint (two fsyncs) must still
        // never run on an event thread, and after a run of inline commits the pool takes one, which may checkpoint.
        var committers = await Connections.EventThreadTests.OnDedicatedThreadAsync(async () =>
        {
            var caller = Environment.CurrentManagedThreadId;
            var seen = new List<(bool OnCaller, long AutoCheckpoint)>();
            for (var i = 0; i < 600; i++)
            {
                // Each write finds the writer free, as a session's next write does once the pool thread that ran the
                // last batch has given it up. On a busy core this thread could come first, and a write that queues goes
                // to the pool, which then also runs this loop's continuation and every write after it.
                SpinWait.SpinUntil(() => writer.WriterIdle);
                var value = i;
                seen.Add(await database.WriteVolatileAsync(
                    w => (Environment.CurrentManagedThreadId == caller, w.Command("INSERT INTO scratch (v) VALUES (@v); PRAGMA wal_autocheckpoint", ("@v", value)).Scalar<long>()), None));
            }

            return seen;
        });

        // The first MaxInlineBatches (500) commit on the caller; the next goes to the pool.
        Assert.True(committers.Take(500).All(c => c.OnCaller));
        Assert.InRange(committers.Count(c => c.OnCaller), 500, 599);
        Assert.All(committers.Where(c => c.OnCaller), c => Assert.Equal(0L, c.AutoCheckpoint));
        Assert.Contains(committers, c => !c.OnCaller);
        Assert.All(committers.Where(c => !c.OnCaller), c => Assert.Equal(1000L, c.AutoCheckpoint));
        Assert.Equal(1000L, await database.WriteAsync(w => w.Command("PRAGMA wal_autocheckpoint").Scalar<long>(), None));
        Assert.Equal(600L, await database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM scratch").Scalar<long>(), None));
    }

    [Fact]
    public async Task A_volatile_write_is_committed_and_seen_by_readers_and_survives_a_clean_restart()
    {
        await using var fixture = new StoreFixture();
        await fixture.Store.Database.WriteVolatileAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);
        await fixture.Store.Database.WriteVolatileAsync(w => w.Command("INSERT INTO scratch (v) VALUES (42)").Execute(), None);

        Assert.Equal(42L, await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch").Scalar<long>(), None));
        await fixture.ReopenAsync();
        Assert.Equal(42L, await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch").Scalar<long>(), None));
    }

    [SqliteFact]
    public async Task Kept_read_statements_never_hold_back_a_checkpoint()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);
        for (var i = 0; i < 50; i++)
        {
            var value = i;
            await database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (@v)", ("@v", value)).Execute(), None);
            Assert.Equal(value + 1L, await database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM scratch").Scalar<long>(), None));
            Assert.Single(await database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch WHERE v = @v", ("@v", value)).Query(r => r.GetInt64(0)), None));
        }

        // A kept statement left unreset would hold a WAL snapshot open: a TRUNCATE checkpoint would then report busy (1).
        await using var outside = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + Path.Combine(fixture.Directory, "postern.db"));
        await outside.OpenAsync();
        Assert.Equal([0L], outside.CreateCommand("PRAGMA wal_checkpoint(TRUNCATE)").Query(r => r.GetInt64(0)));
    }

    [SqliteFact]
    public async Task Concurrent_writes_from_many_threads_all_commit_once_in_one_order()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (seq INTEGER PRIMARY KEY AUTOINCREMENT, v INTEGER NOT NULL)").Execute(), None);

        // Callers race for the writer: whoever finds it idle commits on its own thread, the rest are batched behind it.
        var writes = Enumerable.Range(0, 400).Select(i => Task.Run(() =>
            database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (@v) RETURNING seq", ("@v", i)).Scalar<long>(), None))).ToArray();
        var sequence = await Task.WhenAll(writes);

        Assert.Equal(400, sequence.Distinct().Count());
        var stored = await database.ReadAsync(c => c.CreateCommand("SELECT seq, v FROM scratch ORDER BY seq").Query(r => (Seq: r.GetInt64(0), V: r.GetInt64(1))), None);
        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), stored.Select(r => r.Seq));
        Assert.Equal(Enumerable.Range(0, 400).Select(i => (long)i).Order(), stored.Select(r => r.V).Order());
        for (var i = 0; i < 400; i++)
        {
            Assert.Equal(i, stored.Single(r => r.Seq == sequence[i]).V);
        }
    }

    [SqliteFact]
    public async Task A_write_queued_from_an_after_commit_action_completes_and_a_failed_write_spoils_no_other()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (v INTEGER NOT NULL UNIQUE)").Execute(), None);

        // The after-commit action runs while its thread still owns the writer: the nested write must not wait for it.
        Task<int>? nested = null;
        await database.WriteAsync(w =>
        {
            w.AfterCommit(() => nested = database.WriteAsync(n => n.Command("INSERT INTO scratch (v) VALUES (2)").Execute(), None));
            return w.Command("INSERT INTO scratch (v) VALUES (1)").Execute();
        }, None);
        Assert.NotNull(nested);
        Assert.Equal(1, await nested.WaitAsync(TimeSpan.FromSeconds(10)));

        var duplicate = database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (1)").Execute(), None);
        var fine = database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (3)").Execute(), None);
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => duplicate);
        Assert.Equal(1, await fine);
        Assert.Equal([1L, 2L, 3L], await database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch ORDER BY v").Query(r => r.GetInt64(0)), None));
    }

    [Fact]
    public async Task A_node_task_is_run_by_one_node_at_a_time_and_is_free_again_once_released()
    {
        await using var fixture = new StoreFixture();

        // On PostgreSQL a second store on the same database is another node; an embedded store has one process only.
        var onPostgres = TestStoreOptions.PostgresServer is not null;
        var other = onPostgres ? PosternStoreFactory.Open(TestStoreOptions.For(fixture.Directory)) : fixture.Store;
        try
        {
            var held = await fixture.Store.Database.TryLockAsync(NodeTask.CertificateWatch, None);
            Assert.NotNull(held);
            Assert.Null(await other.Database.TryLockAsync(NodeTask.CertificateWatch, None));
            await using (var unrelated = await other.Database.TryLockAsync(NodeTask.FirstStart, None))
            {
                Assert.NotNull(unrelated);
            }

            // A node that waits for the task gets it as soon as the holder lets go.
            var waiting = other.Database.LockAsync(NodeTask.CertificateWatch, None);
            await Task.Delay(300);
            Assert.False(waiting.IsCompleted);
            await held.DisposeAsync();
            await using (await waiting.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                Assert.Null(await fixture.Store.Database.TryLockAsync(NodeTask.CertificateWatch, None));
            }

            await using var again = await fixture.Store.Database.TryLockAsync(NodeTask.CertificateWatch, None);
            Assert.NotNull(again);
        }
        finally
        {
            if (onPostgres)
            {
                await other.DisposeAsync();
            }
        }
    }

    [PostgresFact]
    public async Task A_write_that_deadlocked_with_another_node_runs_again_once_the_other_has_committed()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (k INTEGER PRIMARY KEY, v INTEGER)").Execute(), None);
        await database.WriteAsync(w => w.Command("INSERT INTO scratch (k, v) VALUES (1, 0), (2, 0)").Execute(), None);

        // Another node's transaction holds row 2 and will want row 1; this node's write takes row 1, then waits for row 2.
        // PostgreSQL cancels the transaction whose deadlock check (deadlock_timeout after it began to wait) finds the
        // cycle. This node's write waits second, after the other node (whose own check is put off) already waits, so it
        // is the one cancelled: its savepoint rollback frees row 1 for the other node, which commits. (Made to wait
        // first, as before, a loaded machine sometimes let its one check pass before the cycle closed, and the other
        // node was cancelled instead.)
        await using var other = new Npgsql.NpgsqlConnection(TestStoreOptions.DatabaseFor(fixture.Directory));
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await Exec(other, "SET LOCAL deadlock_timeout = '60s'");
        await Exec(other, "UPDATE scratch SET v = v + 10 WHERE k = 2");
        var holdsRow1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var otherWaits = new ManualResetEventSlim();
        var attempts = 0;
        var write = Task.Run(() => database.WriteAsync(w =>
        {
            w.Command("UPDATE scratch SET v = v + 1 WHERE k = 1").Execute();
            if (Interlocked.Increment(ref attempts) == 1)
            {
                holdsRow1.TrySetResult();
                Assert.True(otherWaits.Wait(TimeSpan.FromSeconds(20)), "the other node never waited for row 1");
            }

            return w.Command("UPDATE scratch SET v = v + 1 WHERE k = 2").Execute();
        }, None));

        await holdsRow1.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var otherUpdate = Exec(other, "UPDATE scratch SET v = v + 10 WHERE k = 1");
        await using (var watcher = new Npgsql.NpgsqlConnection(TestStoreOptions.DatabaseFor(fixture.Directory)))
        {
            await watcher.OpenAsync();
            await using var waiting = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", watcher);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((long)(await waiting.ExecuteScalarAsync())! == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the other node never waited for row 1");
                await Task.Delay(20);
            }
        }

        otherWaits.Set();
        await otherUpdate.WaitAsync(TimeSpan.FromSeconds(20));
        await transaction.CommitAsync();

        Assert.Equal(1, await write.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(2, Volatile.Read(ref attempts));
        Assert.Equal([11L, 11L], await database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch ORDER BY k").Query(r => r.GetInt64(0)), None));

        static async Task Exec(Npgsql.NpgsqlConnection connection, string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
