using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Postern.Store.Sqlite;

/// <summary>The embedded engine: one SQLite file in the data folder, in WAL mode.</summary>
internal sealed class SqliteDatabase : GroupCommitDatabase
{
    // How long a volatile commit (an IMAP flag change, a lock row) may wait for stable storage when no durable commit
    // follows: PostgreSQL's asynchronous commit bound (3 × wal_writer_delay) is 0.6 s; Dovecot's index log waits for the
    // kernel's writeback (up to 30 s).
    private static readonly TimeSpan VolatileFlushDelay = TimeSpan.FromSeconds(1);

    private readonly string _connectionString;
    private readonly string _logPath;
    private readonly Timer _volatileFlush;
    private bool _synchronousFull;
    private bool _checkpointsOff;

    // 1 while a volatile commit waits for the log's fsync (the timer is armed).
    private int _volatileUnflushed;
    private long _logFlushes;

    private SqliteDatabase(string path, int maxBatch)
        : base(maxBatch)
    {
        _logPath = path + "-wal";
        _volatileFlush = new Timer(static state => ((SqliteDatabase)state!).FlushLog(), this, Timeout.Infinite, Timeout.Infinite);
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

    /// <summary>How many times the log was fsynced for volatile commits (for tests).</summary>
    internal long LogFlushes => Interlocked.Read(ref _logFlushes);

    public override SqlDialect Dialect => SqlDialect.Sqlite;

    protected override string MigrationResourcePrefix => "Postern.Store.Migrations.sqlite.";

    public static SqliteDatabase Open(string path, int maxBatch)
    {
        var database = new SqliteDatabase(path, maxBatch);
        database.Migrate();
        OwnerOnly(path);
        return database;
    }

    /// <summary>
    /// The database holds password hashes and the encrypted private keys: readable by the server's user only, as Postfix's
    /// queue and Dovecot's mail files are, even in a data folder someone made with looser permissions. SQLite gives the
    /// log and shared-memory files it creates the database file's permissions.
    /// </summary>
    private static void OwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            if (File.Exists(file) && (File.GetUnixFileMode(file) & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0)
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }

    protected override DbConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        StatementCache.Enable(connection);
        return connection;
    }

    protected override bool VolatileWritesRunInline => true;

    protected override DbTransaction BeginBatch(DbConnection writer, bool durable, bool inline)
    {
        // A commit that fills the log past 1,000 pages checkpoints it, with two fsyncs: never on a socket's event thread.
        // The next batch on the pool does it (GroupCommitDatabase sends one there after at most 500 inline batches).
        if (inline != _checkpointsOff)
        {
            Exec(writer, inline ? "PRAGMA wal_autocheckpoint=0;" : "PRAGMA wal_autocheckpoint=1000;");
            _checkpointsOff = inline;
        }

        // PRAGMA synchronous cannot change inside a transaction. In WAL mode a commit without fsync is still ordered
        // before the next durable one, which fsyncs the log up to and including it. NORMAL, not OFF: a checkpoint that
        // runs at a volatile commit must still fsync the log before it copies pages into the database and the database
        // before the log is reused, or a power failure could take durable commits with it.
        if (durable != _synchronousFull)
        {
            Exec(writer, durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
            _synchronousFull = durable;
        }

        return ((SqliteConnection)writer).BeginTransaction(deferred: false);
    }

    protected override void OnVolatileCommit()
    {
        if (Interlocked.Exchange(ref _volatileUnflushed, 1) == 0)
        {
            _volatileFlush.Change(VolatileFlushDelay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// fsyncs the log, which carries every commit made before this call to stable storage (fsync covers the file's
    /// written pages, whichever descriptor wrote them). A durable commit meanwhile has done it already; one more is cheap.
    /// </summary>
    private void FlushLog()
    {
        // Cleared first: a volatile commit from now on arms the timer again, so none is left without a flush.
        Interlocked.Exchange(ref _volatileUnflushed, 0);
        try
        {
            using var log = File.OpenHandle(_logPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            RandomAccess.FlushToDisk(log);
            Interlocked.Increment(ref _logFlushes);
        }
        catch (IOException)
        {
            // No log (checkpointed and removed at close): nothing is waiting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    protected override void OnDisposed()
    {
        _volatileFlush.Dispose();
        FlushLog();
        SqliteConnection.ClearAllPools();
    }
}
