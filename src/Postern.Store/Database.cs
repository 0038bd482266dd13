using System.Data.Common;

namespace Postern.Store;

/// <summary>
/// The one door to the database for every module. Reads run on a pooled connection; every write runs
/// on the single writer, which folds concurrent writes into one transaction (group commit: one fsync
/// acknowledges many messages), each write inside its own savepoint so one failure spoils no other.
/// </summary>
public interface IDatabase
{
    string Engine { get; }

    /// <summary>Where this engine's SQL differs from the SQL both engines accept.</summary>
    SqlDialect Dialect { get; }

    Task<T> ReadAsync<T>(Func<DbConnection, T> work, CancellationToken cancellationToken);

    /// <summary>Runs inside a transaction that is committed (and on stable storage) before the task completes.</summary>
    Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="WriteAsync{T}"/>, committed and visible to every reader before the task completes, but not forced
    /// to stable storage at once: it survives a crash of the process, and reaches the disk with the next durable write or
    /// within about a second; a power failure before that may lose it (never a later durable write, which carries it
    /// along). For a session's lock row, and for flag changes (PostgreSQL: synchronous_commit = off).
    /// </summary>
    Task<T> WriteVolatileAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken);

    /// <summary>
    /// Waits for the lock on <paramref name="task"/> that every node sharing the store respects (PostgreSQL: an advisory
    /// lock; SQLite, whose store one process owns: a lock in this process). Disposing the result releases it.
    /// </summary>
    Task<IAsyncDisposable> LockAsync(NodeTask task, CancellationToken cancellationToken);

    /// <summary>Like <see cref="LockAsync"/>, but null at once when another node holds the lock.</summary>
    Task<IAsyncDisposable?> TryLockAsync(NodeTask task, CancellationToken cancellationToken);
}

/// <summary>Work that one node at a time does for all the nodes that share a store.</summary>
public enum NodeTask
{
    /// <summary>The first start: the organization, the default virtual servers, the root CA and the host's certificate.</summary>
    FirstStart = 1,

    /// <summary>A pass of the certificate watch: automatic renewals, the CRL, expiry warnings to the postmaster.</summary>
    CertificateWatch = 2,

    /// <summary>Pulling from the news peers that are due (NEWNEWS and ARTICLE); pushes are claimed entry by entry instead.</summary>
    NewsPull = 3,
}

public sealed class WriteContext
{
    private List<Action>? _afterCommit;

    internal WriteContext(DbConnection connection, DbTransaction transaction, SqlDialect dialect)
    {
        Connection = connection;
        Transaction = transaction;
        Dialect = dialect;
    }

    public DbConnection Connection { get; }

    public SqlDialect Dialect { get; }

    public DbTransaction Transaction { get; }

    /// <summary>Runs once the transaction is durable; used for change notifications.</summary>
    public void AfterCommit(Action action) => (_afterCommit ??= []).Add(action);

    public DbCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Connection.CreateCommand(sql, parameters);
        command.Transaction = Transaction;
        return command;
    }

    internal List<Action>? TakeAfterCommit()
    {
        var actions = _afterCommit;
        _afterCommit = null;
        return actions;
    }
}

public static class DbExtensions
{
    public static DbCommand CreateCommand(this DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = StatementCache.Rent(connection, sql);
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    public static int Execute(this DbCommand command)
    {
        int count;
        try
        {
            count = command.ExecuteNonQuery();
        }
        catch
        {
            // A failed statement is never kept: it could still hold a read snapshot.
            command.Dispose();
            throw;
        }

        StatementCache.Release(command);
        return count;
    }

    public static T? Scalar<T>(this DbCommand command)
    {
        object? value;
        try
        {
            value = command.ExecuteScalar();
        }
        catch
        {
            command.Dispose();
            throw;
        }

        StatementCache.Release(command);

        if (value is null || value is DBNull)
        {
            return default;
        }

        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static List<T> Query<T>(this DbCommand command, Func<DbDataReader, T> map)
    {
        var rows = new List<T>();
        try
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                rows.Add(map(reader));
            }
        }
        catch
        {
            command.Dispose();
            throw;
        }

        StatementCache.Release(command);
        return rows;
    }

    public static T? QuerySingle<T>(this DbCommand command, Func<DbDataReader, T> map)
        where T : class
    {
        T? row;
        try
        {
            using var reader = command.ExecuteReader();
            row = reader.Read() ? map(reader) : null;
        }
        catch
        {
            command.Dispose();
            throw;
        }

        StatementCache.Release(command);
        return row;
    }

    public static string? GetNullableString(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTimeOffset GetUnixMilliseconds(this DbDataReader reader, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
}
