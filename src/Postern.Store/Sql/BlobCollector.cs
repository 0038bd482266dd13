namespace Postern.Store.Sql;

/// <summary>Deletes message content once nothing refers to it any more.</summary>
internal static class BlobCollector
{
    /// <summary>Tables with a blob_id column; a module that keeps messages of its own adds its table here.</summary>
    public static readonly IReadOnlyList<string> ReferencingTables = ["messages", "queue", "public_messages", "news_pending", "news_feed_queue", "news_control"];

    private static readonly string DeleteSql =
        "DELETE FROM blobs WHERE id = @b" + string.Concat(ReferencingTables.Select(t => $" AND NOT EXISTS (SELECT 1 FROM {t} WHERE blob_id = @b)"));

    public static void DeleteUnreferenced(WriteContext w, IEnumerable<long> blobIds)
    {
        foreach (var blobId in blobIds.Distinct())
        {
            w.Command(DeleteSql, ("@b", blobId)).Execute();
        }
    }
}
