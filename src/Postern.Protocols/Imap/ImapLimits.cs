namespace Postern.Protocols.Imap;

/// <summary>Which non-synchronizing literal extension the server advertises (RFC 7888).</summary>
public enum ImapLiteralExtension
{
    /// <summary>Neither advertised; a client that sends <c>{n+}</c> anyway is served within the limits so the stream stays in sync.</summary>
    None = 0,
    LiteralPlus = 1,
    LiteralMinus = 2,
}

/// <summary>
/// The grammar's limits. Every one is configurable; the defaults follow RFC 7162 §4 (lines of at least 8192 octets)
/// and leave room for MULTIAPPEND of ordinary messages.
/// </summary>
public sealed record ImapLimits
{
    /// <summary>RFC 7888 §4: a LITERAL- server accepts non-synchronizing literals of at most 4096 octets.</summary>
    public const long LiteralMinusMaximum = 4096;

    /// <summary>Longest line (between literals), CRLF excluded.</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;

    /// <summary>Largest literal in any command other than APPEND (LOGIN, SEARCH, …).</summary>
    public long MaxLiteralSize { get; init; } = 64 * 1024;

    /// <summary>Largest message literal in APPEND.</summary>
    public long MaxAppendLiteralSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>All lines and literals of one command together.</summary>
    public long MaxCommandSize { get; init; } = 80L * 1024 * 1024;

    /// <summary>How many literals one command may carry (MULTIAPPEND, long SEARCH).</summary>
    public int MaxLiteralCount { get; init; } = 1024;

    /// <summary>Deepest nesting of parenthesised lists (SEARCH sub-expressions, BODYSTRUCTURE-like input).</summary>
    public int MaxNestingDepth { get; init; } = 32;

    /// <summary>
    /// A refused non-synchronizing literal is still on its way; up to this size it is read and thrown away so the
    /// connection stays in sync, beyond it the connection must close (RFC 7888 §4).
    /// </summary>
    public long MaxDiscardedLiteralSize { get; init; } = 80L * 1024 * 1024;

    public ImapLiteralExtension NonSynchronizingLiterals { get; init; } = ImapLiteralExtension.LiteralPlus;

    public static ImapLimits Default { get; } = new();
}
