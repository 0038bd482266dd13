namespace Postern.Store;

/// <summary>The whole store, one per process; engines: SQLite (embedded default) and, later, PostgreSQL.</summary>
public interface IPosternStore : IAsyncDisposable
{
    IDirectoryStore Directory { get; }

    IMailStore Mail { get; }

    IConfigurationStore Configuration { get; }

    IQueueStore Queue { get; }

    IChangeFeed Changes { get; }

    /// <summary>Organization-owned public folders, their newsgroup view and newsfeed peers.</summary>
    IPublicFolderStore PublicFolders { get; }

    /// <summary>Low-level access for modules (PKI, public folders) that keep their own tables in the same database.</summary>
    IDatabase Database { get; }

    StoreOptions Options { get; }

    /// <summary>The store was opened with <see cref="StoreOptions.TrackCleanStop"/> after a stop that was not clean.</summary>
    bool RecoveredFromUncleanStop { get; }
}

public interface IDirectoryStore
{
    Task<Domain> AddDomainAsync(string name, CancellationToken cancellationToken);

    Task<bool> RemoveDomainAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Domain>> ListDomainsAsync(CancellationToken cancellationToken);

    Task<bool> IsLocalDomainAsync(string name, CancellationToken cancellationToken);

    Task<StoreResult<Account>> AddAccountAsync(string address, string password, CancellationToken cancellationToken);

    Task<bool> SetPasswordAsync(string address, string password, CancellationToken cancellationToken);

    Task<bool> RemoveAccountAsync(string address, CancellationToken cancellationToken);

    Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken);

    Task<Account?> FindAccountAsync(string address, CancellationToken cancellationToken);

    Task<Account?> FindAccountByIdAsync(long id, CancellationToken cancellationToken);

    /// <summary>Verifies a password in constant time; null for unknown user, disabled user or wrong password alike.</summary>
    Task<Account?> AuthenticateAsync(string address, string password, CancellationToken cancellationToken);

    /// <summary>Resolves an address (alias or account, case-insensitive local part) to the account that receives it.</summary>
    Task<Account?> ResolveRecipientAsync(string address, CancellationToken cancellationToken);

    Task AddAliasAsync(string alias, string target, CancellationToken cancellationToken);

    Task<IReadOnlyList<MailAlias>> ListAliasesAsync(CancellationToken cancellationToken);

    Task<bool> RemoveAliasAsync(string alias, CancellationToken cancellationToken);

    /// <summary>Sets the account's storage limit in octets (0: none); false for an unknown account.</summary>
    Task<bool> SetQuotaAsync(string address, long quotaBytes, CancellationToken cancellationToken);

    /// <summary>A disabled account cannot log on and receives no mail; its mail is kept.</summary>
    Task<bool> SetEnabledAsync(string address, bool enabled, CancellationToken cancellationToken);
}

public interface IMailStore
{
    Task EnsureDefaultMailboxesAsync(long accountId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Mailbox>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken);

    /// <summary>INBOX is matched case-insensitively (RFC 3501 §5.1); other names exactly. The one lookup that fills <see cref="Mailbox.Keywords"/>.</summary>
    Task<Mailbox?> GetMailboxAsync(long accountId, string name, CancellationToken cancellationToken);

    Task<Mailbox?> GetMailboxByIdAsync(long mailboxId, CancellationToken cancellationToken);

    Task<StoreResult<Mailbox>> CreateMailboxAsync(long accountId, string name, string? specialUse, CancellationToken cancellationToken);

    Task<StoreStatus> DeleteMailboxAsync(long accountId, string name, CancellationToken cancellationToken);

    /// <summary>
    /// Renames a mailbox and its children, and moves their subscriptions with them; renaming INBOX moves its messages to
    /// a new mailbox (RFC 3501 §6.3.5) and leaves subscriptions alone.
    /// </summary>
    Task<StoreStatus> RenameMailboxAsync(long accountId, string oldName, string newName, char hierarchyDelimiter, CancellationToken cancellationToken);

