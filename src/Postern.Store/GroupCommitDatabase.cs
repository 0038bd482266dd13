using System.Data.Common;
using System.Reflection;

namespace Postern.Store;

/// <summary>
/// The engine-independent half of <see cref="IDatabase"/>: one writer connection that folds concurrent writes into one
/// transaction (group commit), each inside its own savepoint, and a small set of open read connections. The engines
/// (SQLite, PostgreSQL) say how to open a connection, how a batch becomes durable, and where their migrations are.
/// </summary>
internal abstract class GroupCommitDatabase : IDatabase, IAsyncDisposable
{
    private const int MaxIdleReaders = 16;

    // How often one write is put off to the next batch after a deadlock with another node before it is reported failed.
    private const int MaxDeferrals = 3;

    // Volatile batches run on a socket's event thread in a row before one goes to the pool, which may checkpoint the log.
    private const int MaxInlineBatches = 500;

    private readonly int _maxBatch;
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingWrite> _writes = new();
    private readonly List<PendingWrite> _batch;
    private readonly System.Collections.Concurrent.ConcurrentBag<DbConnection> _readers = [];

    // 1 while one thread owns the writer connection and runs batches: there is only ever one writer.
    private int _writerOwned;

    // Only the writer's owner touches it.
    private int _inlineBatches;
    private DbConnection? _writer;
    private volatile bool _disposed;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<NodeTask, SemaphoreSlim> _localLocks = new();

    protected GroupCommitDatabase(int maxBatch)
    {
        _maxBatch = maxBatch;
        _batch = new List<PendingWrite>(maxBatch);
    }

    public abstract string Engine { get; }

    public abstract SqlDialect Dialect { get; }

    /// <summary>The folder of this engine's migration scripts among the embedded resources.</summary>
    protected abstract string MigrationResourcePrefix { get; }

    /// <summary>A new open connection, for the writer or a reader.</summary>
    protected abstract DbConnection OpenConnection();

    /// <summary>
    /// Begins a batch's transaction on the writer; a batch of volatile writes only may skip the flush to disk. An
    /// <paramref name="inline"/> batch runs on a socket's event thread and must not wait for the disk (no checkpoint).
    /// </summary>
    protected abstract DbTransaction BeginBatch(DbConnection writer, bool durable, bool inline);

    /// <summary>Whether a batch of volatile writes may run on a socket's event thread (not when a write is a network round trip).</summary>
    protected virtual bool VolatileWritesRunInline => false;

    /// <summary>
    /// A batch of volatile writes only has committed without a flush. The engine sees that it reaches stable storage soon
    /// even if no durable commit follows (SQLite: an fsync of the log within a second).
    /// </summary>
    protected virtual void OnVolatileCommit()
    {
    }

    /// <summary>Runs before and after the migrations (PostgreSQL: a lock, so that nodes starting together migrate once).</summary>
    protected virtual void BeforeMigrations(DbConnection connection)
    {
    }

    protected virtual void AfterMigrations(DbConnection connection)
    {
    }

    protected DbConnection Writer => _writer ??= OpenConnection();

    /// <summary>
    /// Whether a read waits on a network socket (PostgreSQL). Such a read must not run on a socket's event thread: .NET
    /// emulates a blocking receive on a non-blocking socket by waiting for the event threads, so the thread would wait for
    /// itself.
    /// </summary>
    protected virtual bool ReadsUseNetwork => false;

    public Task<T> ReadAsync<T>(Func<DbConnection, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (ReadsUseNetwork && !Thread.CurrentThread.IsThreadPoolThread)
        {
            return Task.Run(() => Read(work), cancellationToken);
        }

        return Task.FromResult(Read(work));
    }

    private T Read<T>(Func<DbConnection, T> work)
    {
        for (var attempt = 0; ; attempt++)
        {
            // Read connections stay open between reads so that their prepared statements are reused (StatementCache).
            if (!_readers.TryTake(out var connection))
            {
                connection = OpenConnection();
            }

            try
            {
                return work(connection);
            }
            catch (Exception) when (attempt == 0 && connection.State != System.Data.ConnectionState.Open && !_disposed)
            {
                // A kept connection that the server closed (a PostgreSQL restart): the read runs once more on a new one.
            }
            finally
            {
                if (_disposed || _readers.Count >= MaxIdleReaders || connection.State != System.Data.ConnectionState.Open)
                {
                    connection.Dispose();
                }
                else
                {
                    _readers.Add(connection);
                }
            }
        }
    }

