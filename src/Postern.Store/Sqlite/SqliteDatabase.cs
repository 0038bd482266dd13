using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Postern.Store.Sqlite;

/// <summary>The embedded engine: one SQLite file in the data folder, in WAL mode.</summary>
internal sealed class SqliteDatabase : GroupCommitDatabase
{
    private readonly string _connectionString;
    private bool _synchronousFull;

    private SqliteDatabase(string path, int maxBatch)
        : base(maxBatch)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL at every commit,
        // which is what makes a 250 reply a promise (nothing acknowledged is ever lost). temp_store=MEMORY keeps the
        // statement journal of each write's savepoint in memory: on disk it was a temporary file that took a 60 KB
        // write and then a page write for each page the batch touched.
        Exec(Writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        _synchronousFull = true;
    }

    public override string Engine => "sqlite";

    public override SqlDialect Dialect => SqlDialect.Sqlite;

    protected override string MigrationResourcePrefix => "Postern.Store.Migrations.sqlite.";

    public static SqliteDatabase Open(string path, int maxBatch)
    {
        var database = new SqliteDatabase(path, maxBatch);
        database.Migrate();
        return database;
    }

    protected override DbConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        StatementCache.Enable(connection);
        return connection;
    }

    protected override DbTransaction BeginBatch(DbConnection writer, bool durable)
    {
        // PRAGMA synchronous cannot change inside a transaction. In WAL mode a commit without fsync is still ordered
        // before the next durable one, which fsyncs the log up to and including it.
        if (durable != _synchronousFull)
        {
            Exec(writer, durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;");
            _synchronousFull = durable;
        }

        return ((SqliteConnection)writer).BeginTransaction(deferred: false);
    }

    protected override void OnDisposed() => SqliteConnection.ClearAllPools();
}
