using System.Data.Common;
using Npgsql;

namespace Postern.Store.Postgres;

/// <summary>
/// The shared engine: a PostgreSQL database that several Postern nodes can use at once. Each node keeps its own group
/// committer; what one node writes the others see on their next read, and mailbox changes reach their sessions by
/// NOTIFY (<see cref="PostgresChangeFeed"/>).
/// </summary>
internal sealed class PostgresDatabase : GroupCommitDatabase
{
    // Any constant shared by every node: the migrations run under this advisory lock, so nodes started together
    // migrate the schema once.
    private const long MigrationLock = 0x506f737465726e; // "Postern"

    private readonly NpgsqlDataSource _dataSource;

    private PostgresDatabase(string connectionString, int maxBatch)
        : base(maxBatch)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);

        // Statements that run again are prepared on the server once per connection, as SQLite's are (StatementCache).
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 256;
            builder.AutoPrepareMinUsages = 2;
        }

        builder.ApplicationName ??= "postern";
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        ConnectionString = builder.ConnectionString;
    }

    public string ConnectionString { get; }

    public override string Engine => "postgresql";

    public override SqlDialect Dialect => SqlDialect.Postgres;

    protected override string MigrationResourcePrefix => "Postern.Store.Migrations.postgres.";

    protected override bool ReadsUseNetwork => true;

    public static PostgresDatabase Open(string connectionString, int maxBatch)
    {
        var database = new PostgresDatabase(connectionString, maxBatch);
        try
        {
            database.Migrate();
        }
        catch
        {
            database._dataSource.Dispose();
            throw;
        }

        return database;
    }

    protected override DbConnection OpenConnection() => _dataSource.OpenConnection();

    protected override DbTransaction BeginBatch(DbConnection writer, bool durable, bool inline)
    {
        var transaction = writer.BeginTransaction(System.Data.IsolationLevel.ReadCommitted);

        // The commit of a batch of volatile writes only (a POP3 lock row) need not wait for the WAL flush; a later
        // durable commit is flushed with everything before it.
        if (!durable)
        {
            Exec(writer, "SET LOCAL synchronous_commit = off", transaction);
        }

        return transaction;
    }

    protected override void BeforeMigrations(DbConnection connection) =>
        Exec(connection, $"SELECT pg_advisory_lock({MigrationLock})");

    protected override void AfterMigrations(DbConnection connection)
    {
        if (connection.State == System.Data.ConnectionState.Open)
        {
            Exec(connection, $"SELECT pg_advisory_unlock({MigrationLock})");
        }
    }

    public override async Task<IAsyncDisposable> LockAsync(NodeTask task, CancellationToken cancellationToken) =>
        (await AdvisoryLockAsync(task, wait: true, cancellationToken).ConfigureAwait(false))!;

    public override Task<IAsyncDisposable?> TryLockAsync(NodeTask task, CancellationToken cancellationToken) =>
        AdvisoryLockAsync(task, wait: false, cancellationToken);

    /// <summary>
    /// A session advisory lock on a connection of its own, held until disposed; the database server releases it by itself
    /// when the node dies (its connection closes), so a crashed node never leaves a task locked.
    /// </summary>
    private async Task<IAsyncDisposable?> AdvisoryLockAsync(NodeTask task, bool wait, CancellationToken cancellationToken)
    {
        var key = MigrationLock + (long)task;
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = wait ? $"SELECT pg_advisory_lock({key})" : $"SELECT pg_try_advisory_lock({key})";
            var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (!wait && result is not true)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            return new AdvisoryLock(connection, key);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class AdvisoryLock(NpgsqlConnection connection, long key) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            try
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"SELECT pg_advisory_unlock({key})";
                await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // The connection is gone, and the lock with it.
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    protected override void OnDisposed() => _dataSource.Dispose();
}
