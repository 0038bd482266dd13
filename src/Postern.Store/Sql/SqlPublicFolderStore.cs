using System.Data.Common;
using System.Globalization;

namespace Postern.Store.Sql;

internal sealed class SqlPublicFolderStore(IDatabase database, IChangeFeed changes) : IPublicFolderStore
{
    private const string FolderColumns = "id, path, newsgroup, description, moderated, moderator, uid_validity, next_number, created, age_limit_days";
    private const string MessageColumns = "id, folder_id, number, blob_id, size, lines, message_id, received, headers";
    private const string PeerColumns = "id, name, host, port, tls_mode, verify, username, password, groups, direction, last_pull, enabled";

    /// <summary>Header blocks larger than this are not kept for overview (the article itself is untouched).</summary>
    private const int MaxStoredHeaderBytes = 256 * 1024;

    public Task<StoreResult<PublicFolder>> AddFolderAsync(string path, string? newsgroup, string? description, CancellationToken cancellationToken)
    {
        path = path.Trim(PublicFolderNames.Delimiter);
        if (!PublicFolderNames.IsValidPath(path))
        {
            return Task.FromResult(StoreResult<PublicFolder>.Fail(StoreStatus.Invalid, "invalid folder path"));
        }

        if (newsgroup is not null && !PublicFolderNames.IsValidNewsgroup(newsgroup))
        {
            return Task.FromResult(StoreResult<PublicFolder>.Fail(StoreStatus.Invalid, "invalid newsgroup name"));
        }

        return database.WriteAsync(w =>
        {
            if (FindFolder(w.Connection, w.Transaction, path) is not null)
            {
                return StoreResult<PublicFolder>.Fail(StoreStatus.AlreadyExists, "folder exists");
            }

            if (newsgroup is not null && w.Command("SELECT COUNT(*) FROM public_folders WHERE newsgroup = @g", ("@g", newsgroup)).Scalar<long>() > 0)
            {
                return StoreResult<PublicFolder>.Fail(StoreStatus.AlreadyExists, "newsgroup exists");
            }

            // Missing parents are created plain (no newsgroup), with the default permissions.
            var parent = PublicFolderNames.Parent(path);
            var missing = new Stack<string>();
            while (parent is not null && FindFolder(w.Connection, w.Transaction, parent) is null)
            {
                missing.Push(parent);
                parent = PublicFolderNames.Parent(parent);
            }

            while (missing.Count > 0)
            {
                InsertFolder(w, missing.Pop(), null, null);
            }

            var id = InsertFolder(w, path, newsgroup, description);
            return StoreResult<PublicFolder>.Ok(LoadFolder(w.Connection, w.Transaction, id)!);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<PublicFolder>> ListFoldersAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PublicFolder>>(c =>
        {
            var permissions = c.CreateCommand("SELECT folder_id, principal, rights FROM public_folder_permissions ORDER BY principal")
                .Query(r => (FolderId: r.GetInt64(0), Permission: new PublicFolderPermission(r.GetString(1), (PublicFolderRights)r.GetInt64(2))))
                .ToLookup(p => p.FolderId, p => p.Permission);
            return c.CreateCommand($"SELECT {FolderColumns} FROM public_folders ORDER BY path").Query(r => MapFolder(r, [.. permissions[r.GetInt64(0)]]));
        }, cancellationToken);

    public Task<PublicFolder?> GetFolderAsync(string path, CancellationToken cancellationToken) =>
        database.ReadAsync(c => FindFolder(c, null, path.Trim(PublicFolderNames.Delimiter)), cancellationToken);

    public Task<PublicFolder?> GetFolderByIdAsync(long folderId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => LoadFolder(c, null, folderId), cancellationToken);

    public Task<PublicFolder?> FindNewsgroupAsync(string newsgroup, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
        {
            var id = c.CreateCommand("SELECT id FROM public_folders WHERE newsgroup = @g", ("@g", newsgroup)).Scalar<long?>();
            return id is null ? null : LoadFolder(c, null, id.Value);
        }, cancellationToken);

    public Task<StoreStatus> SetPermissionAsync(long folderId, string principal, PublicFolderRights rights, CancellationToken cancellationToken)
    {
        principal = principal.Trim();
        if (principal.Length == 0)
        {
            return Task.FromResult(StoreStatus.Invalid);
        }

        return database.WriteAsync(w =>
        {
            if (!FolderExists(w, folderId))
            {
                return StoreStatus.NotFound;
            }

            if (rights == PublicFolderRights.None)
            {
                w.Command("DELETE FROM public_folder_permissions WHERE folder_id = @f AND principal = @p", ("@f", folderId), ("@p", principal)).Execute();
            }
            else
            {
                w.Command("INSERT INTO public_folder_permissions (folder_id, principal, rights) VALUES (@f, @p, @r) ON CONFLICT (folder_id, principal) DO UPDATE SET rights = excluded.rights",
                    ("@f", folderId), ("@p", principal), ("@r", (long)(rights & PublicFolderRights.All))).Execute();
            }

            return StoreStatus.Ok;
        }, cancellationToken);
    }

    public Task<StoreStatus> SetModerationAsync(long folderId, bool moderated, string? moderator, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
            w.Command("UPDATE public_folders SET moderated = @m, moderator = @mod WHERE id = @f", ("@m", moderated ? 1 : 0), ("@mod", moderator), ("@f", folderId)).Execute() == 0
                ? StoreStatus.NotFound
                : StoreStatus.Ok, cancellationToken);

    public Task<StoreStatus> SetNewsgroupAsync(long folderId, string? newsgroup, CancellationToken cancellationToken)
    {
        if (newsgroup is not null && !PublicFolderNames.IsValidNewsgroup(newsgroup))
        {
            return Task.FromResult(StoreStatus.Invalid);
        }

        return database.WriteAsync(w =>
        {
            if (!FolderExists(w, folderId))
            {
                return StoreStatus.NotFound;
            }

            if (newsgroup is not null && w.Command("SELECT COUNT(*) FROM public_folders WHERE newsgroup = @g AND id <> @f", ("@g", newsgroup), ("@f", folderId)).Scalar<long>() > 0)
            {
                return StoreStatus.AlreadyExists;
            }

            w.Command("UPDATE public_folders SET newsgroup = @g WHERE id = @f", ("@g", newsgroup), ("@f", folderId)).Execute();
            return StoreStatus.Ok;
        }, cancellationToken);
    }

    public Task<StoreStatus> SetDescriptionAsync(long folderId, string? description, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
            w.Command("UPDATE public_folders SET description = @d WHERE id = @f", ("@d", description), ("@f", folderId)).Execute() == 0
                ? StoreStatus.NotFound
                : StoreStatus.Ok, cancellationToken);

    public Task<StoreStatus> RemoveFolderAsync(string path, CancellationToken cancellationToken)
    {
        path = path.Trim(PublicFolderNames.Delimiter);
        return database.WriteAsync(w =>
        {
            var folder = FindFolder(w.Connection, w.Transaction, path);
            if (folder is null)
            {
                return StoreStatus.NotFound;
            }

            var ids = w.Command("SELECT id FROM public_folders WHERE id = @f OR substr(path, 1, @len) = @prefix COLLATE NOCASE",
                ("@f", folder.Id), ("@len", folder.Path.Length + 1), ("@prefix", folder.Path + PublicFolderNames.Delimiter)).Query(r => r.GetInt64(0));
            var blobs = new List<long>();
            foreach (var id in ids)
            {
                blobs.AddRange(w.Command("SELECT blob_id FROM public_messages WHERE folder_id = @f", ("@f", id)).Query(r => r.GetInt64(0)));
                w.Command("DELETE FROM public_messages WHERE folder_id = @f", ("@f", id)).Execute();
                w.Command("DELETE FROM public_folders WHERE id = @f", ("@f", id)).Execute();
                w.AfterCommit(() => changes.Publish(new MailboxChange(PublicFolderChanges.ChangeKey(id), MailboxChangeKind.MailboxDeleted, 0, [])));
            }

            BlobCollector.DeleteUnreferenced(w, blobs);
            return StoreStatus.Ok;
        }, cancellationToken);
    }

    public Task<PublicFolderSummary> GetSummaryAsync(long folderId, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
        {
            using var command = c.CreateCommand(
                "SELECT (SELECT COUNT(*) FROM public_messages WHERE folder_id = @f), (SELECT MIN(number) FROM public_messages WHERE folder_id = @f), (SELECT MAX(number) FROM public_messages WHERE folder_id = @f), (SELECT next_number FROM public_folders WHERE id = @f)",
                ("@f", folderId));
            using var reader = command.ExecuteReader();
            reader.Read();
            var count = reader.GetInt64(0);
            var next = reader.IsDBNull(3) ? 1 : reader.GetInt64(3);
            if (count == 0)
            {
                // RFC 3977 §6.1.1.2: an empty group reports high = low - 1 and low = the next number.
                return new PublicFolderSummary(folderId, 0, next, next - 1);
            }

            return new PublicFolderSummary(folderId, count, reader.GetInt64(1), reader.GetInt64(2));
        }, cancellationToken);

    public Task<IReadOnlyList<PublicMessage>> ListMessagesAsync(long folderId, long low, long high, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PublicMessage>>(c =>
            c.CreateCommand($"SELECT {MessageColumns} FROM public_messages WHERE folder_id = @f AND number BETWEEN @lo AND @hi ORDER BY number",
                ("@f", folderId), ("@lo", low), ("@hi", high)).Query(MapMessage), cancellationToken);

    public Task<IReadOnlyList<PublicMessage>> ListMessagesPageAsync(long folderId, long low, long high, int limit, bool fromHighEnd, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PublicMessage>>(c =>
            c.CreateCommand($"SELECT {MessageColumns} FROM public_messages WHERE folder_id = @f AND number BETWEEN @lo AND @hi ORDER BY number {(fromHighEnd ? "DESC" : "ASC")} LIMIT @n",
                ("@f", folderId), ("@lo", low), ("@hi", high), ("@n", limit)).Query(MapMessage), cancellationToken);

    public Task<IReadOnlyList<CrossPostCopy>> ListCrossPostCopiesAsync(long folderId, long low, long high, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<CrossPostCopy>>(c =>
            c.CreateCommand("SELECT m.number, o.folder_id, o.number FROM public_messages m JOIN public_messages o ON o.message_id = m.message_id AND o.folder_id <> m.folder_id " +
                    "WHERE m.folder_id = @f AND m.number BETWEEN @lo AND @hi ORDER BY m.number, o.folder_id",
                ("@f", folderId), ("@lo", low), ("@hi", high)).Query(r => new CrossPostCopy(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2))), cancellationToken);

    public Task<PublicMessage?> GetMessageAsync(long folderId, long number, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
            c.CreateCommand($"SELECT {MessageColumns} FROM public_messages WHERE folder_id = @f AND number = @n", ("@f", folderId), ("@n", number)).QuerySingle(MapMessage), cancellationToken);

    public Task<IReadOnlyList<PublicMessage>> FindByMessageIdAsync(string messageId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PublicMessage>>(c =>
            c.CreateCommand($"SELECT {MessageColumns} FROM public_messages WHERE message_id = @id ORDER BY id", ("@id", messageId)).Query(MapMessage), cancellationToken);

    public Task<IReadOnlyList<ReceivedArticle>> ListReceivedSinceAsync(DateTimeOffset since, ReceivedArticle? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReceivedArticle>>(c =>
            c.CreateCommand("SELECT id, folder_id, message_id, received FROM public_messages WHERE received >= @t AND message_id IS NOT NULL " +
                    "AND (CAST(@r AS BIGINT) IS NULL OR received > @r OR (received = @r AND id > @i)) ORDER BY received, id LIMIT @n",
                ("@t", since.ToUnixTimeMilliseconds()), ("@r", after?.Received.ToUnixTimeMilliseconds()), ("@i", after?.Id ?? 0), ("@n", limit))
                .Query(r => new ReceivedArticle(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetUnixMilliseconds(3))), cancellationToken);

    public Task<byte[]> ReadContentAsync(long blobId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT data FROM blobs WHERE id = @b", ("@b", blobId)).QuerySingle(r => (byte[])r.GetValue(0)) ?? [], cancellationToken);

    public Task<StoreResult<StoredArticle>> AppendAsync(long folderId, ReadOnlyMemory<byte> content, string? messageId, DateTimeOffset received, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var folder = LoadFolder(w.Connection, w.Transaction, folderId);
            if (folder is null)
            {
                return StoreResult<StoredArticle>.Fail(StoreStatus.NotFound, "no such folder");
            }

            var blobId = InsertBlob(w, content);
            var stored = InsertMessage(w, folder, blobId, content, messageId, received);
            if (messageId is not null)
            {
                w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t) ON CONFLICT DO NOTHING",
                    ("@id", messageId), ("@s", (long)NewsHistoryState.Accepted), ("@t", received.ToUnixTimeMilliseconds())).Execute();
                if (folder.Newsgroup is not null)
                {
                    QueueForPeers(w, messageId, blobId, received);
                }
            }

            return StoreResult<StoredArticle>.Ok(stored);
        }, cancellationToken);

    public async Task<ArticleResult> PostArticleAsync(NewArticle article, CancellationToken cancellationToken)
    {
        try
        {
            return await StoreArticleAsync(article, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex) when (ex.SqlState == "23505" && article.MessageId is not null)
        {
            // Another node sharing the store took the same article at the same moment (PostgreSQL; SQLite's one writer
            // never races): its history row won, so this copy is the duplicate.
            return new ArticleResult(ArticleOutcome.Duplicate, []);
        }
    }

    private Task<ArticleResult> StoreArticleAsync(NewArticle article, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            if (article.MessageId is not null && w.Command("SELECT COUNT(*) FROM news_history WHERE message_id = @id", ("@id", article.MessageId)).Scalar<long>() > 0)
            {
                return new ArticleResult(ArticleOutcome.Duplicate, []);
            }

            var folders = article.FolderIds.Distinct().Select(id => LoadFolder(w.Connection, w.Transaction, id)).OfType<PublicFolder>().ToList();
            if (folders.Count == 0)
            {
                return new ArticleResult(ArticleOutcome.NoFolder, []);
            }

            var blobId = InsertBlob(w, article.Content);
            var when = article.Received.ToUnixTimeMilliseconds();
            if (article.HoldForModeration)
            {
                var messageId = article.MessageId ?? "";
                var pendingId = w.Command("INSERT INTO news_pending (id, message_id, folder_ids, blob_id, size, received, submitter) VALUES (" + w.Dialect.NewId("news_pending") + ", @id, @f, @b, @s, @t, @u) RETURNING id",
                    ("@id", messageId), ("@f", string.Join(',', folders.Select(f => f.Id.ToString(CultureInfo.InvariantCulture)))), ("@b", blobId),
                    ("@s", article.Content.Length), ("@t", when), ("@u", article.Submitter)).Scalar<long>();
                if (article.MessageId is not null)
                {
                    w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t)", ("@id", article.MessageId), ("@s", (long)NewsHistoryState.Pending), ("@t", when)).Execute();
                }

                return new ArticleResult(ArticleOutcome.Pending, [], pendingId);
            }

            var stored = folders.Select(f => InsertMessage(w, f, blobId, article.Content, article.MessageId, article.Received)).ToList();
            if (article.MessageId is not null)
            {
                w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t)", ("@id", article.MessageId), ("@s", (long)NewsHistoryState.Accepted), ("@t", when)).Execute();
                if (article.QueueForPeers)
                {
                    QueueForPeers(w, article.MessageId, blobId, article.Received);
                }
            }

            return new ArticleResult(ArticleOutcome.Stored, stored);
        }, cancellationToken);

    public Task<StoreStatus> RemoveMessageAsync(long folderId, long number, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var blob = w.Command("DELETE FROM public_messages WHERE folder_id = @f AND number = @n RETURNING blob_id", ("@f", folderId), ("@n", number)).Scalar<long?>();
            w.Command("DELETE FROM public_flags WHERE folder_id = @f AND number = @n", ("@f", folderId), ("@n", number)).Execute();
            if (blob is null)
            {
                return StoreStatus.NotFound;
            }

            BlobCollector.DeleteUnreferenced(w, [blob.Value]);
            w.AfterCommit(() => changes.Publish(new MailboxChange(PublicFolderChanges.ChangeKey(folderId), MailboxChangeKind.Expunged, 0, [number])));
            return StoreStatus.Ok;
        }, cancellationToken);

    public Task<CancelResult> CancelArticleAsync(ArticleCancel cancel, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var when = cancel.Received.ToUnixTimeMilliseconds();
            if (cancel.ControlMessageId is not null)
            {
                if (w.Command("SELECT COUNT(*) FROM news_history WHERE message_id = @id", ("@id", cancel.ControlMessageId)).Scalar<long>() > 0)
                {
                    return new CancelResult(CancelOutcome.Duplicate, 0);
                }

                w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t)", ("@id", cancel.ControlMessageId), ("@s", (long)NewsHistoryState.Accepted), ("@t", when)).Execute();
            }

            var victims = w.Command("DELETE FROM public_messages WHERE message_id = @m RETURNING folder_id, number, blob_id", ("@m", cancel.TargetMessageId))
                .Query(r => (FolderId: r.GetInt64(0), Number: r.GetInt64(1), BlobId: r.GetInt64(2)));
            foreach (var victim in victims)
            {
                w.Command("DELETE FROM public_flags WHERE folder_id = @f AND number = @n", ("@f", victim.FolderId), ("@n", victim.Number)).Execute();
            }

            // A held article is withdrawn too; an article not here yet is refused when it comes (RFC 5537 §5.3).
            var pendingBlobs = w.Command("DELETE FROM news_pending WHERE message_id = @m RETURNING blob_id", ("@m", cancel.TargetMessageId)).Query(r => r.GetInt64(0));
            w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t) ON CONFLICT (message_id) DO UPDATE SET state = excluded.state, recorded = excluded.recorded",
                ("@id", cancel.TargetMessageId), ("@s", (long)NewsHistoryState.Cancelled), ("@t", when)).Execute();
            w.Command("DELETE FROM news_feed_queue WHERE message_id = @m", ("@m", cancel.TargetMessageId)).Execute();
            BlobCollector.DeleteUnreferenced(w, [.. victims.Select(v => v.BlobId), .. pendingBlobs]);

