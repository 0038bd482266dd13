using System.Collections.Frozen;

namespace Postern.Server.Nntp;

/// <summary>The facts besides the command that decide whether it may run.</summary>
/// <param name="Streaming">Whether the virtual server offers STREAMING (RFC 4644): CHECK and TAKETHIS exist only then.</param>
internal readonly record struct NntpSessionFacts(bool Secure, bool Authenticated, bool RequireAuthentication, bool RequireSecureChannel, bool Streaming);

/// <summary>What the state table says about a command.</summary>
internal enum NntpGate
{
    Run = 0,

    /// <summary>500: not a command this server knows (RFC 3977 §3.2.1).</summary>
    Unknown = 1,

    /// <summary>480 or 483 (RFC 4643 §2.3), unless the client is a configured news peer (known by its address).</summary>
    NeedsLogon = 2,

    /// <summary>
    /// 483 (RFC 3977 §3.2.1, RFC 4642): Require secure channel is on and the connection is in clear text, so no news is
    /// read or sent until STARTTLS, as the article's option means for every virtual server.
    /// </summary>
    NeedsTls = 3,
}

/// <summary>Command × session facts → run, unknown, or refused until logon. Pure, so the whole table can be tested.</summary>
internal static class NntpStateTable
{
    // Session commands any client may send at any time: they manage the connection and its security (RFC 3977 §5,
    // RFC 4642, RFC 4643, RFC 8054), and a client must be able to log on before it may read.
    private static readonly FrozenSet<string> s_sessionCommands =
        FrozenSet.Create(StringComparer.Ordinal, "CAPABILITIES", "MODE", "QUIT", "DATE", "HELP", "STARTTLS", "AUTHINFO", "COMPRESS");

    private static readonly FrozenSet<string> s_newsCommands = FrozenSet.Create(StringComparer.Ordinal,
        "GROUP", "LISTGROUP", "LIST", "NEXT", "LAST", "ARTICLE", "HEAD", "BODY", "STAT", "OVER", "XOVER", "HDR", "XHDR", "XPAT",
        "NEWGROUPS", "NEWNEWS", "POST", "IHAVE");

    private static readonly FrozenSet<string> s_streamingCommands = FrozenSet.Create(StringComparer.Ordinal, "CHECK", "TAKETHIS");

    // Commands about one article are short and run on the socket's event thread (EventThread); listings, ranges and
    // group scans move to the pool.
    private static readonly FrozenSet<string> s_oneArticleCommands = FrozenSet.Create(StringComparer.Ordinal,
        "NEXT", "LAST", "ARTICLE", "HEAD", "BODY", "STAT", "POST", "IHAVE", "CHECK", "TAKETHIS");

    // RFC 3977 §3.2.1: a command with more arguments than its syntax allows is a syntax error (501), as INN answers.
    // Not listed: AUTHINFO (a user name or password may hold spaces), XPAT (its pattern may), NEWGROUPS and NEWNEWS
    // (their handlers check), IHAVE, CHECK and TAKETHIS (their handlers check; TAKETHIS must still read its article).
    private static readonly FrozenDictionary<string, int> s_maxArguments = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["CAPABILITIES"] = 1,
        ["MODE"] = 1,
        ["QUIT"] = 0,
        ["DATE"] = 0,
        ["HELP"] = 0,
        ["STARTTLS"] = 0,
        ["COMPRESS"] = 1,
        ["GROUP"] = 1,
        ["LISTGROUP"] = 2,
        ["LIST"] = 2,
        ["NEXT"] = 0,
        ["LAST"] = 0,
        ["ARTICLE"] = 1,
        ["HEAD"] = 1,
        ["BODY"] = 1,
        ["STAT"] = 1,
        ["OVER"] = 1,
        ["XOVER"] = 1,
        ["HDR"] = 2,
        ["XHDR"] = 2,
        ["POST"] = 0,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static NntpGate Check(string keyword, NntpSessionFacts facts)
    {
        if (s_sessionCommands.Contains(keyword))
        {
            return NntpGate.Run;
        }

        if (!s_newsCommands.Contains(keyword) && !(facts.Streaming && s_streamingCommands.Contains(keyword)))
        {
            return NntpGate.Unknown;
        }

        if (facts.RequireSecureChannel && !facts.Secure)
        {
            return NntpGate.NeedsTls;
        }

        return facts.RequireAuthentication && !facts.Authenticated ? NntpGate.NeedsLogon : NntpGate.Run;
    }

    /// <summary>RFC 4643 §2.3: 480 before the client has authenticated; 483 where credentials must wait for STARTTLS.</summary>
    public static string LogonRefusal(NntpSessionFacts facts) =>
        facts.Secure || !facts.RequireSecureChannel ? "480 Authentication required" : "483 Encryption and authentication required";

    /// <summary>True when <paramref name="count"/> arguments are more than the command's syntax allows.</summary>
    public static bool HasTooManyArguments(string keyword, int count) => s_maxArguments.TryGetValue(keyword, out var max) && count > max;

    public static bool RunsOnEventThread(string keyword) => s_sessionCommands.Contains(keyword) || s_oneArticleCommands.Contains(keyword);
}