    /// <summary>One process owns an embedded store, so a lock in this process is a lock for every node there is.</summary>
    public virtual async Task<IAsyncDisposable> LockAsync(NodeTask task, CancellationToken cancellationToken)
    {
        var gate = _localLocks.GetOrAdd(task, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new LocalLock(gate);
    }

    public virtual async Task<IAsyncDisposable?> TryLockAsync(NodeTask task, CancellationToken cancellationToken)
    {
        var gate = _localLocks.GetOrAdd(task, static _ => new SemaphoreSlim(1, 1));
        return await gate.WaitAsync(0, cancellationToken).ConfigureAwait(false) ? new LocalLock(gate) : null;
    }

    private sealed class LocalLock(SemaphoreSlim gate) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }

            return ValueTask.CompletedTask;
        }
    }

    public Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) => Enqueue(new PendingWrite<T>(work, durable: true), cancellationToken);

    /// <summary>No write is queued and no thread holds the writer (for tests that need a caller to find it free).</summary>
    internal bool WriterIdle => Volatile.Read(ref _writerOwned) == 0 && _writes.IsEmpty;

    public Task<T> WriteVolatileAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) => Enqueue(new PendingWrite<T>(work, durable: false), cancellationToken);

    private Task<T> Enqueue<T>(PendingWrite<T> pending, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _writes.Enqueue(pending);

        // An idle writer: the caller runs the batch (its own write and whatever is queued) on its own thread. A writer
        // thread fed by a queue cost two thread switches per write (wake the writer, wake the caller again), a good
        // part of a lock-step client's cost per message. Writes queued meanwhile form the next batch on a pool thread,
        // so group commit is unchanged.
        if (Interlocked.CompareExchange(ref _writerOwned, 1, 0) == 0)
        {
            // A socket's event thread (inline socket completions) must not wait for an fsync: every connection it
            // serves would wait with it. It hands the batch to a pool thread instead.
            if (Thread.CurrentThread.IsThreadPoolThread)
            {
                RunNextBatch();
                ReleaseWriter();
            }
            else if (!pending.Durable && VolatileWritesRunInline && _inlineBatches < MaxInlineBatches)
            {
                // A volatile write (a flag change) waits for no disk: it commits here, without two thread switches, unless
                // a durable write is queued ahead of it, which then goes to the pool with everything behind it.
                _inlineBatches++;
                RunNextBatch(inline: true);
                ReleaseWriter();
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static database => database.DrainWrites(), this, preferLocal: false);
            }
        }

        return pending.Task.IsCompleted ? pending.Task : pending.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Gives up the writer; writes queued meanwhile are handed, with the writer, to a pool thread.</summary>
    private void ReleaseWriter()
    {
        // A full fence, not a plain release write: a caller that queued a write and then found the writer owned relies on
        // this check to see it, so the read of the queue must not move ahead of the store of 0.
        Interlocked.Exchange(ref _writerOwned, 0);
        if (!_writes.IsEmpty && Interlocked.CompareExchange(ref _writerOwned, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static database => database.DrainWrites(), this, preferLocal: false);
        }
    }

    private void DrainWrites()
    {
        while (!_writes.IsEmpty)
        {
            RunNextBatch();
        }

        ReleaseWriter();
    }

    private void RunNextBatch(bool inline = false)
    {
        _batch.Clear();
        while (_batch.Count < _maxBatch && _writes.TryPeek(out var next) && (!inline || !next.Durable) && _writes.TryDequeue(out var item))
        {
            _batch.Add(item);
        }

        if (!inline)
        {
            _inlineBatches = 0;
        }

        if (_batch.Count > 0)
        {
            RunBatch(_batch, inline);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (Volatile.Read(ref _writerOwned) != 0 || !_writes.IsEmpty)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        _writer?.Dispose();
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }

        OnDisposed();
    }

    protected virtual void OnDisposed()
    {
    }

    protected static void Exec(DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    private void RunBatch(List<PendingWrite> batch, bool inline)
    {
        for (var attempt = 0; ; attempt++)
        {
            var committing = false;
            try
            {
                // A batch with no durable write commits without a flush; the next durable commit carries it to disk, so
                // commit order is kept either way.
                var durable = batch.Exists(w => w.Durable);
                var writer = Writer;
                using var transaction = BeginBatch(writer, durable, inline);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Deferred = false;
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    if (batch[i].Failed)
                    {
                        continue;
                    }

                    var savepoint = "w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    transaction.Save(savepoint);
                    var context = new WriteContext(writer, transaction, Dialect);
                    try
                    {
                        batch[i].Execute(context);
                        transaction.Release(savepoint);
                    }
                    catch (Exception ex) when (writer.State == System.Data.ConnectionState.Open)
                    {
                        transaction.Rollback(savepoint);
                        transaction.Release(savepoint);
                        if (IsLockConflict(ex) && batch[i].Deferrals < MaxDeferrals)
                        {
                            batch[i].Deferred = true;
                        }
                        else
                        {
                            batch[i].SetFailed(ex);
                        }
                    }
                }

                committing = true;
                transaction.Commit();
                if (!durable)
                {
                    OnVolatileCommit();
                }

                break;
            }
            catch (Exception ex)
            {
                // A writer connection that broke (a PostgreSQL server restarted) is opened again. Lost before COMMIT was
                // sent, the transaction was rolled back, so the batch runs once more; lost during COMMIT, it may or may
                // not have committed, and the writes are reported failed (their clients retry, as SMTP's 451 asks).
                var broken = _writer is { State: not System.Data.ConnectionState.Open };
                if (broken)
                {
                    _writer!.Dispose();
                    _writer = null;
                }

                if (broken && !committing && attempt == 0 && !_disposed)
                {
                    continue;
                }

                foreach (var item in batch)
                {
                    item.SetFailed(ex);
                }

                return;
            }
        }

        foreach (var item in batch)
        {
            if (item.Deferred)
            {
                item.Deferrals++;
                _writes.Enqueue(item);
            }
            else
            {
                item.Complete();
            }
        }
    }

    /// <summary>
    /// A write another node's transaction deadlocked with (PostgreSQL 40P01; 40001 for completeness). The other batch waits
    /// for locks this batch holds until it commits, so the write runs again in the next batch rather than at once, where it
    /// would meet the same locks again.
    /// </summary>
    private static bool IsLockConflict(Exception ex) => ex is DbException { SqlState: "40P01" or "40001" };

    protected void Migrate()
    {
        var connection = Writer;
        BeforeMigrations(connection);
        try
        {
            Exec(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, applied BIGINT NOT NULL, PRIMARY KEY (module, version));");
            var assembly = typeof(GroupCommitDatabase).Assembly;
            var prefix = MigrationResourcePrefix;
            var scripts = assembly.GetManifestResourceNames()
                .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
                .Select(n => ParseName(prefix, n[prefix.Length..]))
                .OrderBy(s => s.Module == "core" ? 0 : 1)
                .ThenBy(s => s.Module, StringComparer.Ordinal)
                .ThenBy(s => s.Version)
                .ToList();

            foreach (var script in scripts)
            {
                using var check = connection.CreateCommand();
                check.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE module = @m AND version = @v";
                AddParameter(check, "@m", script.Module);
                AddParameter(check, "@v", script.Version);
                if (Convert.ToInt64(check.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0)
                {
                    continue;
                }

                using var transaction = connection.BeginTransaction();
                Exec(connection, ReadResource(assembly, script.Resource), transaction);
                using (var record = connection.CreateCommand())
                {
                    record.Transaction = transaction;
                    record.CommandText = "INSERT INTO schema_migrations (module, version, applied) VALUES (@m, @v, @t)";
                    AddParameter(record, "@m", script.Module);
                    AddParameter(record, "@v", script.Version);
                    AddParameter(record, "@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                    record.ExecuteNonQuery();
                }

                transaction.Commit();
            }
        }
        finally
        {
            AfterMigrations(connection);
        }
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    // Resource names look like "<prefix><module>.<NNN>_<name>.sql".
    private static (string Module, int Version, string Resource) ParseName(string prefix, string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var module = name[..dot];
        var file = name[(dot + 1)..];
        var digits = new string(file.TakeWhile(char.IsAsciiDigit).ToArray());
        var version = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        return (module, version, prefix + name);
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException("missing migration " + name);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private abstract class PendingWrite(bool durable)
    {
        public bool Durable { get; } = durable;

        /// <summary>Rolled back for a lock conflict with another node; runs again in the next batch.</summary>
        public bool Deferred { get; set; }

        public int Deferrals { get; set; }

        public abstract bool Failed { get; }

        public abstract void Execute(WriteContext context);

        public abstract void SetFailed(Exception exception);

        public abstract void Complete();
    }

    private sealed class PendingWrite<T>(Func<WriteContext, T> work, bool durable) : PendingWrite(durable)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private List<Action>? _afterCommit;
        private bool _failed;

        public Task<T> Task => _completion.Task;

        public override bool Failed => _failed;

        public override void Execute(WriteContext context)
        {
            _result = work(context);
            _afterCommit = context.TakeAfterCommit();
        }

        public override void SetFailed(Exception exception)
        {
            _failed = true;
            _completion.TrySetException(exception);
        }

        public override void Complete()
        {
            if (_failed)
            {
                return;
            }

            if (_afterCommit is not null)
            {
                foreach (var action in _afterCommit)
                {
                    try
                    {
                        action();
                    }
                    catch (Exception)
                    {
                        // A notification failure must not turn a durable write into a reported failure.
                    }
                }
            }

            _completion.TrySetResult(_result!);
        }
    }
}
