namespace Postern.Protocols.Imap;

public enum ImapReadStatus
{
    /// <summary>The buffer holds no complete command yet; everything given was consumed.</summary>
    NeedMoreData = 0,

    /// <summary>A whole command was read: see <see cref="ImapReadResult.Command"/>.</summary>
    Command = 1,

    /// <summary>
    /// A synchronizing literal of <see cref="ImapReadResult.LiteralSize"/> octets was announced and accepted:
    /// send a continuation ("+ Ready") and keep reading.
    /// </summary>
    NeedContinuation = 2,

    /// <summary>A raw line (IDLE's DONE, an AUTHENTICATE response): see <see cref="ImapReadResult.Line"/>.</summary>
    Line = 3,

    /// <summary>
    /// A literal over the limit. Synchronizing: the client sends nothing more, reply tagged NO/BAD. Non-synchronizing:
    /// reply tagged BAD; the reader discards the octets that follow (or, with <see cref="ImapReadResult.MustClose"/>, close).
    /// </summary>
    LiteralTooLarge = 4,

    /// <summary>A line longer than <see cref="ImapLimits.MaxLineLength"/>; the rest of it is discarded.</summary>
    LineTooLong = 5,

    /// <summary>The command as a whole is larger than <see cref="ImapLimits.MaxCommandSize"/> or has too many literals.</summary>
    CommandTooLong = 6,

    /// <summary>Parentheses nested deeper than <see cref="ImapLimits.MaxNestingDepth"/>.</summary>
    NestingTooDeep = 7,

    /// <summary>The command does not follow the grammar; <see cref="ImapReadResult.Message"/> says why.</summary>
    SyntaxError = 8,
}

/// <summary>The outcome of one <see cref="ImapCommandReader.TryRead"/> call. Tag and name are filled whenever they could be read.</summary>
public readonly record struct ImapReadResult(
    ImapReadStatus Status,
    string? Tag = null,
    string? CommandName = null,
    ImapCommand? Command = null,
    long LiteralSize = 0,
    bool IsSynchronizing = true,
    bool MustClose = false,
    string? Message = null,
    string? Line = null)
{
    public static ImapReadResult NeedMoreData => new(ImapReadStatus.NeedMoreData);
}