            if (cancel.ControlMessageId is not null && !cancel.ControlContent.IsEmpty)
            {
                // Kept for pull peers, and queued for push peers when it came from here or from a reader.
                var controlBlob = InsertBlob(w, cancel.ControlContent);
                w.Command("INSERT INTO news_control (message_id, blob_id, newsgroups, received) VALUES (@m, @b, @g, @t) ON CONFLICT DO NOTHING",
                    ("@m", cancel.ControlMessageId), ("@b", controlBlob), ("@g", string.Join(',', cancel.ControlNewsgroups ?? [])), ("@t", when)).Execute();
                if (cancel.QueueForPeers)
                {
                    QueueForPeers(w, cancel.ControlMessageId, controlBlob, cancel.Received);
                }
            }

            foreach (var group in victims.GroupBy(v => v.FolderId))
            {
                var numbers = group.Select(v => v.Number).ToList();
                w.AfterCommit(() => changes.Publish(new MailboxChange(PublicFolderChanges.ChangeKey(group.Key), MailboxChangeKind.Expunged, 0, numbers)));
            }

            return new CancelResult(CancelOutcome.Done, victims.Count);
        }, cancellationToken);

    public Task<int> ExpireAsync(long? folderId, DateTimeOffset receivedBefore, CancellationToken cancellationToken) =>
        database.WriteAsync(w => RemoveExpired(w, w.Command(
            "SELECT m.id, m.blob_id, m.message_id, m.folder_id, m.number FROM public_messages m JOIN public_folders f ON f.id = m.folder_id WHERE f.newsgroup IS NOT NULL AND m.received < @t AND (CAST(@f AS BIGINT) IS NULL OR m.folder_id = @f)",
            ("@t", receivedBefore.ToUnixTimeMilliseconds()), ("@f", folderId))), cancellationToken);

    public Task<StoreStatus> SetAgeLimitAsync(long folderId, int? days, CancellationToken cancellationToken) =>
        days is < 1 or > PublicFolderAgeLimit.MaxDays
            ? Task.FromResult(StoreStatus.Invalid)
            : database.WriteAsync(w =>
                w.Command("UPDATE public_folders SET age_limit_days = @d WHERE id = @f", ("@d", days), ("@f", folderId)).Execute() == 0
                    ? StoreStatus.NotFound
                    : StoreStatus.Ok, cancellationToken);

    public Task<int> ExpireByAgeLimitAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(w => RemoveExpired(w, w.Command(
            "SELECT m.id, m.blob_id, m.message_id, m.folder_id, m.number FROM public_messages m JOIN public_folders f ON f.id = m.folder_id WHERE f.age_limit_days IS NOT NULL AND m.received < @now - f.age_limit_days * 86400000 LIMIT @max",
            ("@now", now.ToUnixTimeMilliseconds()), ("@max", PublicFolderAgeLimit.MaxPerPass))), cancellationToken);

    /// <summary>Deletes the selected rows (id, blob, Message-ID, folder, number); a Message-ID with no copy left is marked expired in the history.</summary>
    private int RemoveExpired(WriteContext w, DbCommand select)
    {
        var victims = select.Query(r => (Id: r.GetInt64(0), BlobId: r.GetInt64(1), MessageId: r.GetNullableString(2), FolderId: r.GetInt64(3), Number: r.GetInt64(4)));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var victim in victims)
        {
            w.Command("DELETE FROM public_messages WHERE id = @id", ("@id", victim.Id)).Execute();
            w.Command("DELETE FROM public_flags WHERE folder_id = @f AND number = @n", ("@f", victim.FolderId), ("@n", victim.Number)).Execute();
        }

        foreach (var messageId in victims.Select(v => v.MessageId).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (w.Command("SELECT COUNT(*) FROM public_messages WHERE message_id = @m", ("@m", messageId)).Scalar<long>() == 0)
            {
                w.Command("UPDATE news_history SET state = @s, recorded = @t WHERE message_id = @m", ("@s", (long)NewsHistoryState.Expired), ("@t", now), ("@m", messageId)).Execute();
            }
        }

        BlobCollector.DeleteUnreferenced(w, victims.Select(v => v.BlobId));
        foreach (var group in victims.GroupBy(v => v.FolderId))
        {
            var numbers = group.Select(v => v.Number).ToList();
            w.AfterCommit(() => changes.Publish(new MailboxChange(PublicFolderChanges.ChangeKey(group.Key), MailboxChangeKind.Expunged, 0, numbers)));
        }

        return victims.Count;
    }

    public Task<NewsHistoryEntry?> GetHistoryAsync(string messageId, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
            c.CreateCommand("SELECT message_id, state, recorded FROM news_history WHERE message_id = @id", ("@id", messageId))
                .QuerySingle(r => new NewsHistoryEntry(r.GetString(0), (NewsHistoryState)r.GetInt64(1), r.GetUnixMilliseconds(2))), cancellationToken);

    public Task RememberRejectedAsync(string messageId, DateTimeOffset when, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
            w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t) ON CONFLICT DO NOTHING",
                ("@id", messageId), ("@s", (long)NewsHistoryState.Rejected), ("@t", when.ToUnixTimeMilliseconds())).Execute(), cancellationToken);

    public Task<int> PurgeHistoryAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var t = before.ToUnixTimeMilliseconds();
            var blobs = w.Command("DELETE FROM news_control WHERE received < @t RETURNING blob_id", ("@t", t)).Query(r => r.GetInt64(0));
            BlobCollector.DeleteUnreferenced(w, blobs);
            return w.Command("DELETE FROM news_history WHERE state IN (@r, @e) AND recorded < @t",
                ("@r", (long)NewsHistoryState.Rejected), ("@e", (long)NewsHistoryState.Expired), ("@t", t)).Execute();
        }, cancellationToken);

    public Task<IReadOnlyList<ControlArticle>> ListControlArticlesSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ControlArticle>>(c =>
            c.CreateCommand("SELECT message_id, blob_id, newsgroups, received FROM news_control WHERE received >= @t ORDER BY received", ("@t", since.ToUnixTimeMilliseconds()))
                .Query(MapControl), cancellationToken);

    public Task<ControlArticle?> FindControlArticleAsync(string messageId, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
            c.CreateCommand("SELECT message_id, blob_id, newsgroups, received FROM news_control WHERE message_id = @m", ("@m", messageId)).QuerySingle(MapControl), cancellationToken);

    private static ControlArticle MapControl(DbDataReader r) =>
        new(r.GetString(0), r.GetInt64(1), r.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)));

    public Task<IReadOnlyList<PendingArticle>> ListPendingAsync(long? folderId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PendingArticle>>(c =>
        {
            var all = c.CreateCommand("SELECT id, message_id, folder_ids, blob_id, size, received, submitter FROM news_pending ORDER BY id").Query(MapPending);
            return folderId is null ? all : [.. all.Where(p => p.FolderIds.Contains(folderId.Value))];
        }, cancellationToken);

    public Task<ArticleResult?> ApprovePendingAsync(long pendingId, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var pending = w.Command("SELECT id, message_id, folder_ids, blob_id, size, received, submitter FROM news_pending WHERE id = @id", ("@id", pendingId)).QuerySingle(MapPending);
            if (pending is null)
            {
                return null;
            }

            var content = w.Command("SELECT data FROM blobs WHERE id = @b", ("@b", pending.BlobId)).QuerySingle(r => (byte[])r.GetValue(0)) ?? [];
            var now = DateTimeOffset.UtcNow;
            var messageId = pending.MessageId.Length == 0 ? null : pending.MessageId;
            var stored = pending.FolderIds.Select(id => LoadFolder(w.Connection, w.Transaction, id)).OfType<PublicFolder>()
                .Select(f => InsertMessage(w, f, pending.BlobId, content, messageId, now)).ToList();
            w.Command("DELETE FROM news_pending WHERE id = @id", ("@id", pendingId)).Execute();
            if (messageId is not null)
            {
                w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t) ON CONFLICT (message_id) DO UPDATE SET state = excluded.state, recorded = excluded.recorded", ("@id", messageId), ("@s", (long)NewsHistoryState.Accepted), ("@t", now.ToUnixTimeMilliseconds())).Execute();
                if (stored.Count > 0)
                {
                    QueueForPeers(w, messageId, pending.BlobId, now);
                }
            }

            BlobCollector.DeleteUnreferenced(w, [pending.BlobId]);
            return (ArticleResult?)new ArticleResult(stored.Count > 0 ? ArticleOutcome.Stored : ArticleOutcome.NoFolder, stored);
        }, cancellationToken);

    public Task<bool> RejectPendingAsync(long pendingId, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var pending = w.Command("SELECT id, message_id, folder_ids, blob_id, size, received, submitter FROM news_pending WHERE id = @id", ("@id", pendingId)).QuerySingle(MapPending);
            if (pending is null)
            {
                return false;
            }

            w.Command("DELETE FROM news_pending WHERE id = @id", ("@id", pendingId)).Execute();
            if (pending.MessageId.Length > 0)
            {
                w.Command("INSERT INTO news_history (message_id, state, recorded) VALUES (@id, @s, @t) ON CONFLICT (message_id) DO UPDATE SET state = excluded.state, recorded = excluded.recorded",
                    ("@id", pending.MessageId), ("@s", (long)NewsHistoryState.Rejected), ("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).Execute();
            }

            BlobCollector.DeleteUnreferenced(w, [pending.BlobId]);
            return true;
        }, cancellationToken);

    public Task<StoreResult<NewsPeer>> AddPeerAsync(NewsPeer peer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(peer.Name) || string.IsNullOrWhiteSpace(peer.Host) || peer.Port is <= 0 or > 65535 || string.IsNullOrWhiteSpace(peer.Groups))
        {
            return Task.FromResult(StoreResult<NewsPeer>.Fail(StoreStatus.Invalid, "a peer needs a name, a host, a port (1-65535) and a groups wildmat"));
        }

        return database.WriteAsync(w =>
        {
            if (w.Command("SELECT COUNT(*) FROM news_peers WHERE name = @n", ("@n", peer.Name)).Scalar<long>() > 0)
            {
                return StoreResult<NewsPeer>.Fail(StoreStatus.AlreadyExists, "peer exists");
            }

            var id = w.Command(
                "INSERT INTO news_peers (id, name, host, port, tls_mode, verify, username, password, groups, direction, last_pull, enabled) VALUES (" + w.Dialect.NewId("news_peers") + ", @n, @h, @p, @tls, @v, @u, @pw, @g, @d, @lp, @e) RETURNING id",
                ("@n", peer.Name), ("@h", peer.Host), ("@p", peer.Port), ("@tls", peer.Tls switch { NewsPeerTls.Implicit => "implicit", NewsPeerTls.None => "none", _ => "starttls" }), ("@v", peer.Verify ? 1 : 0),
                ("@u", peer.UserName), ("@pw", peer.Password), ("@g", peer.Groups), ("@d", DirectionName(peer.Direction)),
                ("@lp", peer.LastPull?.ToUnixTimeMilliseconds()), ("@e", peer.Enabled ? 1 : 0)).Scalar<long>();
            return StoreResult<NewsPeer>.Ok(peer with { Id = id });
        }, cancellationToken);
    }

    public Task<IReadOnlyList<NewsPeer>> ListPeersAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<NewsPeer>>(c => c.CreateCommand($"SELECT {PeerColumns} FROM news_peers ORDER BY name").Query(MapPeer), cancellationToken);

    public Task<bool> RemovePeerAsync(string name, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var id = w.Command("SELECT id FROM news_peers WHERE name = @n", ("@n", name)).Scalar<long?>();
            if (id is null)
            {
                return false;
            }

            var blobs = w.Command("SELECT blob_id FROM news_feed_queue WHERE peer_id = @p", ("@p", id.Value)).Query(r => r.GetInt64(0));
            w.Command("DELETE FROM news_feed_queue WHERE peer_id = @p", ("@p", id.Value)).Execute();
            w.Command("DELETE FROM news_peers WHERE id = @p", ("@p", id.Value)).Execute();
            BlobCollector.DeleteUnreferenced(w, blobs);
            return true;
        }, cancellationToken);

    public Task SetLastPullAsync(long peerId, DateTimeOffset when, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("UPDATE news_peers SET last_pull = @t WHERE id = @p", ("@t", when.ToUnixTimeMilliseconds()), ("@p", peerId)).Execute(), cancellationToken);

    public Task<IReadOnlyList<NewsFeedEntry>> ListDueFeedAsync(long peerId, DateTimeOffset now, int max, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<NewsFeedEntry>>(c =>
            c.CreateCommand("SELECT id, peer_id, message_id, blob_id, next_attempt, attempts, last_error FROM news_feed_queue WHERE peer_id = @p AND next_attempt <= @t ORDER BY id LIMIT @max",
                ("@p", peerId), ("@t", now.ToUnixTimeMilliseconds()), ("@max", max))
            .Query(MapFeedEntry), cancellationToken);

    private static NewsFeedEntry MapFeedEntry(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetInt64(3), r.GetUnixMilliseconds(4), (int)r.GetInt64(5), r.GetNullableString(6));

    public Task<IReadOnlyList<NewsFeedEntry>> ClaimDueFeedAsync(long peerId, DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken) =>
        database.WriteVolatileAsync<IReadOnlyList<NewsFeedEntry>>(w =>
            [.. w.Command(
                    // The outer due test is evaluated again on a row another node claimed meanwhile (PostgreSQL, READ
                    // COMMITTED), so an entry is never taken twice.
                    "UPDATE news_feed_queue SET next_attempt = @l WHERE next_attempt <= @t AND id IN " +
                    "(SELECT id FROM news_feed_queue WHERE peer_id = @p AND next_attempt <= @t ORDER BY id LIMIT @max) " +
                    "RETURNING id, peer_id, message_id, blob_id, next_attempt, attempts, last_error",
                    ("@l", leaseUntil.ToUnixTimeMilliseconds()), ("@p", peerId), ("@t", now.ToUnixTimeMilliseconds()), ("@max", max))
                .Query(MapFeedEntry)
                .OrderBy(e => e.Id)],
            cancellationToken);

    public Task CompleteFeedAsync(IReadOnlyList<long> entryIds, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var blobs = new List<long>();
            foreach (var id in entryIds)
            {
                var blob = w.Command("DELETE FROM news_feed_queue WHERE id = @id RETURNING blob_id", ("@id", id)).Scalar<long?>();
                if (blob is not null)
                {
                    blobs.Add(blob.Value);
                }
            }

            BlobCollector.DeleteUnreferenced(w, blobs);
            return blobs.Count;
        }, cancellationToken);

    public Task RetryFeedLaterAsync(long entryId, DateTimeOffset nextAttempt, string? error, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
            w.Command("UPDATE news_feed_queue SET next_attempt = @t, attempts = attempts + 1, last_error = @e WHERE id = @id",
                ("@t", nextAttempt.ToUnixTimeMilliseconds()), ("@e", error), ("@id", entryId)).Execute(), cancellationToken);

    public Task PostponeFeedAsync(IReadOnlyList<long> entryIds, DateTimeOffset nextAttempt, string? error, CancellationToken cancellationToken) =>
        entryIds.Count == 0
            ? Task.CompletedTask
            : database.WriteAsync(w =>
            {
                foreach (var id in entryIds)
                {
                    w.Command("UPDATE news_feed_queue SET next_attempt = @t, last_error = @e WHERE id = @id",
                        ("@t", nextAttempt.ToUnixTimeMilliseconds()), ("@e", error), ("@id", id)).Execute();
                }

                return entryIds.Count;
            }, cancellationToken);

    public Task<int> CountFeedAsync(long? peerId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => (int)(peerId is null
            ? c.CreateCommand("SELECT COUNT(*) FROM news_feed_queue").Scalar<long>()
            : c.CreateCommand("SELECT COUNT(*) FROM news_feed_queue WHERE peer_id = @p", ("@p", peerId.Value)).Scalar<long>()), cancellationToken);

    /// <summary>The header block (up to, not including, the empty line) and the body's line count.</summary>
    internal static (byte[] Headers, long Lines) SplitArticle(ReadOnlySpan<byte> content)
    {
        var headerEnd = content.Length;
        var bodyStart = content.Length;
        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] != '\n')
            {
                continue;
            }

            var next = i + 1;
            if (next < content.Length && content[next] == '\n')
            {
                headerEnd = next;
                bodyStart = next + 1;
                break;
            }

            if (next + 1 < content.Length && content[next] == '\r' && content[next + 1] == '\n')
            {
                headerEnd = next;
                bodyStart = next + 2;
                break;
            }
        }

        var body = content[bodyStart..];
        long lines = body.Count((byte)'\n');
        if (body.Length > 0 && body[^1] != '\n')
        {
            lines++;
        }

        var headers = content[..Math.Min(headerEnd, MaxStoredHeaderBytes)].ToArray();
        return (headers, lines);
    }

    private static void QueueForPeers(WriteContext w, string messageId, long blobId, DateTimeOffset now) =>
        w.Command("INSERT INTO news_feed_queue (id, peer_id, message_id, blob_id, next_attempt) SELECT " + w.Dialect.NewIds("news_feed_queue", "id") + ", id, @m, @b, @t FROM news_peers WHERE enabled = 1 AND direction IN ('push', 'both') ON CONFLICT DO NOTHING",
            ("@m", messageId), ("@b", blobId), ("@t", now.ToUnixTimeMilliseconds())).Execute();

    private static long InsertBlob(WriteContext w, ReadOnlyMemory<byte> content) =>
        w.Command(w.Dialect.InsertBlob, ("@s", content.Length), ("@d", content.ToArray())).Scalar<long>();

    private StoredArticle InsertMessage(WriteContext w, PublicFolder folder, long blobId, ReadOnlyMemory<byte> content, string? messageId, DateTimeOffset received)
    {
        // The number is taken from the folder row in this transaction: never reused, even after removal.
        var number = w.Command("UPDATE public_folders SET next_number = next_number + 1 WHERE id = @f RETURNING next_number - 1", ("@f", folder.Id)).Scalar<long>();
        var (headers, lines) = SplitArticle(content.Span);
        w.Command("INSERT INTO public_messages (folder_id, number, blob_id, size, lines, message_id, received, headers) VALUES (@f, @n, @b, @s, @l, @m, @t, @h)",
            ("@f", folder.Id), ("@n", number), ("@b", blobId), ("@s", content.Length), ("@l", lines), ("@m", messageId), ("@t", received.ToUnixTimeMilliseconds()), ("@h", headers)).Execute();
        w.AfterCommit(() => changes.Publish(new MailboxChange(PublicFolderChanges.ChangeKey(folder.Id), MailboxChangeKind.Appended, 0, [number])));
        return new StoredArticle(folder.Id, folder.UidValidity, number);
    }

    private static long InsertFolder(WriteContext w, string path, string? newsgroup, string? description)
    {
        var now = DateTimeOffset.UtcNow;
        var uidValidity = SqlMailStore.NextUidValidity(w);
        var id = w.Command("INSERT INTO public_folders (id, path, newsgroup, description, uid_validity, created) VALUES (" + w.Dialect.NewId("public_folders") + ", @p, @g, @d, @v, @c) RETURNING id",
            ("@p", path), ("@g", newsgroup), ("@d", description), ("@v", uidValidity), ("@c", now.ToUnixTimeMilliseconds())).Scalar<long>();
        foreach (var permission in PublicFolderPrincipals.Defaults)
        {
            w.Command("INSERT INTO public_folder_permissions (folder_id, principal, rights) VALUES (@f, @p, @r)", ("@f", id), ("@p", permission.Principal), ("@r", (long)permission.Rights)).Execute();
        }

        return id;
    }

    private static bool FolderExists(WriteContext w, long folderId) =>
        w.Command("SELECT COUNT(*) FROM public_folders WHERE id = @f", ("@f", folderId)).Scalar<long>() > 0;

    private static PublicFolder? FindFolder(DbConnection connection, DbTransaction? transaction, string path)
    {
        using var command = connection.CreateCommand("SELECT id FROM public_folders WHERE path = @p", ("@p", path));
        command.Transaction = transaction;
        var id = command.ExecuteScalar();
        return id is long folderId ? LoadFolder(connection, transaction, folderId) : null;
    }

    private static PublicFolder? LoadFolder(DbConnection connection, DbTransaction? transaction, long id)
    {
        var permissionsCommand = connection.CreateCommand("SELECT principal, rights FROM public_folder_permissions WHERE folder_id = @f ORDER BY principal", ("@f", id));
        permissionsCommand.Transaction = transaction;
        var permissions = permissionsCommand.Query(r => new PublicFolderPermission(r.GetString(0), (PublicFolderRights)r.GetInt64(1)));
        var folderCommand = connection.CreateCommand($"SELECT {FolderColumns} FROM public_folders WHERE id = @f", ("@f", id));
        folderCommand.Transaction = transaction;
        return folderCommand.QuerySingle(r => MapFolder(r, permissions));
    }

    private static PublicFolder MapFolder(DbDataReader r, IReadOnlyList<PublicFolderPermission> permissions) =>
        new(r.GetInt64(0), r.GetString(1), r.GetNullableString(2), r.GetNullableString(3), r.GetInt64(4) != 0, r.GetNullableString(5), r.GetInt64(6), r.GetInt64(7), r.GetUnixMilliseconds(8), permissions,
            r.IsDBNull(9) ? null : r.GetInt32(9));

    private static PublicMessage MapMessage(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetNullableString(6), r.GetUnixMilliseconds(7), (byte[])r.GetValue(8));

    private static PendingArticle MapPending(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), [.. r.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => long.Parse(s, CultureInfo.InvariantCulture))],
            r.GetInt64(3), r.GetInt64(4), r.GetUnixMilliseconds(5), r.GetNullableString(6));

    private static NewsPeer MapPeer(DbDataReader r) => new()
    {
        Id = r.GetInt64(0),
        Name = r.GetString(1),
        Host = r.GetString(2),
        Port = r.GetInt32(3),
        Tls = r.GetString(4) switch { "implicit" => NewsPeerTls.Implicit, "none" => NewsPeerTls.None, _ => NewsPeerTls.StartTls },
        Verify = r.GetInt64(5) != 0,
        UserName = r.GetNullableString(6),
        Password = r.GetNullableString(7),
        Groups = r.GetString(8),
        Direction = r.GetString(9) switch { "push" => NewsFeedDirection.Push, "pull" => NewsFeedDirection.Pull, _ => NewsFeedDirection.Both },
        LastPull = r.IsDBNull(10) ? null : r.GetUnixMilliseconds(10),
        Enabled = r.GetInt64(11) != 0,
    };

    private static string DirectionName(NewsFeedDirection direction) => direction switch
    {
        NewsFeedDirection.Push => "push",
        NewsFeedDirection.Pull => "pull",
        _ => "both",
    };
}
