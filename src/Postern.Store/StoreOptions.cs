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
}
