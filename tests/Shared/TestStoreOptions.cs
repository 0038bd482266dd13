using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Postern.Store;

namespace Postern.Tests;

/// <summary>
/// The store a test's server uses: SQLite in the test's data folder, or, when POSTERN_TEST_POSTGRES names a PostgreSQL
/// server (test.sh starts one for the PostgreSQL pass), a database of that server named after the data folder, so a
/// server started again on the same folder finds its data again.
/// </summary>
internal static class TestStoreOptions
{
    public static string? PostgresServer => Environment.GetEnvironmentVariable("POSTERN_TEST_POSTGRES") is { Length: > 0 } server ? server : null;

    public static StoreOptions For(string dataDirectory, int passwordIterations = 1000) => PostgresServer is null
        ? new StoreOptions { DataDirectory = dataDirectory, PasswordIterations = passwordIterations }
        : new StoreOptions { DataDirectory = dataDirectory, PasswordIterations = passwordIterations, Engine = "postgresql", ConnectionString = DatabaseFor(dataDirectory) };

    /// <summary>The `postern serve` options that choose the same store.</summary>
    public static string[] ServeArguments(string dataDirectory) => PostgresServer is null
        ? []
        : ["--store", "postgresql", "--store-connection", DatabaseFor(dataDirectory)];

    /// <summary>Removes the data folder's database, if it has one, when the test removes the folder.</summary>
    public static void Drop(string dataDirectory)
    {
        if (PostgresServer is not { } server)
        {
            return;
        }

        try
        {
            using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
            admin.Open();
            using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {DatabaseName(dataDirectory)} WITH (FORCE)", admin);
            drop.ExecuteNonQuery();
        }
        catch (NpgsqlException)
        {
            // Left for the test run's temporary server to take with it.
        }
    }

    private static string DatabaseName(string dataDirectory) =>
        "postern_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory).TrimEnd('/'))))[..24];

    /// <summary>The connection string of the data folder's own database, created on first use.</summary>
    public static string DatabaseFor(string dataDirectory)
    {
        var server = PostgresServer ?? throw new InvalidOperationException("POSTERN_TEST_POSTGRES is not set");
        var name = DatabaseName(dataDirectory);
        using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            admin.Open();
            using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @n", admin);
            exists.Parameters.AddWithValue("n", name);
            if (exists.ExecuteScalar() is null)
            {
                using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
                try
                {
                    create.ExecuteNonQuery();
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
                {
                    // Two starts on the same folder raced: the database is there either way.
                }
            }
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }
}

/// <summary>A test of the SQLite engine itself (its file, its pragmas, its migrations): skipped in the PostgreSQL pass.</summary>
internal sealed class SqliteFactAttribute : Xunit.FactAttribute
{
    public SqliteFactAttribute()
    {
        if (TestStoreOptions.PostgresServer is not null)
        {
            Skip = "tests the SQLite engine; the SQLite pass runs it";
        }
    }
}

/// <summary>A test of what only a shared PostgreSQL store can do: run in the PostgreSQL pass, skipped in the SQLite one.</summary>
internal sealed class PostgresFactAttribute : Xunit.FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestStoreOptions.PostgresServer is null)
        {
            Skip = "needs POSTERN_TEST_POSTGRES (test.sh sets it for its PostgreSQL pass)";
        }
    }
}
