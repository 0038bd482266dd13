namespace Postern.Store.Sqlite;

/// <summary>Statements on the shared blobs table (message content stored once).</summary>
internal static class BlobStatements
{
    /// <summary>New content gets an id above every id ever used (see migration mail/004): ids are never reused.</summary>
    public const string Insert =
        "INSERT INTO blobs (id, size, data) VALUES (MAX(COALESCE((SELECT MAX(id) FROM blobs), 0), (SELECT id FROM blob_high_water)) + 1, @s, @d) RETURNING id";
}
