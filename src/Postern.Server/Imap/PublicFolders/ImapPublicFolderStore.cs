using System.Data.Common;
using Postern.Server.Nntp;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>
/// One logged-in account's mail store as IMAP sees it: its own mailboxes plus the public folders it may read, in the
/// shared namespace "Public Folders/" (RFC 2342 §5). A public folder's mailbox id is minus its folder id — the key its
/// changes are published under (<see cref="PublicFolderChanges.ChangeKey"/>), so IDLE and NOOP need nothing special.
/// UID = article number, UIDVALIDITY = the folder's. Flags are the account's own (table public_flags); a message
/// without a row there has no flags and mod-sequence 1.
/// </summary>
internal sealed class ImapPublicFolderStore(IPosternStore store, Account account, NewsArticleIntake intake) : IMailStore
{
    /// <summary>The shared namespace prefix; the delimiter is the session's '/', like the folder paths.</summary>
    public const string Prefix = "Public Folders/";

    private IMailStore Inner => store.Mail;

    private IPublicFolderStore Folders => store.PublicFolders;

    public Account Account => account;

    public static bool IsPublic(long mailboxId) => mailboxId < 0;

    public static long FolderIdOf(long mailboxId) => -mailboxId;

    /// <summary>The namespace root itself, or a name inside it.</summary>
    public static bool IsInNamespace(string name) =>
        name.StartsWith(Prefix, StringComparison.Ordinal) || name == Prefix.TrimEnd(ImapSession.Delimiter);

    public static string NameOf(PublicFolder folder) => Prefix + folder.Path;

    public PublicFolderRights RightsOf(PublicFolder folder) => folder.RightsOf(account.Address);

    public async Task<PublicFolder?> GetReadableFolderAsync(long mailboxId, CancellationToken cancellationToken)
    {
        var folder = await Folders.GetFolderByIdAsync(FolderIdOf(mailboxId), cancellationToken).ConfigureAwait(false);
        return folder is not null && RightsOf(folder).HasFlag(PublicFolderRights.Read) ? folder : null;
    }

