using System.Globalization;

namespace Postern.Server.Connections;

/// <summary>
/// Keeps client connections from taking the process's last file descriptors. At the limit accept fails (EMFILE), and so
/// does everything else that needs a descriptor then: the first session of a protocol cannot load its assembly (and .NET
/// remembers the failed load, so that protocol stays broken), the store cannot open a file. So connections, across
/// every virtual server, stop a reserve short of the limit, and the ones past it are refused as when a virtual server is
/// full (Dovecot and Postfix likewise size their client limits from the descriptor limit).
/// </summary>
public static class FileDescriptorBudget
{
    private static int s_open;

    /// <summary>How many client connections may be open at once in this process (measured at the first connection).</summary>
    public static int MaxConnections { get; } = ForLimit(ReadOpenFilesLimit(), CountOpenDescriptors());

    /// <summary>
    /// The connections a descriptor limit leaves room for beside those already open (mostly the loaded assemblies, two
    /// each): an eighth of the limit, and at least 256, stay in reserve.
    /// </summary>
    public static int ForLimit(long? openFilesLimit, int alreadyOpen) =>
        openFilesLimit is not { } limit ? int.MaxValue : (int)Math.Clamp(limit - alreadyOpen - Math.Max(256, limit / 8), 16, int.MaxValue);

    /// <summary>Counts a connection if the budget has room for it; <see cref="Release"/> must follow a true.</summary>
    public static bool TryAcquire()
    {
        if (Interlocked.Increment(ref s_open) <= MaxConnections)
        {
            return true;
        }

        Interlocked.Decrement(ref s_open);
        return false;
    }

    public static void Release() => Interlocked.Decrement(ref s_open);

    /// <summary>The soft RLIMIT_NOFILE (which .NET raises to the hard limit at start), from /proc; null where unknown or unlimited.</summary>
    public static long? ReadOpenFilesLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    return ParseSoftLimit(line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static int CountOpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>"Max open files            1024                 524288               files": the first number.</summary>
    public static long? ParseSoftLimit(string line)
    {
        var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : null;
    }
}
