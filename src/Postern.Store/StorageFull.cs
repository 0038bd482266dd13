using Microsoft.Data.Sqlite;
using Npgsql;

namespace Postern.Store;

/// <summary>
/// Recognises a write the store refused because the disk it writes to is full, so that each protocol can answer with
/// its own "no space" reply (SMTP 452 4.3.1, IMAP [OVERQUOTA], POP3 [SYS/TEMP]) instead of a generic error; and
/// measures the free space left, so SMTP can refuse mail before the disk fills (<see cref="AvailableBytes"/>).
/// </summary>
public static class StorageFull
{
    // SQLITE_FULL: SQLite maps ENOSPC on the log or the database file to it.
    private const int SqliteFull = 13;

    // PostgreSQL's disk_full (class 53, insufficient resources).
    private const string PostgresDiskFull = "53100";

    // ENOSPC as .NET reports it on Linux, and ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL as HRESULTs.
    private const int Enospc = 28;
    private const int DiskFullHResult = unchecked((int)0x80070070);
    private const int HandleDiskFullHResult = unchecked((int)0x80070027);

    private static FreeSpace? s_lastProbe;

    /// <summary>
    /// Free bytes on the embedded store's disk, measured at most once a second; null for PostgreSQL (its disk is the
    /// database server's) or when the folder cannot be measured.
    /// </summary>
    public static long? AvailableBytes(StoreOptions options)
    {
        if (!options.Engine.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var now = Environment.TickCount64;
        if (s_lastProbe is { } last && last.Folder == options.DataDirectory && now - last.At < 1000)
        {
            return last.Bytes;
        }

        long bytes;
        try
        {
            bytes = new DriveInfo(options.DataDirectory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }

        s_lastProbe = new FreeSpace(options.DataDirectory, now, bytes);
        return bytes;
    }

    public static bool Is(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SqliteException sqlite when sqlite.SqliteErrorCode == SqliteFull:
                case PostgresException postgres when postgres.SqlState == PostgresDiskFull:
                case IOException io when io.HResult is Enospc or DiskFullHResult or HandleDiskFullHResult:
                    return true;
            }
        }

        return false;
    }

    private sealed record FreeSpace(string Folder, long At, long Bytes);
}
