namespace Postern.Store;

public sealed record Account(long Id, string Address, string? DisplayName, bool Enabled, long QuotaBytes, DateTimeOffset Created);

/// <summary>An address that delivers to another (an account, or another alias).</summary>
public sealed record MailAlias(string Alias, string Target);

public sealed record Domain(long Id, string Name);

/// <summary>IMAP system flags; persisted as integers, so values never change.</summary>
[Flags]
public enum MessageFlags
{
    None = 0,
    Seen = 1,
    Answered = 2,
    Flagged = 4,
    Deleted = 8,
    Draft = 16,
}

public enum FlagOperation
{
    Replace = 0,
    Add = 1,
    Remove = 2,
}

public sealed record Mailbox(
    long Id,
    long AccountId,
    string Name,
    long UidValidity,
    long UidNext,
    long HighestModSeq,
    string? SpecialUse)
{
    /// <summary>Every keyword ever set on a message of the mailbox, whether or not a message still carries it.</summary>
    public IReadOnlyList<string> Keywords { get; init; } = [];
}

/// <param name="SaveDate">When the message was saved into this mailbox (RFC 8514), if known.</param>
/// <param name="CrlfSize">The size once every line ends in CRLF (<see cref="CrlfLineEnds.Size"/>); null for messages stored before it was kept.</param>
public sealed record MessageRecord(
    long Id,
    long MailboxId,
    long Uid,
    long BlobId,
    long Size,
    DateTimeOffset InternalDate,
    MessageFlags Flags,
    IReadOnlyList<string> Keywords,
    long ModSeq,
    DateTimeOffset? SaveDate = null,
    long? CrlfSize = null);

public sealed record MailboxStatus(long Messages, long Unseen, long Size, long UidNext, long UidValidity, long HighestModSeq, long Deleted);

public sealed record AppendResult(long MailboxId, long UidValidity, long Uid, long ModSeq);

/// <summary>One message of an APPEND (several with MULTIAPPEND).</summary>
public sealed record NewMessage(ReadOnlyMemory<byte> Content, MessageFlags Flags, IReadOnlyList<string> Keywords, DateTimeOffset InternalDate);

public sealed record CopyResult(long UidValidity, IReadOnlyList<long> SourceUids, IReadOnlyList<long> DestinationUids);

/// <summary>What a STORE did: the messages it changed, those UNCHANGEDSINCE kept, and those no longer there (expunged).</summary>
public sealed record StoreFlagsResult(IReadOnlyList<MessageRecord> Updated, IReadOnlyList<long> Conflicts, IReadOnlyList<long> Missing);

public enum StoreStatus
{
    Ok = 0,
    NotFound = 1,
    AlreadyExists = 2,
    Invalid = 3,
    OverQuota = 4,
}

public readonly record struct StoreResult<T>(StoreStatus Status, T? Value, string? Message = null)
{
    public bool IsOk => Status == StoreStatus.Ok;

    public static StoreResult<T> Ok(T value) => new(StoreStatus.Ok, value);

    public static StoreResult<T> Fail(StoreStatus status, string message) => new(status, default, message);
}

/// <summary>What a mailbox watcher (IMAP IDLE/NOOP, POP3) is told after a commit.</summary>
public enum MailboxChangeKind
{
    Appended = 0,
    FlagsChanged = 1,
    Expunged = 2,
    MailboxDeleted = 3,
}

public sealed record MailboxChange(long MailboxId, MailboxChangeKind Kind, long ModSeq, IReadOnlyList<long> Uids);

/// <summary>An outbound message waiting in the durable queue.</summary>
public sealed record QueuedMessage(
    long Id,
    string Sender,
    long BlobId,
    long Size,
    DateTimeOffset Created,
    DateTimeOffset NextAttempt,
    int Attempts,
    string? LastError,
    string? EnvelopeId,
    string? Ret,
    IReadOnlyList<QueuedRecipient> Recipients);

public enum RecipientState
{
    Pending = 0,
    Delivered = 1,
    Failed = 2,
}

public sealed record QueuedRecipient(long Id, string Address, RecipientState State, string? Notify, string? OriginalRecipient, string? LastError);

public sealed record OutboundEnvelope(string Sender, IReadOnlyList<OutboundRecipient> Recipients, string? EnvelopeId = null, string? Ret = null);

public sealed record OutboundRecipient(string Address, string? Notify = null, string? OriginalRecipient = null);

/// <summary>The one rule for STORE +FLAGS/-FLAGS/FLAGS, shared by every mailbox kind.</summary>
public static class FlagChange
{
    /// <summary>The message's flags after the operation, and whether anything changed.</summary>
    public static bool TryApply(MessageRecord message, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, out MessageFlags newFlags, out List<string> newKeywords)
    {
        newFlags = operation switch
        {
            FlagOperation.Add => message.Flags | flags,
            FlagOperation.Remove => message.Flags & ~flags,
            _ => flags,
        };
        newKeywords = operation switch
        {
            FlagOperation.Add => message.Keywords.Union(keywords, StringComparer.OrdinalIgnoreCase).ToList(),
            FlagOperation.Remove => message.Keywords.Except(keywords, StringComparer.OrdinalIgnoreCase).ToList(),
            _ => keywords.Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
        };
        return newFlags != message.Flags || newKeywords.Count != message.Keywords.Count || newKeywords.Except(message.Keywords, StringComparer.OrdinalIgnoreCase).Any();
    }
}
