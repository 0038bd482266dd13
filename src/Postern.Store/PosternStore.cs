using Postern.Store.Sqlite;

namespace Postern.Store;

public static class PosternStoreFactory
{
    /// <summary>Opens (creating and migrating if needed) the store the options name.</summary>
    public static IPosternStore Open(StoreOptions options)
    {
        if (!string.Equals(options.Engine, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"store engine '{options.Engine}' is not available in this build; use sqlite");
        }

        Directory.CreateDirectory(options.DataDirectory);
        var database = SqliteDatabase.Open(Path.Combine(options.DataDirectory, "postern.db"), options.MaxWriteBatch);
        return new SqlitePosternStore(database, options);
    }
}

internal sealed class SqlitePosternStore : IPosternStore
{
    private readonly SqliteDatabase _database;

    public SqlitePosternStore(SqliteDatabase database, StoreOptions options)
    {
        _database = database;
        Options = options;
        Changes = new InProcessChangeFeed();
        Directory = new SqliteDirectoryStore(database, options);
        Mail = new SqliteMailStore(database, Changes);
        Configuration = new SqliteConfigurationStore(database);
        Queue = new SqliteQueueStore(database);
        PublicFolders = new SqlitePublicFolderStore(database, Changes);
    }

    public IDirectoryStore Directory { get; }

    public IMailStore Mail { get; }

    public IConfigurationStore Configuration { get; }

    public IQueueStore Queue { get; }

    public IChangeFeed Changes { get; }

    public IPublicFolderStore PublicFolders { get; }

    public IDatabase Database => _database;

    public StoreOptions Options { get; }

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
