namespace Postern.Store.Sqlite;

/// <summary>
/// Ids that are never given out twice. SQLite numbers a new row MAX(rowid) + 1, so deleting the newest row frees its id
/// for the next insert, and whatever still names the old row (a session, a shared message list, a delivery in flight, an
/// administrator's command) would reach the new one, possibly another account's. Each such table keeps the highest id
/// ever deleted in a one-row table kept by a trigger (migrations core/002, mail/004, mail/005, queue/002, news/006 and
/// news/007), and new rows are numbered above both.
/// </summary>
internal static class NeverReusedIds
{
    /// <summary>New message content (mail/004).</summary>
    public static readonly string InsertBlob = "INSERT INTO blobs (id, size, data) VALUES (" + Next("blobs", "blob_high_water") + ", @s, @d) RETURNING id";

    /// <summary>The id expression for one new row of <paramref name="table"/>.</summary>
    public static string Next(string table, string highWater) => $"MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), (SELECT id FROM {highWater})) + 1";
}
