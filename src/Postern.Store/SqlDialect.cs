namespace Postern.Store;

/// <summary>
/// The few places where the engines' SQL differs. Everything else is written once, in SQL both accept.
/// </summary>
public abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();

    public static readonly SqlDialect Postgres = new PostgresDialect();

    /// <summary>
    /// The id expression for one new row of <paramref name="table"/>: an id never given out before, even after rows were
    /// deleted, because sessions, shared message lists and administrators name rows by id.
    /// </summary>
    public abstract string NewId(string table);

    /// <summary>Ids for the rows of an INSERT … SELECT, one per row in <paramref name="orderBy"/> order.</summary>
    public abstract string NewIds(string table, string orderBy);

    private string? _insertBlob;

    /// <summary>The statement that stores new message content (every delivery runs it: built once).</summary>
    public string InsertBlob => _insertBlob ??= "INSERT INTO blobs (id, size, data) VALUES (" + NewId("blobs") + ", @s, @d) RETURNING id";

    private sealed class SqliteDialect : SqlDialect
    {
        // SQLite numbers a new row MAX(rowid) + 1, so deleting the newest row frees its id. Each such table keeps the
        // highest id ever deleted in a one-row table kept by a trigger (migrations core/002, mail/004, mail/005,
        // queue/002, news/006 and news/007), and new rows are numbered above both.
        public override string NewId(string table) =>
            $"MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), (SELECT id FROM {HighWater(table)})) + 1";

        public override string NewIds(string table, string orderBy) => $"{NewId(table)} - 1 + ROW_NUMBER() OVER (ORDER BY {orderBy})";

        private static string HighWater(string table) => table switch
        {
            "accounts" => "account_high_water",
            "blobs" => "blob_high_water",
            "mailboxes" => "mailbox_high_water",
            "queue" => "queue_high_water",
            "public_folders" => "public_folder_high_water",
            "news_pending" => "news_pending_high_water",
            "news_feed_queue" => "news_feed_queue_high_water",
            "news_peers" => "news_peer_high_water",
            _ => throw new ArgumentException("no high-water table for " + table, nameof(table)),
        };
    }

    private sealed class PostgresDialect : SqlDialect
    {
        // A sequence never hands out a value twice, and several nodes can draw from it at once.
        public override string NewId(string table) => $"nextval('{table}_id_seq')";

        public override string NewIds(string table, string orderBy) => NewId(table);
    }
}
