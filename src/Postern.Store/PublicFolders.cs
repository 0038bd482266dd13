namespace Postern.Store;

/// <summary>What a principal may do in a public folder; persisted as integers, so values never change.</summary>
[Flags]
public enum PublicFolderRights
{
    None = 0,
    Read = 1,
    Post = 2,
    CreateSubfolders = 4,
    Moderate = 8,
    All = Read | Post | CreateSubfolders | Moderate,
}

/// <summary>The two built-in principals of a folder's permission list; any other principal is an account address.</summary>
public static class PublicFolderPrincipals
{
    public const string Anonymous = "anonymous";
    public const string Authenticated = "authenticated";

    /// <summary>Rights a new folder gets: every logged-on user may read and post (the article's "Default").</summary>
    public static readonly IReadOnlyList<PublicFolderPermission> Defaults =
        [new(Authenticated, PublicFolderRights.Read | PublicFolderRights.Post | PublicFolderRights.CreateSubfolders)];

    /// <summary>Parses the CLI/API form: "read,post,create,moderate", "all" or "none" (case-insensitive).</summary>
    public static bool TryParseRights(string text, out PublicFolderRights rights)
    {
        rights = PublicFolderRights.None;
        foreach (var word in text.Split([',', ' ', '+'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (word.ToLowerInvariant())
            {
                case "read": rights |= PublicFolderRights.Read; break;
                case "post": rights |= PublicFolderRights.Post; break;
                case "create" or "create-subfolders": rights |= PublicFolderRights.CreateSubfolders; break;
                case "moderate": rights |= PublicFolderRights.Moderate; break;
                case "all": rights |= PublicFolderRights.All; break;
                case "none": break;
                default: return false;
            }
        }

        return true;
    }

    public static string FormatRights(PublicFolderRights rights)
    {
        if (rights == PublicFolderRights.None)
        {
            return "none";
        }

        var words = new List<string>(4);
        if (rights.HasFlag(PublicFolderRights.Read))
        {
            words.Add("read");
        }

        if (rights.HasFlag(PublicFolderRights.Post))
        {
            words.Add("post");
        }

        if (rights.HasFlag(PublicFolderRights.CreateSubfolders))
        {
            words.Add("create");
        }

        if (rights.HasFlag(PublicFolderRights.Moderate))
        {
            words.Add("moderate");
        }

        return string.Join(',', words);
    }

    /// <summary>
    /// A session's rights: anonymous rights for everyone; a logged-on account gets its own entry if it has one,
    /// otherwise the "authenticated" entry.
    /// </summary>
    public static PublicFolderRights Effective(IReadOnlyList<PublicFolderPermission> permissions, string? account)
    {
        var rights = PublicFolderRights.None;
        PublicFolderRights? own = null;
        PublicFolderRights authenticated = PublicFolderRights.None;
        foreach (var p in permissions)
        {
            if (p.Principal.Equals(Anonymous, StringComparison.OrdinalIgnoreCase))
            {
                rights |= p.Rights;
            }
            else if (p.Principal.Equals(Authenticated, StringComparison.OrdinalIgnoreCase))
            {
                authenticated = p.Rights;
            }
            else if (account is not null && p.Principal.Equals(account, StringComparison.OrdinalIgnoreCase))
            {
                own = p.Rights;
            }
        }

        return account is null ? rights : rights | (own ?? authenticated);
    }
}

/// <summary>
/// Public folder changes are published on <see cref="IPosternStore.Changes"/> under a negative key, so they never
/// collide with mailbox ids: subscribe with <see cref="ChangeKey"/> (IMAP IDLE on a public folder).
/// </summary>
public static class PublicFolderChanges
{
    public static long ChangeKey(long folderId) => -folderId;
}

public sealed record PublicFolderPermission(string Principal, PublicFolderRights Rights);

/// <summary>A public folder; Path uses '/' as the hierarchy delimiter ("Example/General").</summary>
public sealed record PublicFolder(
    long Id,
    string Path,
    string? Newsgroup,
    string? Description,
    bool Moderated,
    string? Moderator,
    long UidValidity,
    long NextNumber,
    DateTimeOffset Created,
    IReadOnlyList<PublicFolderPermission> Permissions,
    int? AgeLimitDays = null)
{
    public PublicFolderRights RightsOf(string? account) => PublicFolderPrincipals.Effective(Permissions, account);
}

public static class PublicFolderAgeLimit
{
    /// <summary>A hundred years: a longer age limit is a typo, not a limit.</summary>
    public const int MaxDays = 36_500;

    /// <summary>Messages removed per write: a large expiry must not hold the single writer (and every delivery) for long.</summary>
    public const int MaxPerPass = 1000;
}

/// <summary>Article count and the low and high water marks (RFC 3977 §6.1.1: empty group has high = low - 1).</summary>
public sealed record PublicFolderSummary(long FolderId, long Count, long Low, long High);

/// <summary>One message of a public folder; Number is the article number and the IMAP UID.</summary>
public sealed record PublicMessage(
    long Id,
    long FolderId,
    long Number,
    long BlobId,
    long Size,
    long Lines,
    string? MessageId,
    DateTimeOffset Received,
    byte[] Headers);

public enum NewsHistoryState
{
    Accepted = 0,
    Rejected = 1,
    Expired = 2,
    Pending = 3,

    /// <summary>Withdrawn by a cancel or a Supersedes: never accepted again (RFC 5537 §5.3).</summary>
    Cancelled = 4,
}

/// <summary>
/// Withdraws an article (RFC 5537 §5.3 cancel, or a Supersedes header). With a control article, its Message-ID is
/// recorded and the control article goes to the push peers, so they withdraw it too.
/// </summary>
/// <summary>
/// A cancel of <paramref name="TargetMessageId"/>; with a control article (its Message-ID, content and Newsgroups) the
/// article is recorded, served to pull peers and queued for push peers.
/// </summary>
public sealed record ArticleCancel(string TargetMessageId, DateTimeOffset Received, string? ControlMessageId = null, ReadOnlyMemory<byte> ControlContent = default,
    bool QueueForPeers = true, IReadOnlyList<string>? ControlNewsgroups = null);

/// <summary>An article a NEWNEWS lists; <paramref name="Id"/> and <paramref name="Received"/> order the pages.</summary>
public sealed record ReceivedArticle(long Id, long FolderId, string MessageId, DateTimeOffset Received);

/// <summary>Message <paramref name="Number"/> of a folder is also <paramref name="OtherNumber"/> in <paramref name="OtherFolderId"/>.</summary>
public sealed record CrossPostCopy(long Number, long OtherFolderId, long OtherNumber);

/// <summary>A cancel control article carried out here, kept for pull peers (NEWNEWS, ARTICLE by Message-ID).</summary>
public sealed record ControlArticle(string MessageId, long BlobId, IReadOnlyList<string> Newsgroups, DateTimeOffset Received);

public enum CancelOutcome
{
    /// <summary>Every stored copy is gone (none may have been here: the Message-ID is then refused from now on).</summary>
    Done = 0,

    /// <summary>The control article's Message-ID is in the history: this cancel was processed before.</summary>
    Duplicate = 1,
}

public sealed record CancelResult(CancelOutcome Outcome, int Removed);

public sealed record NewsHistoryEntry(string MessageId, NewsHistoryState State, DateTimeOffset Recorded);

/// <summary>A new article for one or more folders (a cross-post stores one blob, one row per folder).</summary>
public sealed record NewArticle(
    ReadOnlyMemory<byte> Content,
    string? MessageId,
    IReadOnlyList<long> FolderIds,
    DateTimeOffset Received,
    bool HoldForModeration = false,
    string? Submitter = null,
    bool QueueForPeers = true);

public enum ArticleOutcome
{
    Stored = 0,

    /// <summary>Held in the moderation queue.</summary>
    Pending = 1,

    /// <summary>The Message-ID is already in the history.</summary>
    Duplicate = 2,

    /// <summary>None of the folders exists.</summary>
    NoFolder = 3,
}

public sealed record StoredArticle(long FolderId, long UidValidity, long Number);

public sealed record ArticleResult(ArticleOutcome Outcome, IReadOnlyList<StoredArticle> Stored, long? PendingId = null);

public sealed record PendingArticle(long Id, string MessageId, IReadOnlyList<long> FolderIds, long BlobId, long Size, DateTimeOffset Received, string? Submitter);

public enum NewsPeerTls
{
    StartTls = 0,
    Implicit = 1,

    /// <summary>Clear text, for peers that cannot do TLS on their feed port (INN's innd has none). Never the default; logged as a warning.</summary>
    None = 2,
}

[Flags]
public enum NewsFeedDirection
{
    Push = 1,
    Pull = 2,
    Both = Push | Pull,
}

/// <summary>A newsfeed partner. Name is its Path identity (loop prevention); Groups a wildmat (RFC 3977 §4).</summary>
public sealed record NewsPeer
{
    public long Id { get; init; }

    public required string Name { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; } = 563;

    public NewsPeerTls Tls { get; init; } = NewsPeerTls.Implicit;

    /// <summary>Verify the peer's certificate chain and name against the trusted roots.</summary>
    public bool Verify { get; init; } = true;

    public string? UserName { get; init; }

    /// <summary>Stored as given: it must be replayed to the peer (AUTHINFO PASS).</summary>
    public string? Password { get; init; }

    public string Groups { get; init; } = "*";

    public NewsFeedDirection Direction { get; init; } = NewsFeedDirection.Both;

    public DateTimeOffset? LastPull { get; init; }

    public bool Enabled { get; init; } = true;
}

public sealed record NewsFeedEntry(long Id, long PeerId, string MessageId, long BlobId, DateTimeOffset NextAttempt, int Attempts, string? LastError);

/// <summary>Public folders, their messages and newsgroup view, the news history, moderation and newsfeed peers.</summary>
public interface IPublicFolderStore
{
    // Folders

    /// <summary>Adds a folder (and any missing parents, without newsgroup); path segments are separated by '/'.</summary>
    Task<StoreResult<PublicFolder>> AddFolderAsync(string path, string? newsgroup, string? description, CancellationToken cancellationToken);

    Task<IReadOnlyList<PublicFolder>> ListFoldersAsync(CancellationToken cancellationToken);

    Task<PublicFolder?> GetFolderAsync(string path, CancellationToken cancellationToken);

    Task<PublicFolder?> GetFolderByIdAsync(long folderId, CancellationToken cancellationToken);

    Task<PublicFolder?> FindNewsgroupAsync(string newsgroup, CancellationToken cancellationToken);

    /// <summary>Sets (or with <see cref="PublicFolderRights.None"/> removes) one principal's entry.</summary>
    Task<StoreStatus> SetPermissionAsync(long folderId, string principal, PublicFolderRights rights, CancellationToken cancellationToken);

    Task<StoreStatus> SetModerationAsync(long folderId, bool moderated, string? moderator, CancellationToken cancellationToken);

    /// <summary>Enables (name) or disables (null) the folder's newsgroup view.</summary>
    Task<StoreStatus> SetNewsgroupAsync(long folderId, string? newsgroup, CancellationToken cancellationToken);

    Task<StoreStatus> SetDescriptionAsync(long folderId, string? description, CancellationToken cancellationToken);

    /// <summary>Removes a folder, its subfolders and their messages.</summary>
    Task<StoreStatus> RemoveFolderAsync(string path, CancellationToken cancellationToken);

    // Messages

    Task<PublicFolderSummary> GetSummaryAsync(long folderId, CancellationToken cancellationToken);

    /// <summary>Messages numbered low..high inclusive, by number.</summary>
    Task<IReadOnlyList<PublicMessage>> ListMessagesAsync(long folderId, long low, long high, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="limit"/> messages numbered low..high, from the low end (or the high end).</summary>
    Task<IReadOnlyList<PublicMessage>> ListMessagesPageAsync(long folderId, long low, long high, int limit, bool fromHighEnd, CancellationToken cancellationToken);

    /// <summary>For the messages numbered low..high that were cross-posted: their copies in other folders (the Xref data).</summary>
    Task<IReadOnlyList<CrossPostCopy>> ListCrossPostCopiesAsync(long folderId, long low, long high, CancellationToken cancellationToken);

    Task<PublicMessage?> GetMessageAsync(long folderId, long number, CancellationToken cancellationToken);

    /// <summary>Every folder copy of an article (cross-posts have several).</summary>
    Task<IReadOnlyList<PublicMessage>> FindByMessageIdAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> articles received at or after <paramref name="since"/> (NEWNEWS), oldest first,
    /// after the one <paramref name="after"/> names (null: from the start); Message-ID and folder only.
    /// </summary>
    Task<IReadOnlyList<ReceivedArticle>> ListReceivedSinceAsync(DateTimeOffset since, ReceivedArticle? after, int limit, CancellationToken cancellationToken);

    Task<byte[]> ReadContentAsync(long blobId, CancellationToken cancellationToken);

    /// <summary>Appends one message to one folder (IMAP APPEND to a public folder); no history check without a Message-ID.</summary>
    Task<StoreResult<StoredArticle>> AppendAsync(long folderId, ReadOnlyMemory<byte> content, string? messageId, DateTimeOffset received, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an article: history check, one blob, a numbered row per folder, history entry and an outgoing
    /// feed entry per push peer, all in one transaction (or held for moderation).
    /// </summary>
    Task<ArticleResult> PostArticleAsync(NewArticle article, CancellationToken cancellationToken);

    Task<StoreStatus> RemoveMessageAsync(long folderId, long number, CancellationToken cancellationToken);

    /// <summary>
    /// Removes every copy of an article in one transaction and keeps its Message-ID in the history as cancelled; the
    /// caller has checked that the canceller may do it.
    /// </summary>
    Task<CancelResult> CancelArticleAsync(ArticleCancel cancel, CancellationToken cancellationToken);

    /// <summary>
    /// Removes messages received before <paramref name="receivedBefore"/> from one newsgroup-enabled folder (or all of them);
    /// their Message-IDs stay in the history as expired, so peers cannot feed them back. Returns how many were removed.
    /// </summary>
    Task<int> ExpireAsync(long? folderId, DateTimeOffset receivedBefore, CancellationToken cancellationToken);

    /// <summary>Sets a folder's age limit in days (null: none); more than 100 years is refused.</summary>
    Task<StoreStatus> SetAgeLimitAsync(long folderId, int? days, CancellationToken cancellationToken);

    /// <summary>Removes messages older than their folder's age limit, at most <see cref="PublicFolderAgeLimit.MaxPerPass"/> a call; returns how many went (call again until 0).</summary>
    Task<int> ExpireByAgeLimitAsync(DateTimeOffset now, CancellationToken cancellationToken);

    // History

    Task<NewsHistoryEntry?> GetHistoryAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>Records a refused Message-ID so the same article offered again is refused at once (IHAVE 435, CHECK 438).</summary>
    Task RememberRejectedAsync(string messageId, DateTimeOffset when, CancellationToken cancellationToken);

    /// <summary>Forgets rejected and expired Message-IDs, and the control articles kept, recorded before <paramref name="before"/>.</summary>
    Task<int> PurgeHistoryAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>Control articles received at or after <paramref name="since"/>, oldest first.</summary>
    Task<IReadOnlyList<ControlArticle>> ListControlArticlesSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);

    Task<ControlArticle?> FindControlArticleAsync(string messageId, CancellationToken cancellationToken);

    // Moderation

    Task<IReadOnlyList<PendingArticle>> ListPendingAsync(long? folderId, CancellationToken cancellationToken);

    Task<ArticleResult?> ApprovePendingAsync(long pendingId, CancellationToken cancellationToken);

    Task<bool> RejectPendingAsync(long pendingId, CancellationToken cancellationToken);

    // Peers and the outgoing feed

    Task<StoreResult<NewsPeer>> AddPeerAsync(NewsPeer peer, CancellationToken cancellationToken);

    Task<IReadOnlyList<NewsPeer>> ListPeersAsync(CancellationToken cancellationToken);

    Task<bool> RemovePeerAsync(string name, CancellationToken cancellationToken);

    Task SetLastPullAsync(long peerId, DateTimeOffset when, CancellationToken cancellationToken);

    Task<IReadOnlyList<NewsFeedEntry>> ListDueFeedAsync(long peerId, DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="max"/> due entries of a peer for one push: their next attempt moves to
    /// <paramref name="leaseUntil"/>, so no other node sharing the store offers them meanwhile (and they are due again
    /// then if this node dies mid-push). Each is then completed or retried later.
    /// </summary>
    Task<IReadOnlyList<NewsFeedEntry>> ClaimDueFeedAsync(long peerId, DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken);

    /// <summary>The peer has the article (or refused it for good): drop the entry.</summary>
    Task CompleteFeedAsync(IReadOnlyList<long> entryIds, CancellationToken cancellationToken);

    Task RetryFeedLaterAsync(long entryId, DateTimeOffset nextAttempt, string? error, CancellationToken cancellationToken);

    /// <summary>
    /// Puts claimed entries back, due at <paramref name="nextAttempt"/>, without counting an attempt: the peer could not
    /// be reached, which says nothing about the articles.
    /// </summary>
    Task PostponeFeedAsync(IReadOnlyList<long> entryIds, DateTimeOffset nextAttempt, string? error, CancellationToken cancellationToken);

    Task<int> CountFeedAsync(long? peerId, CancellationToken cancellationToken);
}
