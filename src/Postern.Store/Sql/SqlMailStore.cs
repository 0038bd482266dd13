using System.Data.Common;

namespace Postern.Store.Sql;

internal sealed class SqlMailStore(IDatabase database, IChangeFeed changes, bool volatileFlagChanges = false) : IMailStore
{
    private const string MailboxColumns = "id, account_id, name, uid_validity, uid_next, highest_modseq, special_use";

    // The keyword list only where one mailbox is looked up by name (SELECT, APPEND), not for LIST or every sync.
    private const string MailboxColumnsWithKeywords = MailboxColumns + ", keywords";
    private const string MessageColumns = "id, mailbox_id, uid, blob_id, size, internal_date, flags, keywords, modseq, saved, crlf_size";

    /// <summary>How long a mailbox's keyword list may grow before keywords no message carries are dropped from it.</summary>
    private const int KeywordListPruneThreshold = 1024;

    /// <summary>RFC 6154 special-use mailboxes every account gets, besides INBOX.</summary>
    internal static readonly (string Name, string? SpecialUse)[] DefaultMailboxes =
    [
        ("INBOX", null), ("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"), ("Junk", "\\Junk"), ("Archive", "\\Archive"),
    ];

    internal static void CreateDefaultMailboxes(WriteContext w, long accountId)
    {
        foreach (var (name, specialUse) in DefaultMailboxes)
        {
            if (w.Command("SELECT COUNT(*) FROM mailboxes WHERE account_id = @a AND name = @n", ("@a", accountId), ("@n", name)).Scalar<long>() == 0)
            {
                InsertMailbox(w, accountId, name, specialUse);
                Subscribe(w, accountId, name);
            }
        }
    }

    // The default names are constants, so they are written into the query itself (one cached statement).
    private static readonly string s_countDefaultMailboxes =
        "SELECT COUNT(*) FROM mailboxes WHERE account_id = @a AND name IN (" + string.Join(", ", DefaultMailboxes.Select(m => "'" + m.Name + "'")) + ")";

