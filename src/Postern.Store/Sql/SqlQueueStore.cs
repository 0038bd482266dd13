using System.Data.Common;

namespace Postern.Store.Sql;

internal sealed class SqlQueueStore(IDatabase database) : IQueueStore
{
    private const string QueueColumns = "id, sender, blob_id, size, created, next_attempt, attempts, last_error, envid, ret";

    internal static long Enqueue(WriteContext w, long blobId, long size, OutboundEnvelope envelope, DateTimeOffset now)
    {
        var id = w.Command("INSERT INTO queue (id, sender, blob_id, size, created, next_attempt, attempts, envid, ret) VALUES (" + w.Dialect.NewId("queue") + ", @s, @b, @z, @c, @c, 0, @e, @r) RETURNING id",
            ("@s", envelope.Sender), ("@b", blobId), ("@z", size), ("@c", now.ToUnixTimeMilliseconds()), ("@e", envelope.EnvelopeId), ("@r", envelope.Ret)).Scalar<long>();
        foreach (var recipient in envelope.Recipients)
        {
            w.Command("INSERT INTO queue_recipients (queue_id, address, state, notify, orcpt) VALUES (@q, @a, 0, @n, @o)",
                ("@q", id), ("@a", recipient.Address), ("@n", recipient.Notify), ("@o", recipient.OriginalRecipient)).Execute();
        }

        return id;
    }

    public Task<IReadOnlyList<QueuedMessage>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<QueuedMessage>>(c => Load(c, $"SELECT {QueueColumns} FROM queue ORDER BY id"), cancellationToken);

    public Task<QueuedMessage?> GetAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(c => Load(c, $"SELECT {QueueColumns} FROM queue WHERE id = @id", ("@id", id)).FirstOrDefault(), cancellationToken);

    public Task<IReadOnlyList<QueuedMessage>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken) =>
        database.WriteVolatileAsync<IReadOnlyList<QueuedMessage>>(w =>
        {
            // The outer due test is evaluated again on a row another node claimed meanwhile (PostgreSQL, READ COMMITTED),
            // so a message is never taken twice.
            var ids = w.Command(
                    "UPDATE queue SET next_attempt = @l WHERE next_attempt <= @now AND id IN " +
                    "(SELECT id FROM queue WHERE next_attempt <= @now ORDER BY next_attempt, id LIMIT @max) RETURNING id",
                    ("@l", leaseUntil.ToUnixTimeMilliseconds()), ("@now", now.ToUnixTimeMilliseconds()), ("@max", max))
                .Query(r => r.GetInt64(0));
            return ids.Count == 0 ? [] : Load(w.Connection, $"SELECT {QueueColumns} FROM queue WHERE id IN ({string.Join(',', ids)}) ORDER BY created, id", w.Transaction);
        }, cancellationToken);

    public Task RecordAttemptAsync(long id, IReadOnlyList<(long RecipientId, RecipientState State, string? Error)> outcomes, DateTimeOffset nextAttempt, string? lastError, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            foreach (var (recipientId, state, error) in outcomes)
            {
                w.Command("UPDATE queue_recipients SET state = @s, last_error = @e WHERE id = @id AND queue_id = @q", ("@s", (long)state), ("@e", error), ("@id", recipientId), ("@q", id)).Execute();
            }

            var pending = w.Command("SELECT COUNT(*) FROM queue_recipients WHERE queue_id = @q AND state = 0", ("@q", id)).Scalar<long>();
            if (pending == 0)
            {
                // Every recipient is delivered or bounced: the entry (and, if unshared, its content) goes.
                var blobId = w.Command("SELECT blob_id FROM queue WHERE id = @q", ("@q", id)).Scalar<long?>();
                w.Command("DELETE FROM queue WHERE id = @q", ("@q", id)).Execute();
                if (blobId is { } b)
                {
                    BlobCollector.DeleteUnreferenced(w, [b]);
                }
            }
            else
            {
                w.Command("UPDATE queue SET attempts = attempts + 1, next_attempt = @n, last_error = @e WHERE id = @q",
                    ("@n", nextAttempt.ToUnixTimeMilliseconds()), ("@e", lastError), ("@q", id)).Execute();
            }

            return pending;
        }, cancellationToken);

    public Task<bool> RetryNowAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("UPDATE queue SET next_attempt = @n WHERE id = @q", ("@n", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), ("@q", id)).Execute() > 0, cancellationToken);

    public Task<bool> DeleteAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var blobId = w.Command("SELECT blob_id FROM queue WHERE id = @q", ("@q", id)).Scalar<long?>();
            if (blobId is null)
            {
                return false;
            }

            w.Command("DELETE FROM queue WHERE id = @q", ("@q", id)).Execute();
            BlobCollector.DeleteUnreferenced(w, [blobId.Value]);
            return true;
        }, cancellationToken);

    private static List<QueuedMessage> Load(DbConnection c, string sql, params (string, object?)[] parameters) => Load(c, sql, null, parameters);

    private static List<QueuedMessage> Load(DbConnection c, string sql, DbTransaction? transaction, params (string, object?)[] parameters)
    {
        var command = c.CreateCommand(sql, parameters);
        command.Transaction = transaction;
        var rows = command.Query(r => new QueuedMessage(
            r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetUnixMilliseconds(4), r.GetUnixMilliseconds(5), (int)r.GetInt64(6),
            r.GetNullableString(7), r.GetNullableString(8), r.GetNullableString(9), []));
        for (var i = 0; i < rows.Count; i++)
        {
            var recipientsCommand = c.CreateCommand("SELECT id, address, state, notify, orcpt, last_error FROM queue_recipients WHERE queue_id = @q ORDER BY id", ("@q", rows[i].Id));
            recipientsCommand.Transaction = transaction;
            var recipients = recipientsCommand
                .Query(r => new QueuedRecipient(r.GetInt64(0), r.GetString(1), (RecipientState)r.GetInt64(2), r.GetNullableString(3), r.GetNullableString(4), r.GetNullableString(5)));
            rows[i] = rows[i] with { Recipients = recipients };
        }

        return rows;
    }
}
