using System.Data.Common;
using System.Reflection;
using Microsoft.Data.Sqlite;

namespace Postern.Store.Sqlite;

internal sealed class SqliteDatabase : IDatabase, IAsyncDisposable
{
    private const int MaxIdleReaders = 16;

    private readonly string _connectionString;
    private readonly int _maxBatch;
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingWrite> _writes = new();
    private readonly SqliteConnection _writer;
    private readonly List<PendingWrite> _batch;

    // 1 while one thread owns the writer connection and runs batches: there is only ever one writer.
    private int _writerOwned;
    private readonly System.Collections.Concurrent.ConcurrentBag<SqliteConnection> _readers = [];
    private bool _synchronousFull = true;
    private volatile bool _disposed;

    private SqliteDatabase(string path, int maxBatch)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _maxBatch = maxBatch;
        _batch = new List<PendingWrite>(maxBatch);
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();

        // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL at every commit,
        // which is what makes a 250 reply a promise (nothing acknowledged is ever lost). temp_store=MEMORY keeps the
        // statement journal of each write's savepoint in memory: on disk it was a temporary file that took a 60 KB
        // write and then a page write for each page the batch touched.
        Exec(_writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        StatementCache.Enable(_writer);
    }

    public string Engine => "sqlite";

    public static SqliteDatabase Open(string path, int maxBatch)
    {
        var database = new SqliteDatabase(path, maxBatch);
        database.Migrate();
        return database;
    }

    public Task<T> ReadAsync<T>(Func<DbConnection, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // Read connections stay open between reads so that their prepared statements are reused (StatementCache).
        if (!_readers.TryTake(out var connection))
        {
            connection = new SqliteConnection(_connectionString);
            connection.Open();
            StatementCache.Enable(connection);
        }

        try
        {
            return Task.FromResult(work(connection));
        }
        finally
        {
            if (_disposed || _readers.Count >= MaxIdleReaders)
            {
                connection.Dispose();
            }
            else
            {
                _readers.Add(connection);
            }
        }
    }

    public Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) => Enqueue(new PendingWrite<T>(work, durable: true), cancellationToken);

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

    private void RunNextBatch()
    {
        _batch.Clear();
        while (_batch.Count < _maxBatch && _writes.TryDequeue(out var item))
        {
            _batch.Add(item);
        }

        if (_batch.Count > 0)
        {
            RunBatch(_batch);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (Volatile.Read(ref _writerOwned) != 0 || !_writes.IsEmpty)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        _writer.Dispose();
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }

        SqliteConnection.ClearAllPools();
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void RunBatch(List<PendingWrite> batch)
    {
        try
        {
            // A batch with no durable write commits without an fsync; in WAL mode the next durable commit fsyncs
            // the log up to and including it, so commit order is kept either way.
            var durable = batch.Exists(w => w.Durable);
            if (durable != _synchronousFull)
            {
                Exec(_writer, durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;");
                _synchronousFull = durable;
            }

            using var transaction = _writer.BeginTransaction(deferred: false);
            for (var i = 0; i < batch.Count; i++)
            {
                var savepoint = "w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                transaction.Save(savepoint);
                var context = new WriteContext(_writer, transaction);
                try
                {
                    batch[i].Execute(context);
                    transaction.Release(savepoint);
                }
                catch (Exception ex)
                {
                    transaction.Rollback(savepoint);
                    transaction.Release(savepoint);
                    batch[i].SetFailed(ex);
                }
            }

            transaction.Commit();
        }
        catch (Exception ex)
        {
            foreach (var item in batch)
            {
                item.SetFailed(ex);
            }

            return;
        }

        foreach (var item in batch)
        {
            item.Complete();
        }
    }

    private void Migrate()
    {
        Exec(_writer, "CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, applied INTEGER NOT NULL, PRIMARY KEY (module, version));");
        var assembly = typeof(SqliteDatabase).Assembly;
        const string prefix = "Postern.Store.Migrations.sqlite.";
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => ParseName(n[prefix.Length..]))
            .OrderBy(s => s.Module == "core" ? 0 : 1)
            .ThenBy(s => s.Module, StringComparer.Ordinal)
            .ThenBy(s => s.Version)
            .ToList();

        foreach (var script in scripts)
        {
            using var check = _writer.CreateCommand();
            check.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE module = @m AND version = @v";
            check.Parameters.AddWithValue("@m", script.Module);
            check.Parameters.AddWithValue("@v", script.Version);
            if (Convert.ToInt64(check.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                continue;
            }

            using var transaction = _writer.BeginTransaction();
            using (var apply = _writer.CreateCommand())
            {
                apply.Transaction = transaction;
                apply.CommandText = ReadResource(assembly, script.Resource);
                apply.ExecuteNonQuery();
            }

            using (var record = _writer.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (module, version, applied) VALUES (@m, @v, @t)";
                record.Parameters.AddWithValue("@m", script.Module);
                record.Parameters.AddWithValue("@v", script.Version);
                record.Parameters.AddWithValue("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                record.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    // Resource names look like "<module>.<NNN>_<name>.sql".
    private static (string Module, int Version, string Resource) ParseName(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var module = name[..dot];
        var file = name[(dot + 1)..];
        var digits = new string(file.TakeWhile(char.IsAsciiDigit).ToArray());
        var version = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        return (module, version, "Postern.Store.Migrations.sqlite." + name);
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