    public async Task EnsureDefaultMailboxesAsync(long accountId, CancellationToken cancellationToken)
    {
        // Every login asks: a read answers it when they are all there, without a turn of the writer (and on a full disk).
        var present = await database.ReadAsync(c => c.CreateCommand(s_countDefaultMailboxes, ("@a", accountId)).Scalar<long>(), cancellationToken).ConfigureAwait(false);
        if (present == DefaultMailboxes.Length)
        {
            return;
        }

        await database.WriteAsync(w =>
        {
            CreateDefaultMailboxes(w, accountId);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<Mailbox>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Mailbox>>(c => c.CreateCommand($"SELECT {MailboxColumns} FROM mailboxes WHERE account_id = @a ORDER BY name", ("@a", accountId)).Query(MapMailbox), cancellationToken);

    public Task<Mailbox?> GetMailboxAsync(long accountId, string name, CancellationToken cancellationToken) =>
        database.ReadAsync(c => FindMailbox(c, null, accountId, name), cancellationToken);

    public Task<Mailbox?> GetMailboxByIdAsync(long mailboxId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {MailboxColumns} FROM mailboxes WHERE id = @id", ("@id", mailboxId)).QuerySingle(MapMailbox), cancellationToken);

    public Task<StoreResult<Mailbox>> CreateMailboxAsync(long accountId, string name, string? specialUse, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            if (FindMailbox(w.Connection, w.Transaction, accountId, name) is not null)
            {
                return StoreResult<Mailbox>.Fail(StoreStatus.AlreadyExists, "mailbox exists");
            }

            var id = InsertMailbox(w, accountId, NormalizeInbox(name), specialUse);
            return StoreResult<Mailbox>.Ok(w.Command($"SELECT {MailboxColumns} FROM mailboxes WHERE id = @id", ("@id", id)).QuerySingle(MapMailbox)!);
        }, cancellationToken);

    public Task<StoreStatus> DeleteMailboxAsync(long accountId, string name, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var mailbox = FindMailbox(w.Connection, w.Transaction, accountId, name);
            if (mailbox is null)
            {
                return StoreStatus.NotFound;
            }

            if (mailbox.Name == "INBOX")
            {
                return StoreStatus.Invalid;
            }

            var blobs = w.Command("SELECT blob_id FROM messages WHERE mailbox_id = @m", ("@m", mailbox.Id)).Query(r => r.GetInt64(0));
            w.Command("DELETE FROM mailboxes WHERE id = @m", ("@m", mailbox.Id)).Execute();
            BlobCollector.DeleteUnreferenced(w, blobs);
            w.AfterCommit(() => changes.Publish(new MailboxChange(mailbox.Id, MailboxChangeKind.MailboxDeleted, 0, [])));
            return StoreStatus.Ok;
        }, cancellationToken);

    public Task<StoreStatus> RenameMailboxAsync(long accountId, string oldName, string newName, char hierarchyDelimiter, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var mailbox = FindMailbox(w.Connection, w.Transaction, accountId, oldName);
            if (mailbox is null)
            {
                return StoreStatus.NotFound;
            }

            if (FindMailbox(w.Connection, w.Transaction, accountId, newName) is not null)
            {
                return StoreStatus.AlreadyExists;
            }

            if (mailbox.Name == "INBOX")
            {
                // RFC 3501 §6.3.5: renaming INBOX moves its messages to the new name; INBOX stays, empty.
                var target = InsertMailbox(w, accountId, newName, null);
                var modseq = NextModSeq(w, target);
                var uids = w.Command("SELECT uid FROM messages WHERE mailbox_id = @m ORDER BY uid", ("@m", mailbox.Id)).Query(r => r.GetInt64(0));
                foreach (var uid in uids)
                {
                    var newUid = NextUid(w, target);
                    w.Command("UPDATE messages SET mailbox_id = @t, uid = @nu, modseq = @ms WHERE mailbox_id = @m AND uid = @u",
                        ("@t", target), ("@nu", newUid), ("@ms", modseq), ("@m", mailbox.Id), ("@u", uid)).Execute();
                }

                var expungeModSeq = NextModSeq(w, mailbox.Id);
                foreach (var uid in uids)
                {
                    w.Command("INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (@m, @u, @ms) ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq", ("@m", mailbox.Id), ("@u", uid), ("@ms", expungeModSeq)).Execute();
                }

                w.AfterCommit(() => changes.Publish(new MailboxChange(mailbox.Id, MailboxChangeKind.Expunged, expungeModSeq, uids)));
                return StoreStatus.Ok;
            }

            var children = w.Command($"SELECT {MailboxColumns} FROM mailboxes WHERE account_id = @a AND substr(name, 1, @len) = @prefix",
                ("@a", accountId), ("@len", mailbox.Name.Length + 1), ("@prefix", mailbox.Name + hierarchyDelimiter)).Query(MapMailbox);
            // The mailbox keeps its UIDVALIDITY: its UIDs persist (RFC 9051 §2.3.1.1 asks a new value only of a new mailbox
            // created under a used name, which CREATE gives), so clients keep their cache of it.
            w.Command("UPDATE mailboxes SET name = @n WHERE id = @id", ("@n", newName), ("@id", mailbox.Id)).Execute();
            foreach (var child in children)
            {
                var childName = newName + child.Name[mailbox.Name.Length..];
                w.Command("UPDATE mailboxes SET name = @n WHERE id = @id", ("@n", childName), ("@id", child.Id)).Execute();
            }

            // The subscriptions of the mailbox and of everything under it follow it to the new name.
            var subscribed = w.Command("SELECT name FROM subscriptions WHERE account_id = @a", ("@a", accountId)).Query(r => r.GetString(0));
            var prefix = mailbox.Name + hierarchyDelimiter;
            foreach (var name in subscribed.Where(n => n == mailbox.Name || n.StartsWith(prefix, StringComparison.Ordinal)))
            {
                w.Command("DELETE FROM subscriptions WHERE account_id = @a AND name = @n", ("@a", accountId), ("@n", name)).Execute();
                Subscribe(w, accountId, newName + name[mailbox.Name.Length..]);
            }

            return StoreStatus.Ok;
        }, cancellationToken);

    public Task<StoreStatus> SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            if (subscribed)
            {
                Subscribe(w, accountId, NormalizeInbox(name));
            }
            else
            {
                w.Command("DELETE FROM subscriptions WHERE account_id = @a AND name = @n", ("@a", accountId), ("@n", NormalizeInbox(name))).Execute();
            }

            return StoreStatus.Ok;
        }, cancellationToken);

    public Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(c => c.CreateCommand("SELECT name FROM subscriptions WHERE account_id = @a ORDER BY name", ("@a", accountId)).Query(r => r.GetString(0)), cancellationToken);

    public Task<MailboxStatus> GetStatusAsync(long mailboxId, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
        {
            var mailbox = c.CreateCommand($"SELECT {MailboxColumns} FROM mailboxes WHERE id = @id", ("@id", mailboxId)).QuerySingle(MapMailbox)
                ?? throw new InvalidOperationException("no mailbox " + mailboxId);
            return c.CreateCommand(
                "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN flags & 1 = 0 THEN 1 ELSE 0 END), 0) AS BIGINT), CAST(COALESCE(SUM(size), 0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN flags & 8 <> 0 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM messages WHERE mailbox_id = @m",
                ("@m", mailboxId)).QuerySingle(r => new MailboxStatus(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), mailbox.UidNext, mailbox.UidValidity, mailbox.HighestModSeq, r.GetInt64(3)))!;
        }, cancellationToken);

    public Task<StoreResult<AppendResult>> AppendAsync(long mailboxId, ReadOnlyMemory<byte> content, MessageFlags flags, IReadOnlyList<string> keywords, DateTimeOffset internalDate, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            if (w.Command("SELECT COUNT(*) FROM mailboxes WHERE id = @m", ("@m", mailboxId)).Scalar<long>() == 0)
            {
                return StoreResult<AppendResult>.Fail(StoreStatus.NotFound, "no such mailbox");
            }

            var blobId = InsertBlob(w, content);
            var result = InsertMessage(w, mailboxId, blobId, content.Length, CrlfLineEnds.Size(content.Span), internalDate, flags, keywords);
            RegisterKeywords(w, mailboxId, keywords);
            return StoreResult<AppendResult>.Ok(result);
        }, cancellationToken);

    public async Task<long> ClaimRecentAsync(long mailboxId, long throughUid, bool claim, CancellationToken cancellationToken)
    {
        var first = await database.ReadAsync(c => c.CreateCommand("SELECT first_recent_uid FROM mailboxes WHERE id = @m", ("@m", mailboxId)).Scalar<long?>(), cancellationToken)
            .ConfigureAwait(false) ?? long.MaxValue;
        if (!claim || first > throughUid)
        {
            return first;
        }

        // The mark only moves forward, in the single writer, so two sessions never claim the same message. It is not
        // worth an fsync: after a crash a message is at worst recent once more.
        return await database.WriteVolatileAsync(w =>
        {
            var old = w.Command("SELECT first_recent_uid FROM mailboxes WHERE id = @m", ("@m", mailboxId)).Scalar<long?>() ?? long.MaxValue;
            w.Command("UPDATE mailboxes SET first_recent_uid = @u WHERE id = @m AND first_recent_uid < @u", ("@m", mailboxId), ("@u", throughUid + 1)).Execute();
            return old;
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<long> CountRecentAsync(long mailboxId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand(
            "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.mailbox_id = @m AND m.uid >= b.first_recent_uid", ("@m", mailboxId)).Scalar<long>(), cancellationToken);

    public Task<StoreResult<IReadOnlyList<AppendResult>>> AppendAllAsync(long mailboxId, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            if (w.Command("SELECT COUNT(*) FROM mailboxes WHERE id = @m", ("@m", mailboxId)).Scalar<long>() == 0)
            {
                return StoreResult<IReadOnlyList<AppendResult>>.Fail(StoreStatus.NotFound, "no such mailbox");
            }

            // One write, so one savepoint: a failure part-way rolls every message back.
            var results = new List<AppendResult>(messages.Count);
            foreach (var message in messages)
            {
                var blobId = InsertBlob(w, message.Content);
                results.Add(InsertMessage(w, mailboxId, blobId, message.Content.Length, CrlfLineEnds.Size(message.Content.Span), message.InternalDate, message.Flags, message.Keywords));
            }

            RegisterKeywords(w, mailboxId, [.. messages.SelectMany(m => m.Keywords)]);

            return StoreResult<IReadOnlyList<AppendResult>>.Ok(results);
        }, cancellationToken);

    public Task<IReadOnlyList<AppendResult>> AcceptAsync(ReadOnlyMemory<byte> content, IReadOnlyList<long> localMailboxIds, OutboundEnvelope? outbound, DateTimeOffset receivedAt, CancellationToken cancellationToken, ReadOnlyMemory<byte> localTrace = default)
    {
        var queued = outbound is not null && outbound.Recipients.Count > 0;
        var local = content;
        if (!localTrace.IsEmpty && localMailboxIds.Count > 0)
        {
            var traced = new byte[localTrace.Length + content.Length];
            localTrace.CopyTo(traced);
            content.CopyTo(traced.AsMemory(localTrace.Length));
            local = traced;
        }

        return database.WriteAsync<IReadOnlyList<AppendResult>>(w =>
        {
            // One blob for both unless the local copies carry a trace of their own (then the queue keeps the original).
            var localBlobId = InsertBlob(w, local);
            var crlfSize = CrlfLineEnds.Size(local.Span);
            var results = new List<AppendResult>(localMailboxIds.Count);
            foreach (var mailboxId in localMailboxIds)
            {
                results.Add(InsertMessage(w, mailboxId, localBlobId, local.Length, crlfSize, receivedAt, MessageFlags.None, []));
            }

            if (queued)
            {
                var queuedBlobId = local.Length == content.Length ? localBlobId : InsertBlob(w, content);
                SqlQueueStore.Enqueue(w, queuedBlobId, content.Length, outbound!, receivedAt);
            }

            return results;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<MessageRecord>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<MessageRecord>>(c => c.CreateCommand($"SELECT {MessageColumns} FROM messages WHERE mailbox_id = @m ORDER BY uid", ("@m", mailboxId)).Query(MapMessage), cancellationToken);

    public Task<IReadOnlyList<MessageRecord>> ListMessagesChangedSinceAsync(long mailboxId, long modSeq, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<MessageRecord>>(c => c.CreateCommand($"SELECT {MessageColumns} FROM messages WHERE mailbox_id = @m AND modseq > @s ORDER BY uid", ("@m", mailboxId), ("@s", modSeq)).Query(MapMessage), cancellationToken);

    public Task<IReadOnlyList<long>> ListExpungedSinceAsync(long mailboxId, long modSeq, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<long>>(c => c.CreateCommand("SELECT uid FROM expunged WHERE mailbox_id = @m AND modseq > @s ORDER BY uid", ("@m", mailboxId), ("@s", modSeq)).Query(r => r.GetInt64(0)), cancellationToken);

    public Task<byte[]> ReadContentAsync(long blobId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT data FROM blobs WHERE id = @b", ("@b", blobId)).QuerySingle(r => (byte[])r.GetValue(0)) ?? [], cancellationToken);

    public Task<byte[]?> ReadMessageContentAsync(long mailboxId, long uid, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT b.data FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = @m AND m.uid = @u", ("@m", mailboxId), ("@u", uid))
            .QuerySingle(r => (byte[])r.GetValue(0)), cancellationToken);

    // On the embedded store flags are committed without waiting for an fsync, as Dovecot's index log (mail_fsync=optimized)
    // does: a process crash loses nothing, a power failure at most the last second's flag changes (the log is fsynced
    // within a second, and by any durable commit sooner), and the MODSEQs they took are skipped at the next start
    // (StoreOptions.TrackCleanStop). Messages themselves are always durable. PostgreSQL nodes cannot tell that their
    // database lost a commit, so there flags stay durable.
    public Task<StoreFlagsResult> StoreFlagsAsync(long mailboxId, IReadOnlyList<long> uids, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, long? unchangedSince, CancellationToken cancellationToken) =>
        Write(volatileFlagChanges, w =>
        {
            var updated = new List<MessageRecord>();
            var conflicts = new List<long>();
            var missing = new List<long>();
            long modseq = 0;
            foreach (var uid in uids)
            {
                var message = w.Command($"SELECT {MessageColumns} FROM messages WHERE mailbox_id = @m AND uid = @u", ("@m", mailboxId), ("@u", uid)).QuerySingle(MapMessage);
                if (message is null)
                {
                    missing.Add(uid);
                    continue;
                }

                // RFC 7162 §3.1.3: UNCHANGEDSINCE fails for messages modified after the given mod-sequence.
                if (unchangedSince is { } since && message.ModSeq > since)
                {
                    conflicts.Add(uid);
                    continue;
                }

                if (!FlagChange.TryApply(message, operation, flags, keywords, out var newFlags, out var newKeywords))
                {
                    continue;
                }

                if (modseq == 0)
                {
                    modseq = NextModSeq(w, mailboxId);
                }

                w.Command("UPDATE messages SET flags = @f, keywords = @k, modseq = @ms WHERE id = @id",
                    ("@f", (long)newFlags), ("@k", string.Join(' ', newKeywords)), ("@ms", modseq), ("@id", message.Id)).Execute();
                updated.Add(message with { Flags = newFlags, Keywords = newKeywords, ModSeq = modseq });
            }

            if (updated.Count > 0)
            {
                if (operation != FlagOperation.Remove)
                {
                    RegisterKeywords(w, mailboxId, keywords);
                }

                var changed = updated.Select(m => m.Uid).ToList();
                var seq = modseq;
                w.AfterCommit(() => changes.Publish(new MailboxChange(mailboxId, MailboxChangeKind.FlagsChanged, seq, changed)));
            }

            return new StoreFlagsResult(updated, conflicts, missing);
        }, cancellationToken);

    public Task<IReadOnlyList<long>> ExpungeAsync(long mailboxId, IReadOnlyList<long>? uids, bool onlyDeleted, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<long>>(w =>
        {
            var candidates = w.Command($"SELECT {MessageColumns} FROM messages WHERE mailbox_id = @m ORDER BY uid", ("@m", mailboxId)).Query(MapMessage);
            var wanted = uids is null ? null : new HashSet<long>(uids);
            var victims = candidates.Where(m => (wanted is null || wanted.Contains(m.Uid)) && (!onlyDeleted || m.Flags.HasFlag(MessageFlags.Deleted))).ToList();
            if (victims.Count == 0)
            {
                return [];
            }

            var modseq = NextModSeq(w, mailboxId);
            foreach (var victim in victims)
            {
                w.Command("DELETE FROM messages WHERE id = @id", ("@id", victim.Id)).Execute();
                w.Command("INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (@m, @u, @ms) ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq", ("@m", mailboxId), ("@u", victim.Uid), ("@ms", modseq)).Execute();
            }

            BlobCollector.DeleteUnreferenced(w, victims.Select(v => v.BlobId));
            var expunged = victims.Select(v => v.Uid).ToList();
            w.AfterCommit(() => changes.Publish(new MailboxChange(mailboxId, MailboxChangeKind.Expunged, modseq, expunged)));
            return expunged;
        }, cancellationToken);

    public Task<StoreResult<CopyResult>> CopyAsync(long sourceMailboxId, IReadOnlyList<long> uids, long targetMailboxId, bool move, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var target = w.Command($"SELECT {MailboxColumns} FROM mailboxes WHERE id = @id", ("@id", targetMailboxId)).QuerySingle(MapMailbox);
            if (target is null)
            {
                return StoreResult<CopyResult>.Fail(StoreStatus.NotFound, "no such mailbox");
            }

            var wanted = new HashSet<long>(uids);
            var sources = w.Command($"SELECT {MessageColumns} FROM messages WHERE mailbox_id = @m ORDER BY uid", ("@m", sourceMailboxId)).Query(MapMessage)
                .Where(m => wanted.Contains(m.Uid)).ToList();
            var sourceUids = new List<long>(sources.Count);
            var destinationUids = new List<long>(sources.Count);
            foreach (var source in sources)
            {
                // RFC 3501 §6.4.7: flags and internal date are preserved; the copy gets \Recent in the target.
                var appended = InsertMessage(w, targetMailboxId, source.BlobId, source.Size, source.CrlfSize, source.InternalDate, source.Flags, source.Keywords);
                sourceUids.Add(source.Uid);
                destinationUids.Add(appended.Uid);
            }

            RegisterKeywords(w, targetMailboxId, [.. sources.SelectMany(m => m.Keywords)]);

            if (move && sources.Count > 0)
            {
                var modseq = NextModSeq(w, sourceMailboxId);
                foreach (var source in sources)
                {
                    w.Command("DELETE FROM messages WHERE id = @id", ("@id", source.Id)).Execute();
                    w.Command("INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (@m, @u, @ms) ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq", ("@m", sourceMailboxId), ("@u", source.Uid), ("@ms", modseq)).Execute();
                }

                w.AfterCommit(() => changes.Publish(new MailboxChange(sourceMailboxId, MailboxChangeKind.Expunged, modseq, sourceUids)));
            }

            return StoreResult<CopyResult>.Ok(new CopyResult(target.UidValidity, sourceUids, destinationUids));
        }, cancellationToken);

    public Task<IReadOnlyDictionary<long, long>> GetUsageByAccountAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyDictionary<long, long>>(c => c.CreateCommand("SELECT b.account_id, CAST(SUM(m.size) AS BIGINT) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id GROUP BY b.account_id")
            .Query(r => (Account: r.GetInt64(0), Used: r.GetInt64(1))).ToDictionary(u => u.Account, u => u.Used), cancellationToken);

    public Task<long> GetAccountUsageAsync(long accountId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT CAST(COALESCE(SUM(m.size), 0) AS BIGINT) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = @a", ("@a", accountId)).Scalar<long>(), cancellationToken);

    public Task SaveCrlfSizesAsync(long mailboxId, IReadOnlyList<(long Uid, long CrlfSize)> sizes, CancellationToken cancellationToken) =>
        database.WriteVolatileAsync(w =>
        {
            foreach (var (uid, crlfSize) in sizes)
            {
                w.Command("UPDATE messages SET crlf_size = @s WHERE mailbox_id = @m AND uid = @u", ("@s", crlfSize), ("@m", mailboxId), ("@u", uid)).Execute();
            }

            return sizes.Count;
        }, cancellationToken);

    internal static long InsertBlob(WriteContext w, ReadOnlyMemory<byte> content) =>
        w.Command(w.Dialect.InsertBlob, ("@s", content.Length), ("@d", content.ToArray())).Scalar<long>();

    private AppendResult InsertMessage(WriteContext w, long mailboxId, long blobId, long size, long? crlfSize, DateTimeOffset internalDate, MessageFlags flags, IReadOnlyList<string> keywords)
    {
        // UID and MODSEQ are allocated in the same transaction as the row, so they never repeat or skip backwards.
        var allocated = w.Command("UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 WHERE id = @m RETURNING uid_next - 1, highest_modseq, uid_validity", ("@m", mailboxId))
            .QuerySingle(r => new AppendResult(mailboxId, r.GetInt64(2), r.GetInt64(0), r.GetInt64(1)))!;
        // The save date (RFC 8514) is now, also for COPY and MOVE, which keep the internal date.
        w.Command("INSERT INTO messages (mailbox_id, uid, blob_id, size, crlf_size, internal_date, flags, keywords, modseq, saved) VALUES (@m, @u, @b, @s, @cs, @d, @f, @k, @ms, @sv)",
            ("@m", mailboxId), ("@u", allocated.Uid), ("@b", blobId), ("@s", size), ("@cs", crlfSize), ("@d", internalDate.ToUnixTimeMilliseconds()),
            ("@f", (long)flags), ("@k", string.Join(' ', keywords)), ("@ms", allocated.ModSeq), ("@sv", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).Execute();
        w.AfterCommit(() => changes.Publish(new MailboxChange(mailboxId, MailboxChangeKind.Appended, allocated.ModSeq, [allocated.Uid])));
        return allocated;
    }

    private static long NextUid(WriteContext w, long mailboxId) =>
        w.Command("UPDATE mailboxes SET uid_next = uid_next + 1 WHERE id = @m RETURNING uid_next - 1", ("@m", mailboxId)).Scalar<long>();

    private Task<T> Write<T>(bool volatileWrite, Func<WriteContext, T> work, CancellationToken cancellationToken) =>
        volatileWrite ? database.WriteVolatileAsync(work, cancellationToken) : database.WriteAsync(work, cancellationToken);

    private static long NextModSeq(WriteContext w, long mailboxId) =>
        w.Command("UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = @m RETURNING highest_modseq", ("@m", mailboxId)).Scalar<long>();

    /// <summary>UIDVALIDITY values are never reused (RFC 3501 §2.3.1.1): a global counter, seeded from the clock.</summary>
    internal static long NextUidValidity(WriteContext w)
    {
        // CASE, not the two-argument MAX of SQLite (PostgreSQL calls it GREATEST).
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() & 0xFFFFFFFF;
        return w.Command("UPDATE counters SET value = CASE WHEN value + 1 > @now THEN value + 1 ELSE @now END WHERE name = 'uid_validity' RETURNING value", ("@now", now)).Scalar<long>();
    }

    private static long InsertMailbox(WriteContext w, long accountId, string name, string? specialUse) =>
        w.Command("INSERT INTO mailboxes (id, account_id, name, uid_validity, special_use) VALUES (" + w.Dialect.NewId("mailboxes") + ", @a, @n, @v, @su) RETURNING id",
            ("@a", accountId), ("@n", name), ("@v", NextUidValidity(w)), ("@su", specialUse)).Scalar<long>();

    private static void Subscribe(WriteContext w, long accountId, string name) =>
        w.Command("INSERT INTO subscriptions (account_id, name) VALUES (@a, @n) ON CONFLICT DO NOTHING", ("@a", accountId), ("@n", name)).Execute();

    private static string NormalizeInbox(string name) => name.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : name;

    private static Mailbox? FindMailbox(DbConnection connection, DbTransaction? transaction, long accountId, string name)
    {
        // No stored name holds a NUL (the IMAP layer marks undecodable names with one), and PostgreSQL refuses one in text.
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var command = connection.CreateCommand($"SELECT {MailboxColumnsWithKeywords} FROM mailboxes WHERE account_id = @a AND name = @n", ("@a", accountId), ("@n", NormalizeInbox(name)));
        command.Transaction = transaction;
        return command.QuerySingle(MapMailbox);
    }

    private static Mailbox MapMailbox(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetNullableString(6))
        {
            Keywords = r.FieldCount > 7 ? SplitKeywords(r.GetString(7)) : [],
        };

    private static IReadOnlyList<string> SplitKeywords(string keywords) => keywords.Length == 0 ? [] : keywords.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Adds keywords new to the mailbox to its keyword list. The list only grows, except that past
    /// <see cref="KeywordListPruneThreshold"/> entries it is cut back to the keywords messages still carry.
    /// </summary>
    private static void RegisterKeywords(WriteContext w, long mailboxId, IReadOnlyList<string> keywords)
    {
        if (keywords.Count == 0)
        {
            return;
        }

        var known = SplitKeywords(w.Command("SELECT keywords FROM mailboxes WHERE id = @m", ("@m", mailboxId)).QuerySingle(r => r.GetString(0)) ?? "");
        var fresh = keywords.Except(known, StringComparer.OrdinalIgnoreCase).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (fresh.Count == 0)
        {
            return;
        }

        var list = known.Concat(fresh).ToList();
        if (list.Count > KeywordListPruneThreshold)
        {
            var inUse = new HashSet<string>(fresh, StringComparer.OrdinalIgnoreCase);
            foreach (var carried in w.Command("SELECT keywords FROM messages WHERE mailbox_id = @m AND keywords <> ''", ("@m", mailboxId)).Query(r => r.GetString(0)))
            {
                inUse.UnionWith(SplitKeywords(carried));
            }

            list = list.Where(inUse.Contains).ToList();
        }

        w.Command("UPDATE mailboxes SET keywords = @k WHERE id = @m", ("@k", string.Join(' ', list)), ("@m", mailboxId)).Execute();
    }

    private static MessageRecord MapMessage(DbDataReader r)
    {
        var keywords = r.GetString(7);
        return new MessageRecord(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetUnixMilliseconds(5), (MessageFlags)r.GetInt64(6),
            SplitKeywords(keywords), r.GetInt64(8), r.IsDBNull(9) ? null : r.GetUnixMilliseconds(9), r.IsDBNull(10) ? null : r.GetInt64(10));
    }
}
