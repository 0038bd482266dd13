using System.Data.Common;
using Microsoft.Data.Sqlite;
using Postern.Store;
using Postern.Store.Sql;

namespace Postern.IntegrationTests.Infrastructure;

/// <summary>
/// The real store, whose mail, public folders and database refuse every write with the error SQLite gives on a full
/// disk (SQLITE_FULL) while <see cref="IsFull"/> is set; reads go on. Filling a real disk needs a mount a test run may
/// not be allowed to make.
/// </summary>
internal sealed class FullDiskStore : IPosternStore
{
    private readonly IPosternStore _inner;
    private readonly FullDiskDatabase _database;

    public FullDiskStore(IPosternStore inner)
    {
        _inner = inner;
        _database = new FullDiskDatabase(inner.Database);
        Mail = new SqlMailStore(_database, inner.Changes, volatileFlagChanges: true);
        PublicFolders = new SqlPublicFolderStore(_database, inner.Changes);
    }

    public bool IsFull
    {
        get => _database.IsFull;
        set => _database.IsFull = value;
    }

    public IDirectoryStore Directory => _inner.Directory;

    public IMailStore Mail { get; }

    public IConfigurationStore Configuration => _inner.Configuration;

    public IQueueStore Queue => _inner.Queue;

    public IChangeFeed Changes => _inner.Changes;

    public IPublicFolderStore PublicFolders { get; }

    public IDatabase Database => _database;

    public StoreOptions Options => _inner.Options;

    public bool RecoveredFromUncleanStop => _inner.RecoveredFromUncleanStop;

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    private sealed class FullDiskDatabase(IDatabase inner) : IDatabase
    {
        public volatile bool IsFull;

        public string Engine => inner.Engine;

        public SqlDialect Dialect => inner.Dialect;

        public Task<T> ReadAsync<T>(Func<DbConnection, T> work, CancellationToken cancellationToken) => inner.ReadAsync(work, cancellationToken);

        public Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) =>
            IsFull ? Task.FromException<T>(Full()) : inner.WriteAsync(work, cancellationToken);

        public Task<T> WriteVolatileAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) =>
            IsFull ? Task.FromException<T>(Full()) : inner.WriteVolatileAsync(work, cancellationToken);

        public Task<IAsyncDisposable> LockAsync(NodeTask task, CancellationToken cancellationToken) => inner.LockAsync(task, cancellationToken);

        public Task<IAsyncDisposable?> TryLockAsync(NodeTask task, CancellationToken cancellationToken) => inner.TryLockAsync(task, cancellationToken);

        private static SqliteException Full() => new("SQLite Error 13: 'database or disk is full'.", 13);
    }
}
