using System.Data.Common;
using System.Runtime.CompilerServices;

namespace Postern.Store;

/// <summary>
/// Prepared commands kept per long-lived connection, so a statement that runs again is bound and stepped, not parsed and
/// planned again (SQLite's prepare was 10–15% of the server's CPU on the hot paths). A connection is used by one thread
/// at a time (the writer, or a rented reader), so the cache needs no lock. Commands created on other connections are
/// disposed after use as before.
/// </summary>
internal sealed class StatementCache
{
    private const int MaxIdle = 256;

    private static readonly ConditionalWeakTable<DbConnection, StatementCache> PerConnection = [];
    private static readonly ConditionalWeakTable<DbCommand, StatementCache> Owners = [];

    private readonly Dictionary<string, Stack<DbCommand>> _idle = new(StringComparer.Ordinal);
    private int _idleCount;

    /// <summary>Keeps prepared commands for this connection from now on.</summary>
    public static void Enable(DbConnection connection) => PerConnection.AddOrUpdate(connection, new StatementCache());

    /// <summary>A command for the SQL, with no parameters and no transaction: a cached one when the connection keeps them.</summary>
    public static DbCommand Rent(DbConnection connection, string sql)
    {
        if (PerConnection.TryGetValue(connection, out var cache))
        {
            if (cache._idle.TryGetValue(sql, out var stack) && stack.TryPop(out var cached))
            {
                cache._idleCount--;
                return cached;
            }

            var created = connection.CreateCommand();
            created.CommandText = sql;
            Owners.AddOrUpdate(created, cache);
            return created;
        }

        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    /// <summary>Returns a command after use (its reader closed): kept for the next use, or disposed.</summary>
    public static void Release(DbCommand command)
    {
        if (!Owners.TryGetValue(command, out var cache) || cache._idleCount >= MaxIdle)
        {
            command.Dispose();
            return;
        }

        command.Parameters.Clear();
        command.Transaction = null;
        if (!cache._idle.TryGetValue(command.CommandText, out var stack))
        {
            stack = new Stack<DbCommand>(1);
            cache._idle[command.CommandText] = stack;
        }

        stack.Push(command);
        cache._idleCount++;
    }
}