    /// <summary>
    /// Adds a name to the account's subscription list, or removes it (RFC 3501 §6.3.6-7). The list holds names, not
    /// mailboxes: a name need not exist to be subscribed, and deleting a mailbox leaves its subscription. Both directions
    /// are idempotent.
    /// </summary>
    Task<StoreStatus> SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken);

    /// <summary>The subscribed names, existing or not, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken);

    Task<MailboxStatus> GetStatusAsync(long mailboxId, CancellationToken cancellationToken);

    Task<StoreResult<AppendResult>> AppendAsync(long mailboxId, ReadOnlyMemory<byte> content, MessageFlags flags, IReadOnlyList<string> keywords, DateTimeOffset internalDate, CancellationToken cancellationToken);

    /// <summary>Appends every message or none, in one transaction (RFC 3502 §6: MULTIAPPEND is atomic).</summary>
    Task<StoreResult<IReadOnlyList<AppendResult>>> AppendAllAsync(long mailboxId, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken);

    Task<IReadOnlyList<MessageRecord>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken);

    /// <summary>
    /// RFC 3501 §2.3.2 \Recent: the first UID not yet announced to any read-write session. With <paramref name="claim"/>,
    /// the caller becomes that session for every message up to <paramref name="throughUid"/>: the mark moves past them
    /// and the old mark is returned (messages from it through throughUid are recent for the caller alone).
    /// </summary>
    Task<long> ClaimRecentAsync(long mailboxId, long throughUid, bool claim, CancellationToken cancellationToken);

    /// <summary>How many messages no read-write session has been told of yet (STATUS RECENT).</summary>
    Task<long> CountRecentAsync(long mailboxId, CancellationToken cancellationToken);

    Task<IReadOnlyList<MessageRecord>> ListMessagesChangedSinceAsync(long mailboxId, long modSeq, CancellationToken cancellationToken);

    Task<IReadOnlyList<long>> ListExpungedSinceAsync(long mailboxId, long modSeq, CancellationToken cancellationToken);

    Task<byte[]> ReadContentAsync(long blobId, CancellationToken cancellationToken);

    /// <summary>A message's content read together with the check that it is still in its mailbox; null once it is expunged.</summary>
    Task<byte[]?> ReadMessageContentAsync(long mailboxId, long uid, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps the CRLF sizes (<see cref="MessageRecord.CrlfSize"/>) measured for messages stored before the store kept
    /// them. A cache: lost in a crash, they are measured again.
    /// </summary>
    Task SaveCrlfSizesAsync(long mailboxId, IReadOnlyList<(long Uid, long CrlfSize)> sizes, CancellationToken cancellationToken);

    Task<StoreFlagsResult> StoreFlagsAsync(long mailboxId, IReadOnlyList<long> uids, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, long? unchangedSince, CancellationToken cancellationToken);

    /// <summary>Removes messages. With onlyDeleted, only those flagged \Deleted (IMAP EXPUNGE); without, exactly the given UIDs (POP3 UPDATE).</summary>
    Task<IReadOnlyList<long>> ExpungeAsync(long mailboxId, IReadOnlyList<long>? uids, bool onlyDeleted, CancellationToken cancellationToken);

    Task<StoreResult<CopyResult>> CopyAsync(long sourceMailboxId, IReadOnlyList<long> uids, long targetMailboxId, bool move, CancellationToken cancellationToken);

    Task<long> GetAccountUsageAsync(long accountId, CancellationToken cancellationToken);

    /// <summary>Octets stored per account, in one pass; accounts with no mail are absent.</summary>
    Task<IReadOnlyDictionary<long, long>> GetUsageByAccountAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Accepts a message durably: local deliveries and the outbound queue entry commit together (or not at all) before
    /// this returns. <paramref name="localTrace"/> goes in front of the local copies only: the Return-Path field of
    /// final delivery (RFC 5321 §4.4), which a message passed on to another server must not carry.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AcceptAsync(ReadOnlyMemory<byte> content, IReadOnlyList<long> localMailboxIds, OutboundEnvelope? outbound, DateTimeOffset receivedAt, CancellationToken cancellationToken, ReadOnlyMemory<byte> localTrace = default);
}

public interface IQueueStore
{
    Task<IReadOnlyList<QueuedMessage>> ListAsync(CancellationToken cancellationToken);

    Task<QueuedMessage?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>Messages whose next attempt is due, oldest first.</summary>
    /// <summary>
    /// Takes up to <paramref name="max"/> due messages for one delivery attempt each: their next attempt moves to
    /// <paramref name="leaseUntil"/>, so that no other node sharing the store (nor a later pass of this one) attempts
    /// them meanwhile; a node that dies mid-delivery leaves them due again then. Each is then recorded as attempted.
    /// </summary>
    Task<IReadOnlyList<QueuedMessage>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken);

    Task RecordAttemptAsync(long id, IReadOnlyList<(long RecipientId, RecipientState State, string? Error)> outcomes, DateTimeOffset nextAttempt, string? lastError, CancellationToken cancellationToken);

    /// <summary>Makes a message due now (postern queue retry).</summary>
    Task<bool> RetryNowAsync(long id, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(long id, CancellationToken cancellationToken);
}

public interface IChangeFeed
{
    IDisposable Subscribe(long mailboxId, Action<MailboxChange> onChange);

    void Publish(MailboxChange change);
}
