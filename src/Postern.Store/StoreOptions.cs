namespace Postern.Store;

public sealed class StoreOptions
{
    /// <summary>The data folder: the SQLite database, the key-encryption key and the admin token live here.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>"sqlite" (default) or "postgresql".</summary>
    public string Engine { get; init; } = "sqlite";

    public string? ConnectionString { get; init; }

    /// <summary>PBKDF2-SHA256 iterations for new password hashes (OWASP 2023: 600,000).</summary>
    public int PasswordIterations { get; init; } = 600_000;

    /// <summary>How many writes the group-commit writer folds into one transaction (one fsync).</summary>
    public int MaxWriteBatch { get; init; } = 256;

    /// <summary>
    /// Set by <c>serve</c>: the embedded store marks the data folder while it serves, and after a stop that was not clean
    /// (a power failure may have lost the last second's flag changes, which are not fsynced one by one) moves every
    /// mailbox's MODSEQ past any value those changes could have handed out.
    /// </summary>
    public bool TrackCleanStop { get; init; }
}
