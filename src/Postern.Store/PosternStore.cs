using Postern.Store.Postgres;
using Postern.Store.Sql;
using Postern.Store.Sqlite;

namespace Postern.Store;

public static class PosternStoreFactory
{
    /// <summary>Opens (creating and migrating if needed) the store the options name.</summary>
    public static IPosternStore Open(StoreOptions options)
    {
        Directory.CreateDirectory(options.DataDirectory);
        if (string.Equals(options.Engine, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            var database = SqliteDatabase.Open(Path.Combine(options.DataDirectory, "postern.db"), options.MaxWriteBatch);
            var store = new SqlPosternStore(database, new InProcessChangeFeed(), options, volatileFlagChanges: true);
            if (options.TrackCleanStop)
            {
                store.BeginServing();
            }

            return store;
        }

        if (string.Equals(options.Engine, "postgresql", StringComparison.OrdinalIgnoreCase) || string.Equals(options.Engine, "postgres", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                throw new InvalidOperationException("the postgresql store needs a connection string (--store-connection or $POSTERN_STORE_CONNECTION)");
            }

            var database = PostgresDatabase.Open(options.ConnectionString, options.MaxWriteBatch);
            return new SqlPosternStore(database, new PostgresChangeFeed(database.ConnectionString), options);
        }

        throw new NotSupportedException($"unknown store engine '{options.Engine}'; use sqlite or postgresql");
    }
}

/// <summary>The store over either engine: the SQL is shared, the engine supplies the connections and the dialect.</summary>
internal sealed class SqlPosternStore : IPosternStore
{
    // More MODSEQs than one mailbox can take in the second a volatile flag change may wait for the disk.
    internal const long ModSeqsSkippedAfterUncleanStop = 100_000;

    private readonly GroupCommitDatabase _database;
    private string? _servingMark;

    public SqlPosternStore(GroupCommitDatabase database, IChangeFeed changes, StoreOptions options, bool volatileFlagChanges = false)
    {
        _database = database;
        Options = options;
        Changes = changes;
        Directory = new SqlDirectoryStore(database, options);
        Mail = new SqlMailStore(database, Changes, volatileFlagChanges);
        Configuration = new SqlConfigurationStore(database);
        Queue = new SqlQueueStore(database);
        PublicFolders = new SqlPublicFolderStore(database, Changes);
    }

    public IDirectoryStore Directory { get; }

    public IMailStore Mail { get; }

    public IConfigurationStore Configuration { get; }

    public IQueueStore Queue { get; }

    public IChangeFeed Changes { get; }

    public IPublicFolderStore PublicFolders { get; }

    public IDatabase Database => _database;

    public StoreOptions Options { get; }

    public bool RecoveredFromUncleanStop { get; private set; }

    /// <summary>
    /// Marks the data folder as served from. A mark left by an earlier run means it did not stop cleanly: flag changes
    /// committed in its last second may be lost, and with them MODSEQs a client was already given; CONDSTORE and QRESYNC
    /// clients (RFC 7162) trust a MODSEQ to name one state, so every mailbox's counter moves past them first.
    /// </summary>
    internal void BeginServing()
    {
        _servingMark = Path.Combine(Options.DataDirectory, "postern.serving");
        if (File.Exists(_servingMark))
        {
            _database.WriteAsync(w => w.Command("UPDATE mailboxes SET highest_modseq = highest_modseq + @n", ("@n", ModSeqsSkippedAfterUncleanStop)).Execute(), CancellationToken.None)
                .GetAwaiter().GetResult();
            RecoveredFromUncleanStop = true;
        }

        File.WriteAllText(_servingMark, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        if (Changes is IAsyncDisposable changes)
        {
            await changes.DisposeAsync().ConfigureAwait(false);
        }

        await _database.DisposeAsync().ConfigureAwait(false);
        if (_servingMark is not null)
        {
            File.Delete(_servingMark);
        }
    }
}
