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
            return new SqlPosternStore(database, new InProcessChangeFeed(), options);
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
    private readonly GroupCommitDatabase _database;

    public SqlPosternStore(GroupCommitDatabase database, IChangeFeed changes, StoreOptions options)
    {
        _database = database;
        Options = options;
        Changes = changes;
        Directory = new SqlDirectoryStore(database, options);
        Mail = new SqlMailStore(database, Changes);
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

    public async ValueTask DisposeAsync()
    {
        if (Changes is IAsyncDisposable changes)
        {
            await changes.DisposeAsync().ConfigureAwait(false);
        }

        await _database.DisposeAsync().ConfigureAwait(false);
    }
}
