using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Utils;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

internal enum IntakeOutcome
{
    Accepted = 0,

    /// <summary>Held for a moderator.</summary>
    Pending = 1,

    /// <summary>The Message-ID is in the history already.</summary>
    Duplicate = 2,

    /// <summary>Refused for good (bad headers, unwanted groups).</summary>
    Rejected = 3,

    /// <summary>Could not be stored now; the sender should try again later.</summary>
    Failed = 4,
}

/// <summary>Stored: the first folder copy (IMAP APPENDUID/COPYUID), when the article was stored at once.</summary>
internal sealed record IntakeResult(IntakeOutcome Outcome, string? MessageId, string Reason, StoredArticle? Stored = null);

/// <summary>
/// Files articles into public folders: POST as an injecting agent (RFC 5537 §3.5) and IHAVE/TAKETHIS/pull
/// as a relaying agent (§3.6), with the Message-ID history so no article is stored twice.
/// </summary>
/// <param name="futureDateAllowance">How far past now an article's Date may be (INN: 24 hours); null for that default.</param>
internal sealed class NewsArticleIntake(IPosternStore store, string pathIdentity, TimeProvider time, ILogger? logger = null, TimeSpan? futureDateAllowance = null)
{
    public const int MaxNewsgroups = 100;

    /// <summary>INN refuses an article dated more than a day ahead of its clock.</summary>
    public static readonly TimeSpan DefaultFutureDateAllowance = TimeSpan.FromHours(24);

    private const string FutureDateRefusal = "Article posted in the future";

    private const string CancelRefusal = "Cancel not permitted";

    private readonly TimeSpan _futureDateAllowance = futureDateAllowance ?? DefaultFutureDateAllowance;

    private static readonly string[] s_requiredForPost = ["From", "Subject", "Newsgroups"];

    // RFC 5536 §3.1: the mandatory header fields of an article on the wire.
    private static readonly string[] s_requiredForTransit = ["Date", "From", "Message-ID", "Newsgroups", "Path", "Subject"];

    // RFC 5322 §3.5 (text excludes %d0) and RFC 5536 §2: an article holds no NUL; INN refuses one too. Stored, it could
    // not be relayed to a peer or returned over IMAP as it was.
    private const string NulRefusal = "Article contains NUL octets";

    public string PathIdentity => pathIdentity;

    private static bool HasNul(ReadOnlyMemory<byte> content) => content.Span.Contains((byte)0);

    /// <summary>
    /// RFC 5322 §2.1.1 (which RFC 5536 §2.1 takes over): a line MUST be no more than 998 octets. A reader's header line
    /// past that (a long header must be folded) is refused; the body and articles from peers are taken as they come.
    /// </summary>
    private static bool HasOverlongHeaderLine(ReadOnlySpan<byte> content)
    {
        while (!content.IsEmpty)
        {
            var lf = content.IndexOf((byte)'\n');
            var line = lf < 0 ? content : content[..lf];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                return false;
            }

            if (line.Length > 998)
            {
                return true;
            }

            content = lf < 0 ? [] : content[(lf + 1)..];
        }