    private async Task<PublicFolder?> GetReadableFolderAsync(string name, CancellationToken cancellationToken)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || name.Length == Prefix.Length)
        {
            return null;
        }

        var folder = await Folders.GetFolderAsync(name[Prefix.Length..], cancellationToken).ConfigureAwait(false);
        return folder is not null && RightsOf(folder).HasFlag(PublicFolderRights.Read) ? folder : null;
    }

    private async Task<Mailbox> ToMailboxAsync(PublicFolder folder, bool withModSeq, CancellationToken cancellationToken)
    {
        var highest = withModSeq ? await HighestModSeqAsync(folder.Id, cancellationToken).ConfigureAwait(false) : 1;
        return new Mailbox(-folder.Id, account.Id, NameOf(folder), folder.UidValidity, folder.NextNumber, highest, null);
    }

    private Task<long> HighestModSeqAsync(long folderId, CancellationToken cancellationToken) =>
        store.Database.ReadAsync(c => Math.Max(1, c.CreateCommand("SELECT MAX(modseq) FROM public_flags WHERE account_id = @a AND folder_id = @f",
            ("@a", account.Id), ("@f", folderId)).Scalar<long?>() ?? 1), cancellationToken);

    public Task EnsureDefaultMailboxesAsync(long accountId, CancellationToken cancellationToken) => Inner.EnsureDefaultMailboxesAsync(accountId, cancellationToken);

    public async Task<IReadOnlyList<Mailbox>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken)
    {
        var own = await Inner.ListMailboxesAsync(accountId, cancellationToken).ConfigureAwait(false);
        var result = new List<Mailbox>(own);
        foreach (var folder in await Folders.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (RightsOf(folder).HasFlag(PublicFolderRights.Read))
            {
                result.Add(await ToMailboxAsync(folder, withModSeq: false, cancellationToken).ConfigureAwait(false));
            }
        }

        return result;
    }

    public async Task<Mailbox?> GetMailboxAsync(long accountId, string name, CancellationToken cancellationToken)
    {
        if (!IsInNamespace(name))
        {
            return await Inner.GetMailboxAsync(accountId, name, cancellationToken).ConfigureAwait(false);
        }

        var folder = await GetReadableFolderAsync(name, cancellationToken).ConfigureAwait(false);
        return folder is null ? null : await ToMailboxAsync(folder, withModSeq: true, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Mailbox?> GetMailboxByIdAsync(long mailboxId, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.GetMailboxByIdAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        }

        var folder = await GetReadableFolderAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        return folder is null ? null : await ToMailboxAsync(folder, withModSeq: true, cancellationToken).ConfigureAwait(false);
    }

    // Public folders are created, renamed and removed by the administrator (postern public-folder ...), not over IMAP.
    public Task<StoreResult<Mailbox>> CreateMailboxAsync(long accountId, string name, string? specialUse, CancellationToken cancellationToken) =>
        IsInNamespace(name)
            ? Task.FromResult(StoreResult<Mailbox>.Fail(StoreStatus.Invalid, "Public folders are created by the administrator"))
            : Inner.CreateMailboxAsync(accountId, name, specialUse, cancellationToken);

    public Task<StoreStatus> DeleteMailboxAsync(long accountId, string name, CancellationToken cancellationToken) =>
        IsInNamespace(name) ? Task.FromResult(StoreStatus.Invalid) : Inner.DeleteMailboxAsync(accountId, name, cancellationToken);

    public Task<StoreStatus> RenameMailboxAsync(long accountId, string oldName, string newName, char hierarchyDelimiter, CancellationToken cancellationToken) =>
        IsInNamespace(oldName) || IsInNamespace(newName)
            ? Task.FromResult(StoreStatus.Invalid)
            : Inner.RenameMailboxAsync(accountId, oldName, newName, hierarchyDelimiter, cancellationToken);

    // A public folder's subscription is the account's own, kept with its others by name (clients such as Thunderbird show
    // only subscribed folders). Only a folder the account may read can be subscribed; any name can be unsubscribed.
    public async Task<StoreStatus> SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken) =>
        subscribed && IsInNamespace(name) && await GetReadableFolderAsync(name, cancellationToken).ConfigureAwait(false) is null
            ? StoreStatus.NotFound
            : await Inner.SetSubscribedAsync(accountId, name, subscribed, cancellationToken).ConfigureAwait(false);

    public Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken) => Inner.ListSubscriptionsAsync(accountId, cancellationToken);

    public async Task<MailboxStatus> GetStatusAsync(long mailboxId, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.GetStatusAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        }

        var folder = await GetReadableFolderAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            return new MailboxStatus(0, 0, 0, 1, 0, 1, 0);
        }

        var messages = await ListPublicMessagesAsync(folder.Id, cancellationToken).ConfigureAwait(false);
        return new MailboxStatus(
            messages.Count,
            messages.Count(m => !m.Flags.HasFlag(MessageFlags.Seen)),
            messages.Sum(m => m.Size),
            folder.NextNumber,
            folder.UidValidity,
            Math.Max(1, messages.Count == 0 ? 1 : messages.Max(m => m.ModSeq)),
            messages.Count(m => m.Flags.HasFlag(MessageFlags.Deleted)));
    }

    /// <summary>
    /// Files a message as an article (needs the post right; the IMAP APPEND handler checks it first to answer NOPERM).
    /// A message held for moderation has no UID yet: the result is Ok with Uid 0.
    /// </summary>
    public async Task<StoreResult<AppendResult>> AppendAsync(long mailboxId, ReadOnlyMemory<byte> content, MessageFlags flags, IReadOnlyList<string> keywords, DateTimeOffset internalDate, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.AppendAsync(mailboxId, content, flags, keywords, internalDate, cancellationToken).ConfigureAwait(false);
        }

        var folder = await GetReadableFolderAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            return StoreResult<AppendResult>.Fail(StoreStatus.NotFound, "No such public folder");
        }

        if (!RightsOf(folder).HasFlag(PublicFolderRights.Post))
        {
            return StoreResult<AppendResult>.Fail(StoreStatus.Invalid, "Posting to this public folder is not permitted");
        }

        var result = await intake.FileAsync(content, folder, account, cancellationToken).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case IntakeOutcome.Accepted when result.Stored is { } stored:
                var modseq = 1L;
                if (flags != MessageFlags.None || keywords.Count > 0)
                {
                    var set = await StoreFlagsAsync(mailboxId, [stored.Number], FlagOperation.Replace, flags, keywords, null, cancellationToken).ConfigureAwait(false);
                    modseq = set.Updated.Count > 0 ? set.Updated[0].ModSeq : 1;
                }

                return StoreResult<AppendResult>.Ok(new AppendResult(mailboxId, stored.UidValidity, stored.Number, modseq));
            case IntakeOutcome.Pending:
                return StoreResult<AppendResult>.Ok(new AppendResult(mailboxId, folder.UidValidity, 0, 0));
            default:
                return StoreResult<AppendResult>.Fail(StoreStatus.Invalid, result.Reason);
        }
    }

    /// <summary>Why appending this message to the public folder would be refused, or null; stores nothing.</summary>
    public async Task<string?> AppendRefusalAsync(long mailboxId, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        await GetReadableFolderAsync(mailboxId, cancellationToken).ConfigureAwait(false) is { } folder
            ? intake.FilingRefusal(content, folder, account)
            : "No such public folder";

    // \Recent is not tracked for public folders: shared by every reader, "first session to see it" means little there.
    // \Recent in a public folder is the folder's, as in a mailbox (RFC 3501 §2.3.2): the first read-write session of any
    // account told of an article takes it; the mark is the first article number not yet claimed.
    public async Task<long> ClaimRecentAsync(long mailboxId, long throughUid, bool claim, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.ClaimRecentAsync(mailboxId, throughUid, claim, cancellationToken).ConfigureAwait(false);
        }

        var folderId = -mailboxId;
        var first = await store.Database.ReadAsync(c => c.CreateCommand("SELECT first_recent_number FROM public_folders WHERE id = @f", ("@f", folderId)).Scalar<long?>(), cancellationToken)
            .ConfigureAwait(false) ?? long.MaxValue;
        if (!claim || first > throughUid)
        {
            return first;
        }

        // Forward only, in the single writer; not worth an fsync (after a crash an article is at worst recent again).
        return await store.Database.WriteVolatileAsync(w =>
        {
            var old = w.Command("SELECT first_recent_number FROM public_folders WHERE id = @f", ("@f", folderId)).Scalar<long?>() ?? long.MaxValue;
            w.Command("UPDATE public_folders SET first_recent_number = @n WHERE id = @f AND first_recent_number < @n", ("@f", folderId), ("@n", throughUid + 1)).Execute();
            return old;
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<long> CountRecentAsync(long mailboxId, CancellationToken cancellationToken) =>
        IsPublic(mailboxId)
            ? store.Database.ReadAsync(c => c.CreateCommand(
                "SELECT COUNT(*) FROM public_messages m JOIN public_folders f ON f.id = m.folder_id WHERE m.folder_id = @f AND m.number >= f.first_recent_number", ("@f", -mailboxId)).Scalar<long>(), cancellationToken)
            : Inner.CountRecentAsync(mailboxId, cancellationToken);

    // Public folders take APPEND through the article intake (ImapPublicFolders), one article at a time.
    public Task<StoreResult<IReadOnlyList<AppendResult>>> AppendAllAsync(long mailboxId, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken) =>
        IsPublic(mailboxId)
            ? Task.FromResult(StoreResult<IReadOnlyList<AppendResult>>.Fail(StoreStatus.Invalid, "public folders take one article at a time"))
            : Inner.AppendAllAsync(mailboxId, messages, cancellationToken);

    public async Task<IReadOnlyList<MessageRecord>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.ListMessagesAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        }

        var folder = await GetReadableFolderAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        return folder is null ? [] : await ListPublicMessagesAsync(folder.Id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<MessageRecord>> ListMessagesChangedSinceAsync(long mailboxId, long modSeq, CancellationToken cancellationToken) =>
        IsPublic(mailboxId)
            ? [.. (await ListMessagesAsync(mailboxId, cancellationToken).ConfigureAwait(false)).Where(m => m.ModSeq > modSeq)]
            : await Inner.ListMessagesChangedSinceAsync(mailboxId, modSeq, cancellationToken).ConfigureAwait(false);

    // Removed articles leave no record behind: QRESYNC clients of public folders fall back to a full UID comparison.
    public Task<IReadOnlyList<long>> ListExpungedSinceAsync(long mailboxId, long modSeq, CancellationToken cancellationToken) =>
        IsPublic(mailboxId) ? Task.FromResult<IReadOnlyList<long>>([]) : Inner.ListExpungedSinceAsync(mailboxId, modSeq, cancellationToken);

    // Public messages live in the same blobs table.
    public Task<byte[]> ReadContentAsync(long blobId, CancellationToken cancellationToken) => Inner.ReadContentAsync(blobId, cancellationToken);

    // POP3 reads only the account's INBOX; a public folder's sizes are never measured for it.
    public Task SaveCrlfSizesAsync(long mailboxId, IReadOnlyList<(long Uid, long CrlfSize)> sizes, CancellationToken cancellationToken) =>
        IsPublic(mailboxId) ? Task.CompletedTask : Inner.SaveCrlfSizesAsync(mailboxId, sizes, cancellationToken);

    public async Task<byte[]?> ReadMessageContentAsync(long mailboxId, long uid, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.ReadMessageContentAsync(mailboxId, uid, cancellationToken).ConfigureAwait(false);
        }

        var message = (await ListMessagesAsync(mailboxId, cancellationToken).ConfigureAwait(false)).FirstOrDefault(m => m.Uid == uid);
        return message is null ? null : await Inner.ReadContentAsync(message.BlobId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoreFlagsResult> StoreFlagsAsync(long mailboxId, IReadOnlyList<long> uids, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, long? unchangedSince, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.StoreFlagsAsync(mailboxId, uids, operation, flags, keywords, unchangedSince, cancellationToken).ConfigureAwait(false);
        }

        var folder = await GetReadableFolderAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            return new StoreFlagsResult([], [], uids);
        }

        var folderId = folder.Id;
        return await store.Database.WriteAsync(w =>
        {
            var updated = new List<MessageRecord>();
            var conflicts = new List<long>();
            var missing = new List<long>();
            long modseq = 0;
            foreach (var uid in uids)
            {
                var message = w.Command($"{MessageSelect} WHERE m.folder_id = @f AND m.number = @n", ("@a", account.Id), ("@f", folderId), ("@n", uid))
                    .QuerySingle(r => MapMessage(r, mailboxId));
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
                    modseq = 1 + Math.Max(1, w.Command("SELECT MAX(modseq) FROM public_flags WHERE account_id = @a AND folder_id = @f",
                        ("@a", account.Id), ("@f", folderId)).Scalar<long?>() ?? 1);
                }

                w.Command("INSERT INTO public_flags (account_id, folder_id, number, flags, keywords, modseq) VALUES (@a, @f, @n, @fl, @k, @ms) " +
                    "ON CONFLICT (account_id, folder_id, number) DO UPDATE SET flags = excluded.flags, keywords = excluded.keywords, modseq = excluded.modseq",
                    ("@a", account.Id), ("@f", folderId), ("@n", uid), ("@fl", (long)newFlags), ("@k", string.Join(' ', newKeywords)), ("@ms", modseq)).Execute();
                updated.Add(message with { Flags = newFlags, Keywords = newKeywords, ModSeq = modseq });
            }

            if (updated.Count > 0)
            {
                // Other sessions of any account resynchronise; only this account's flags changed, so they report nothing new.
                var changed = updated.Select(m => m.Uid).ToList();
                var seq = modseq;
                w.AfterCommit(() => store.Changes.Publish(new MailboxChange(mailboxId, MailboxChangeKind.FlagsChanged, seq, changed)));
            }

            return new StoreFlagsResult(updated, conflicts, missing);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Only with the moderate right (the IMAP EXPUNGE handler answers NOPERM first); otherwise nothing is removed.</summary>
    public async Task<IReadOnlyList<long>> ExpungeAsync(long mailboxId, IReadOnlyList<long>? uids, bool onlyDeleted, CancellationToken cancellationToken)
    {
        if (!IsPublic(mailboxId))
        {
            return await Inner.ExpungeAsync(mailboxId, uids, onlyDeleted, cancellationToken).ConfigureAwait(false);
        }

        var folder = await GetReadableFolderAsync(mailboxId, cancellationToken).ConfigureAwait(false);
        if (folder is null || !RightsOf(folder).HasFlag(PublicFolderRights.Moderate))
        {
            return [];
        }

        var wanted = uids?.ToHashSet();
        var victims = (await ListPublicMessagesAsync(folder.Id, cancellationToken).ConfigureAwait(false))
            .Where(m => (wanted is null || wanted.Contains(m.Uid)) && (!onlyDeleted || m.Flags.HasFlag(MessageFlags.Deleted)))
            .Select(m => m.Uid).ToList();
        var removed = new List<long>();
        foreach (var number in victims)
        {
            if (await Folders.RemoveMessageAsync(folder.Id, number, cancellationToken).ConfigureAwait(false) == StoreStatus.Ok)
            {
                removed.Add(number);
            }
        }

        return removed;
    }

    /// <summary>
    /// COPY/MOVE involving a public folder: each message is read and filed again (as an article into a public folder, as a
    /// plain APPEND into a private one). Not atomic across messages. Articles held for moderation get no destination UID.
    /// </summary>
    public async Task<StoreResult<CopyResult>> CopyAsync(long sourceMailboxId, IReadOnlyList<long> uids, long targetMailboxId, bool move, CancellationToken cancellationToken)
    {
        if (!IsPublic(sourceMailboxId) && !IsPublic(targetMailboxId))
        {
            return await Inner.CopyAsync(sourceMailboxId, uids, targetMailboxId, move, cancellationToken).ConfigureAwait(false);
        }

        var target = await GetMailboxByIdAsync(targetMailboxId, cancellationToken).ConfigureAwait(false);
        if (target is null)
        {
            return StoreResult<CopyResult>.Fail(StoreStatus.NotFound, "No such mailbox");
        }

        var wanted = uids.ToHashSet();
        var messages = (await ListMessagesAsync(sourceMailboxId, cancellationToken).ConfigureAwait(false)).Where(m => wanted.Contains(m.Uid)).ToList();
        var sources = new List<long>();
        var destinations = new List<long>();
        var moved = new List<long>();
        foreach (var message in messages)
        {
            var content = await ReadContentAsync(message.BlobId, cancellationToken).ConfigureAwait(false);
            var flags = message.Flags & ~MessageFlags.Deleted;
            var appended = await AppendAsync(targetMailboxId, content, flags, message.Keywords, message.InternalDate, cancellationToken).ConfigureAwait(false);
            if (!appended.IsOk)
            {
                return StoreResult<CopyResult>.Fail(appended.Status, appended.Message ?? "Copy failed");
            }

            moved.Add(message.Uid);
            if (appended.Value!.Uid != 0)
            {
                sources.Add(message.Uid);
                destinations.Add(appended.Value.Uid);
            }
        }

        if (move && moved.Count > 0)
        {
            if (IsPublic(sourceMailboxId))
            {
                await ExpungeAsync(sourceMailboxId, moved, onlyDeleted: false, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Inner.ExpungeAsync(sourceMailboxId, moved, onlyDeleted: false, cancellationToken).ConfigureAwait(false);
            }
        }

        return StoreResult<CopyResult>.Ok(new CopyResult(target.UidValidity, sources, destinations));
    }

    public Task<long> GetAccountUsageAsync(long accountId, CancellationToken cancellationToken) => Inner.GetAccountUsageAsync(accountId, cancellationToken);

    public Task<IReadOnlyDictionary<long, long>> GetUsageByAccountAsync(CancellationToken cancellationToken) => Inner.GetUsageByAccountAsync(cancellationToken);

    public Task<IReadOnlyList<AppendResult>> AcceptAsync(ReadOnlyMemory<byte> content, IReadOnlyList<long> localMailboxIds, OutboundEnvelope? outbound, DateTimeOffset receivedAt, CancellationToken cancellationToken, ReadOnlyMemory<byte> localTrace = default) =>
        Inner.AcceptAsync(content, localMailboxIds, outbound, receivedAt, cancellationToken, localTrace);

    private const string MessageSelect =
        "SELECT m.id, m.number, m.blob_id, m.size, m.received, COALESCE(p.flags, 0), COALESCE(p.keywords, ''), COALESCE(p.modseq, 1) " +
        "FROM public_messages m LEFT JOIN public_flags p ON p.account_id = @a AND p.folder_id = m.folder_id AND p.number = m.number";

    private Task<IReadOnlyList<MessageRecord>> ListPublicMessagesAsync(long folderId, CancellationToken cancellationToken) =>
        store.Database.ReadAsync<IReadOnlyList<MessageRecord>>(c =>
            c.CreateCommand($"{MessageSelect} WHERE m.folder_id = @f ORDER BY m.number", ("@a", account.Id), ("@f", folderId)).Query(r => MapMessage(r, -folderId)),
            cancellationToken);

    private static MessageRecord MapMessage(DbDataReader r, long mailboxId)
    {
        var keywords = r.GetString(6);
        return new MessageRecord(
            r.GetInt64(0),
            mailboxId,
            r.GetInt64(1),
            r.GetInt64(2),
            r.GetInt64(3),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
            (MessageFlags)r.GetInt64(5),
            keywords.Length == 0 ? [] : keywords.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            r.GetInt64(7),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));
    }
}