        return false;
    }

    /// <param name="postingHost">The client's address, for Injection-Info (RFC 5536 §3.2.8), when known.</param>
    public async Task<IntakeResult> PostAsync(byte[] content, Account? account, CancellationToken cancellationToken, string? postingHost = null)
    {
        await EventThread.ToThreadPoolIf(content.Length > EventThread.InlineMessageBytes);
        if (HasNul(content))
        {
            return Reject(null, NulRefusal);
        }

        if (HasOverlongHeaderLine(content))
        {
            return Reject(null, "Header line longer than 998 octets (fold it)");
        }

        var article = NewsArticle.TryParse(content);
        if (article is null)
        {
            return Reject(null, "Article has no header");
        }

        if (article.HeaderProblem() is { } malformed)
        {
            return Reject(null, malformed);
        }

        foreach (var field in s_requiredForPost)
        {
            if (string.IsNullOrWhiteSpace(article.Get(field)))
            {
                return Reject(null, $"Missing required header: {field}");
            }
        }

        if (!InternetAddressList.TryParse(article.Get("From")!, out var from) || !from.Mailboxes.Any())
        {
            return Reject(null, "Invalid From header");
        }

        if (!TryParseNewsgroups(article.Get("Newsgroups")!, out var names))
        {
            return Reject(null, "Invalid Newsgroups header");
        }

        var now = time.GetUtcNow();
        var (messageId, problem) = PrepareForInjection(article, now, postingHost);
        if (problem is not null)
        {
            return Reject(messageId, problem);
        }

        if (IsDatedInTheFuture(article, now))
        {
            return Reject(messageId, FutureDateRefusal);
        }

        if (article.Get("Control") is { } control)
        {
            return await ControlAsync(article, messageId, control, account, peerGroups: null, now, cancellationToken).ConfigureAwait(false);
        }

        if (article.Body.Span.IndexOfAnyExcept((byte)'\r', (byte)'\n') < 0)
        {
            // As INN's nnrpd refuses it: headers alone are most likely a client's mistake, not an article.
            return Reject(messageId, "Article has no body -- just headers");
        }

        var (targets, refusal) = await ResolveGroupsAsync(names, account, peerGroups: null, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return Reject(messageId, refusal);
        }

        var approved = article.Get("Approved") is not null;
        var hold = targets.Any(f => f.Moderated && !(approved && f.RightsOf(account?.Address).HasFlag(PublicFolderRights.Moderate)));
        var result = await StoreAsync(article.ToBytes(), messageId, targets, hold, account?.Address, rememberRejected: false, now, cancellationToken).ConfigureAwait(false);
        await SupersedeAsync(article, result, account, peerGroups: null, now, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>RFC 5537 §3.5 leaves it to the agent; INN refuses an article dated more than the allowance ahead of its clock.</summary>
    private bool IsDatedInTheFuture(NewsArticle article, DateTimeOffset now) =>
        article.Get("Date") is { } date && DateUtils.TryParse(date, out var dated) && dated > now + _futureDateAllowance;

    /// <summary>
    /// A message filed into one public folder over IMAP (APPEND, COPY, MOVE): injected like a POST (Message-ID, Date,
    /// Injection-Date, Path added; history; feed; moderation) but into this folder only, whatever its Newsgroups says.
    /// The caller has checked the post right.
    /// </summary>
    public async Task<IntakeResult> FileAsync(ReadOnlyMemory<byte> content, PublicFolder folder, Account account, CancellationToken cancellationToken)
    {
        var (article, messageId, rejection) = PrepareFiling(content, folder, account);
        return rejection ?? await StoreFilingAsync(content, article!, messageId, folder, account, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Why <see cref="FileAsync"/> would refuse this message, or null; stores nothing (MULTIAPPEND checks every message first).</summary>
    public string? FilingRefusal(ReadOnlyMemory<byte> content, PublicFolder folder, Account account) => PrepareFiling(content, folder, account).Rejection?.Reason;

    private (NewsArticle? Article, string MessageId, IntakeResult? Rejection) PrepareFiling(ReadOnlyMemory<byte> content, PublicFolder folder, Account account)
    {
        if (HasNul(content))
        {
            return (null, "", Reject(null, NulRefusal));
        }

        var article = NewsArticle.TryParse(content);
        if (article is null)
        {
            return (null, "", Reject(null, "Message has no header"));
        }

        // RFC 5536 §3.1: From, Subject and Newsgroups are mandatory in an article; a mail client's draft may lack them.
        if (string.IsNullOrWhiteSpace(article.Get("From")))
        {
            article.Headers.Add("From", account.Address);
        }

        if (string.IsNullOrWhiteSpace(article.Get("Subject")))
        {
            article.Headers.Add("Subject", "(no subject)");
        }

        if (folder.Newsgroup is not null && string.IsNullOrWhiteSpace(article.Get("Newsgroups")))
        {
            article.Headers.Add("Newsgroups", folder.Newsgroup);
        }

        var (messageId, problem) = PrepareForInjection(article, time.GetUtcNow(), postingHost: null);
        return problem is not null ? (article, messageId, Reject(messageId, problem)) : (article, messageId, null);
    }

    private async Task<IntakeResult> StoreFilingAsync(ReadOnlyMemory<byte> content, NewsArticle article, string messageId, PublicFolder folder, Account account, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var approved = article.Get("Approved") is not null;
        var hold = folder.Moderated && !(approved && folder.RightsOf(account.Address).HasFlag(PublicFolderRights.Moderate));
        var bytes = article.ToBytes();
        var result = await StoreAsync(bytes, messageId, [folder], hold, account.Address, rememberRejected: false, now, cancellationToken).ConfigureAwait(false);
        if (result.Outcome != IntakeOutcome.Duplicate || hold)
        {
            return result;
        }

        // The article exists already (copied from another public folder, or appended twice): file a local copy,
        // without a history entry or a feed entry, so peers are not offered it again.
        var copy = await store.PublicFolders.AppendAsync(folder.Id, CrlfLineEnds.ToArray(content.Span), messageId: null, now, cancellationToken).ConfigureAwait(false);
        return copy.IsOk
            ? new IntakeResult(IntakeOutcome.Accepted, messageId, "Copy filed", copy.Value)
            : new IntakeResult(IntakeOutcome.Failed, messageId, copy.Message ?? "Cannot store the message now");
    }

    /// <summary>RFC 5537 §3.5: what an injecting agent adds; returns the Message-ID and a refusal reason (or null).</summary>
    private (string MessageId, string? Problem) PrepareForInjection(NewsArticle article, DateTimeOffset now, string? postingHost)
    {
        var messageId = article.Get("Message-ID");
        if (messageId is null)
        {
            messageId = $"<{Guid.NewGuid():N}@{pathIdentity}>";
            article.Headers.Add("Message-ID", messageId);
        }
        else if (!Protocols.Nntp.NntpSyntax.IsArticleMessageId(messageId))
        {
            return (messageId, "Invalid Message-ID header");
        }

        var date = article.Get("Date");
        if (date is null)
        {
            article.Headers.Add("Date", DateUtils.FormatDate(now));
        }
        else if (!DateUtils.TryParse(date, out _))
        {
            return (messageId, "Invalid Date header");
        }

        // RFC 5537 §3.5: the injecting agent adds Injection-Date and its Path identity (with "not-for-mail" as the tail entry).
        article.Headers.RemoveAll("Injection-Date");
        article.Headers.Add("Injection-Date", DateUtils.FormatDate(now));

        // RFC 5536 §3.2.8 / RFC 5537 §3.5: the injecting agent's own Injection-Info, never one the poster wrote. Like INN,
        // it names the posting host (the address) but not the account.
        article.Headers.RemoveAll("Injection-Info");
        article.Headers.Add("Injection-Info", postingHost is null ? pathIdentity : $"{pathIdentity}; posting-host=\"{postingHost}\"");
        var path = article.Get("Path");
        article.Headers.Remove("Path");
        article.Headers.Insert(0, new Header("Path", string.IsNullOrEmpty(path) ? pathIdentity + "!not-for-mail" : pathIdentity + "!" + path));
        article.Headers.RemoveAll("Xref");
        return (messageId, null);
    }

    /// <summary>An article offered by a peer (IHAVE, TAKETHIS) or pulled from one, or fed by a logged-on account.</summary>
    /// <param name="peerGroups">
    /// When a configured peer sends it: the groups wildmats of the peers it may be (an article is filed only into the
    /// groups they match). Null for an account that is not a peer: its rights decide, as for POST.
    /// </param>
    public async Task<IntakeResult> TransitAsync(byte[] content, string? expectedMessageId, Account? account, IReadOnlyList<string>? peerGroups, CancellationToken cancellationToken)
    {
        await EventThread.ToThreadPoolIf(content.Length > EventThread.InlineMessageBytes);

        // A refusal goes into the history (435/438 from then on) only when it is about the article itself and a
        // configured peer sent it, as INN does. A reader's refusal is not remembered: else anyone logged on could block a
        // Message-ID for the history's lifetime by offering a throwaway article under it before the genuine one comes.
        var fromPeer = peerGroups is not null;
        async Task<IntakeResult> RefuseAsync(string? id, string reason) =>
            fromPeer ? await RejectAndRememberAsync(id, reason, cancellationToken).ConfigureAwait(false) : Reject(id, reason);

        var article = NewsArticle.TryParse(content);
        var messageId = article?.Get("Message-ID") ?? expectedMessageId;
        if (article is null)
        {
            return await RefuseAsync(expectedMessageId, "Article has no header").ConfigureAwait(false);
        }

        if (HasNul(content))
        {
            return await RefuseAsync(messageId, NulRefusal).ConfigureAwait(false);
        }

        if (article.HeaderProblem() is { } malformed)
        {
            return await RefuseAsync(expectedMessageId, malformed).ConfigureAwait(false);
        }

        foreach (var field in s_requiredForTransit)
        {
            if (string.IsNullOrWhiteSpace(article.Get(field)))
            {
                return await RefuseAsync(expectedMessageId, $"Missing required header: {field}").ConfigureAwait(false);
            }
        }

        if (!Protocols.Nntp.NntpSyntax.IsMessageId(messageId) || (expectedMessageId is not null && messageId != expectedMessageId))
        {
            // Refused, but not remembered: the article sent is not the one offered, so remembering the offered
            // Message-ID would turn the genuine article away (435/438) when another peer offers it.
            return Reject(expectedMessageId, "Message-ID header does not match");
        }

        if (await store.PublicFolders.GetHistoryAsync(messageId!, cancellationToken).ConfigureAwait(false) is not null)
        {
            return new IntakeResult(IntakeOutcome.Duplicate, messageId, "Duplicate");
        }

        if (!TryParseNewsgroups(article.Get("Newsgroups")!, out var names))
        {
            return await RefuseAsync(messageId, "Invalid Newsgroups header").ConfigureAwait(false);
        }

        var now = time.GetUtcNow();
        if (IsDatedInTheFuture(article, now))
        {
            // Not remembered: the same article is fine once its Date has come (or the sender's clock is put right).
            return Reject(messageId, FutureDateRefusal);
        }

        // This server's entry in the Path of what it relays (RFC 5537 §3.2.1), control articles included.
        var relayedPath = article.Get("Path")!;
        article.Headers.Remove("Path");
        article.Headers.Insert(0, new Header("Path", pathIdentity + "!" + relayedPath));

        // The sending server's Xref names its own numbers; OVER and HDR compute this server's (RFC 5536 §3.2.14).
        article.Headers.RemoveAll("Xref");

        if (article.Get("Control") is { } control)
        {
            if (fromPeer && !names.Any(name => Carries(peerGroups!, name)))
            {
                return await RefuseAsync(messageId, "Unwanted newsgroup").ConfigureAwait(false);
            }

            var outcome = await ControlAsync(article, messageId!, control, account, peerGroups, now, cancellationToken).ConfigureAwait(false);
            return outcome.Outcome == IntakeOutcome.Rejected && outcome.Reason != CancelRefusal ? await RefuseAsync(messageId, outcome.Reason).ConfigureAwait(false) : outcome;
        }

        var (targets, refusal) = await ResolveGroupsAsync(names, account, peerGroups, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return await RefuseAsync(messageId, refusal).ConfigureAwait(false);
        }

        // RFC 5537 §3.6: a relayed article for a moderated group must carry Approved.
        if (article.Get("Approved") is null && targets.Any(f => f.Moderated))
        {
            return await RefuseAsync(messageId, "Unapproved article in a moderated group").ConfigureAwait(false);
        }

        // From a logged-on account rather than a peer, Approved counts only if that account may moderate, as for POST
        // (RFC 5537 §3.5): otherwise any reader could publish past the moderator.
        if (!fromPeer && targets.Any(f => f.Moderated && !f.RightsOf(account?.Address).HasFlag(PublicFolderRights.Moderate)))
        {
            return Reject(messageId, "Approved by an account that may not moderate this group");
        }

        var result = await StoreAsync(article.ToBytes(), messageId!, targets, hold: false, account?.Address, rememberRejected: fromPeer, now, cancellationToken).ConfigureAwait(false);
        await SupersedeAsync(article, result, account, peerGroups, now, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Whether one of a peer's groups wildmats (RFC 3977 §4) takes <paramref name="newsgroup"/>.</summary>
    private static bool Carries(IReadOnlyList<string> peerGroups, string newsgroup) => peerGroups.Any(groups => Protocols.Nntp.Wildmat.Matches(groups, newsgroup));

    /// <summary>
    /// A control article (RFC 5537 §5). Only cancel is carried out: group creation and removal are the administrator's
    /// (public folders), so newgroup, rmgroup and checkgroups are refused. A cancel is not filed in any group; it is
    /// recorded and passed on to the push peers.
    /// </summary>
    private async Task<IntakeResult> ControlAsync(NewsArticle article, string messageId, string control, Account? account, IReadOnlyList<string>? peerGroups, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var words = control.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || !words[0].Equals("cancel", StringComparison.OrdinalIgnoreCase))
        {
            return Reject(messageId, "Unsupported control message");
        }

        if (words.Length != 2 || !Protocols.Nntp.NntpSyntax.IsMessageId(words[1]))
        {
            return Reject(messageId, "Invalid Control header");
        }

        var target = words[1];
        if (!await MayCancelAsync(target, account, peerGroups, cancellationToken).ConfigureAwait(false))
        {
            return Reject(messageId, CancelRefusal);
        }

        var result = await store.PublicFolders.CancelArticleAsync(new ArticleCancel(target, now, messageId, article.ToBytes(),
            ControlNewsgroups: (article.Get("Newsgroups") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), cancellationToken).ConfigureAwait(false);
        return result.Outcome == CancelOutcome.Duplicate
            ? new IntakeResult(IntakeOutcome.Duplicate, messageId, "Duplicate Message-ID")
            : new IntakeResult(IntakeOutcome.Accepted, messageId, "Article received OK (cancel)");
    }

    /// <summary>Supersedes (RFC 5536 §3.2.12): once the new article is stored, the one it names is cancelled, if the poster may.</summary>
    private async Task SupersedeAsync(NewsArticle article, IntakeResult stored, Account? account, IReadOnlyList<string>? peerGroups, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (stored.Outcome != IntakeOutcome.Accepted || article.Get("Supersedes") is not { } target
            || !Protocols.Nntp.NntpSyntax.IsMessageId(target) || target == stored.MessageId)
        {
            return;
        }

        if (await MayCancelAsync(target, account, peerGroups, cancellationToken).ConfigureAwait(false))
        {
            await store.PublicFolders.CancelArticleAsync(new ArticleCancel(target, now), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Who may withdraw an article stored here (the checks INN's verifycancels stands for): its author, signed in under
    /// the article's From address, or a moderator of every folder that holds it. Nobody may cancel anonymously. A
    /// configured peer's cancel is carried out as INN does by default, but only for an article filed in groups the peer
    /// feeds (or not here yet): a peer for some groups cannot withdraw articles from the others.
    /// </summary>
    private async Task<bool> MayCancelAsync(string target, Account? account, IReadOnlyList<string>? peerGroups, CancellationToken cancellationToken)
    {
        if (account is null && peerGroups is null)
        {
            return false;
        }

        var copies = await store.PublicFolders.FindByMessageIdAsync(target, cancellationToken).ConfigureAwait(false);
        if (peerGroups is not null)
        {
            foreach (var copy in copies)
            {
                var folder = await store.PublicFolders.GetFolderByIdAsync(copy.FolderId, cancellationToken).ConfigureAwait(false);
                if (folder?.Newsgroup is not { } newsgroup || !Carries(peerGroups, newsgroup))
                {
                    return false;
                }
            }

            return true;
        }

        if (copies.Count == 0 || account is null)
        {
            return false;
        }

        foreach (var copy in copies)
        {
            var folder = await store.PublicFolders.GetFolderByIdAsync(copy.FolderId, cancellationToken).ConfigureAwait(false);
            if (folder is not null && folder.RightsOf(account.Address).HasFlag(PublicFolderRights.Moderate))
            {
                continue;
            }

            var from = NewsArticle.RawValue(NewsArticle.ParseHeaders(copy.Headers), "From");
            var isAuthor = from is not null && InternetAddressList.TryParse(from, out var addresses)
                && addresses.Mailboxes.Any(m => m.Address.Equals(account.Address, StringComparison.OrdinalIgnoreCase));
            if (!isAuthor)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="peerName"/> is one of the Path entries (the article has been there).</summary>
    public static bool PathContains(string? path, string peerName) =>
        path is not null && path.Split('!', StringSplitOptions.TrimEntries).Any(e => e.Equals(peerName, StringComparison.OrdinalIgnoreCase));

    internal static bool TryParseNewsgroups(string value, out List<string> names)
    {
        names = [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.OrdinalIgnoreCase)];
        return names.Count is > 0 and <= MaxNewsgroups && names.All(PublicFolderNames.IsValidNewsgroup);
    }

    /// <summary>
    /// The folders an article is filed into, or why it is refused. From a peer: the existing groups its wildmats take
    /// (INN's incoming.conf patterns; none: 437 Unwanted newsgroup). From an account: every existing group it names, and
    /// the whole article is refused if the account may not post to one of them, as INN's nnrpd does: dropping that group
    /// would still leave it in Newsgroups, and the peers fed the article would file it there.
    /// </summary>
    private async Task<(List<PublicFolder> Targets, string? Refusal)> ResolveGroupsAsync(List<string> names, Account? account, IReadOnlyList<string>? peerGroups, CancellationToken cancellationToken)
    {
        var targets = new List<PublicFolder>();
        var anyExists = false;
        foreach (var name in names)
        {
            var folder = await store.PublicFolders.FindNewsgroupAsync(name, cancellationToken).ConfigureAwait(false);
            if (folder is null)
            {
                continue;
            }

            anyExists = true;
            if (peerGroups is not null)
            {
                if (Carries(peerGroups, name))
                {
                    targets.Add(folder);
                }
            }
            else if (folder.RightsOf(account?.Address).HasFlag(PublicFolderRights.Post))
            {
                targets.Add(folder);
            }
            else
            {
                return ([], $"You are not allowed to post to {name}");
            }
        }

        return targets.Count > 0 ? (targets, null) : ([], !anyExists ? "No such newsgroup" : "Unwanted newsgroup");
    }

    private async Task<IntakeResult> StoreAsync(byte[] content, string messageId, List<PublicFolder> targets, bool hold, string? submitter, bool rememberRejected, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArticleResult result;
        try
        {
            result = await store.PublicFolders.PostArticleAsync(new NewArticle(content, messageId, [.. targets.Select(f => f.Id)], now, hold, submitter), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The poster or peer is told to try again later (441/436); the administrator learns why here.
            logger?.StoreFailed(ex, messageId);
            return new IntakeResult(IntakeOutcome.Failed, messageId, StorageFull.Is(ex) ? "Not enough disk space; try again later" : "Cannot store the article now");
        }

        return result.Outcome switch
        {
            ArticleOutcome.Stored => new IntakeResult(IntakeOutcome.Accepted, messageId, "Article received OK", result.Stored.Count > 0 ? result.Stored[0] : null),
            ArticleOutcome.Pending => new IntakeResult(IntakeOutcome.Pending, messageId, "Article received OK, waiting for the moderator"),
            ArticleOutcome.Duplicate => new IntakeResult(IntakeOutcome.Duplicate, messageId, "Duplicate Message-ID"),
            _ => rememberRejected
                ? await RejectAndRememberAsync(messageId, "No such newsgroup", cancellationToken).ConfigureAwait(false)
                : Reject(messageId, "No such newsgroup"),
        };
    }

    private static IntakeResult Reject(string? messageId, string reason) => new(IntakeOutcome.Rejected, messageId, reason);

    private async Task<IntakeResult> RejectAndRememberAsync(string? messageId, string reason, CancellationToken cancellationToken)
    {
        if (Protocols.Nntp.NntpSyntax.IsMessageId(messageId))
        {
            await store.PublicFolders.RememberRejectedAsync(messageId!, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        return Reject(messageId, reason);
    }
}
