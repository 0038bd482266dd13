using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Postern.Protocols.Nntp;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

public sealed record NewsFeedOptions
{
    /// <summary>How often the outgoing queue is looked at.</summary>
    public TimeSpan PushInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often pull peers are asked for NEWNEWS.</summary>
    public TimeSpan PullInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>First retry delay after a failed attempt; doubled per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(1);

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public int BatchSize { get; init; } = 200;

    /// <summary>A pass sends a peer at most this many batches over its connection, then serves the other peers and comes back.</summary>
    public int MaxBatchesPerPass { get; init; } = 25;

    /// <summary>Streaming: the CHECKs (and then TAKETHISes) in flight at once.</summary>
    public int StreamWindow { get; init; } = 64;

    /// <summary>Streaming: the most article octets one window holds in memory (at least one article).</summary>
    public long StreamWindowBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>
    /// How long a push holds the entries it took: no other node sharing the store offers them meanwhile; a node that
    /// died mid-push leaves them due again after it. Longer than a push of a whole batch.
    /// </summary>
    public TimeSpan PushLease { get; init; } = TimeSpan.FromMinutes(15);

    public long MaxArticleSize { get; init; } = 10L * 1024 * 1024;

    /// <summary>Roots trusted for peers' certificates besides the system store (e.g. Postern's own CA).</summary>
    public IReadOnlyList<X509Certificate2> TrustedRoots { get; init; } = [];

    /// <summary>More trusted roots, read at every pass (e.g. the PKI's imported roots, which change at run time).</summary>
    public Func<CancellationToken, Task<IReadOnlyList<X509Certificate2>>>? TrustedRootsProvider { get; init; }

    /// <summary>Our Path identity (RFC 5537 §3.2); the host name when null.</summary>
    public string? PathIdentity { get; init; }

    /// <summary>How long rejected and expired Message-IDs are remembered.</summary>
    public TimeSpan HistoryRetention { get; init; } = TimeSpan.FromDays(14);
}

/// <summary>
/// The newsfeed background loop: pushes the durable outgoing queue to each push peer (streaming CHECK/TAKETHIS
/// when offered, IHAVE otherwise) and pulls from pull peers (NEWNEWS + ARTICLE), with Path-based loop prevention
/// and retries with back-off while a peer is down.
/// </summary>
public sealed class NewsFeedService : IAsyncDisposable
{
    private readonly ServerContext _context;
    private readonly NewsFeedOptions _options;
    private readonly ILogger _logger;
    private readonly NewsArticleIntake _intake;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, 1);

    // Set when the last pass found no peer: waking the loop for each accepted article (a database read per article)
    // would then be wasted. The pass every PushInterval still finds a peer added on another node sharing the store.
    private volatile bool _noPeers;
    private readonly Dictionary<long, DateTimeOffset> _peerRetryAt = [];
    private readonly Dictionary<long, int> _peerFailures = [];
    private readonly HashSet<long> _clearTextWarned = [];
    private IReadOnlyList<X509Certificate2> _trustedRoots = [];
    private Task? _loop;

    private NewsPeer WithPassword(NewsPeer peer) => peer with { Password = NewsPeerSecrets.Reveal(_context.Store.Options.DataDirectory, peer.Password) };

    public NewsFeedService(ServerContext context, NewsFeedOptions? options = null)
    {
        _context = context;
        _options = options ?? new NewsFeedOptions();
        _logger = context.LoggerFactory.CreateLogger<NewsFeedService>();
        _intake = new NewsArticleIntake(context.Store, _options.PathIdentity ?? context.HostName, context.Time, _logger);
    }

    public void Start() => _loop ??= Task.Run(LoopAsync);

    /// <summary>Whether the last pass found no peer (for tests).</summary>
    internal bool FoundNoPeers => _noPeers;

    /// <summary>Wakes the feed for an article just accepted, unless the last pass found no peer to send it to.</summary>
    public void Nudge()
    {
        if (!_noPeers)
        {
            Wake();
        }
    }

    /// <summary>A peer was added or changed here: the next pass runs now, whatever the last one found.</summary>
    public void PeersChanged()
    {
        _noPeers = false;
        Wake();
    }

    /// <summary>Wakes the loop now; a wake-up already pending is enough.</summary>
    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    /// <summary>One pass over every peer: push what is due, pull when the interval has passed.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = _context.Time.GetUtcNow();
        var peers = await _context.Store.PublicFolders.ListPeersAsync(cancellationToken).ConfigureAwait(false);
        _noPeers = peers.Count == 0;
        if (peers.Count == 0)
        {
            return;
        }

        _trustedRoots = _options.TrustedRootsProvider is null
            ? _options.TrustedRoots
            : [.. _options.TrustedRoots, .. await _options.TrustedRootsProvider(cancellationToken).ConfigureAwait(false)];
        foreach (var peer in peers)
        {
            if (!peer.Enabled || (_peerRetryAt.TryGetValue(peer.Id, out var retryAt) && retryAt > now))
            {
                continue;
            }

            if (peer.Tls == NewsPeerTls.None && _clearTextWarned.Add(peer.Id))
            {
                _logger.ClearTextFeed(peer.Name);
            }

            try
            {
                if (peer.Direction.HasFlag(NewsFeedDirection.Push) && await PushAsync(peer, cancellationToken).ConfigureAwait(false))
                {
                    Nudge();
                }

                if (peer.Direction.HasFlag(NewsFeedDirection.Pull) && IsPullDue(peer, now))
                {
                    await PullOnceAcrossNodesAsync(peer, now, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                _logger.PeerFailed(peer.Name, ex.Message);
                _peerRetryAt[peer.Id] = now + _options.RetryDelay;
            }
        }
    }

    /// <summary>Backs off from a peer that could not be reached or dropped the feed: 30 s, doubled per failure in a row, up to an hour.</summary>
    private DateTimeOffset PeerUnavailable(NewsPeer peer)
    {
        var failures = _peerFailures[peer.Id] = _peerFailures.GetValueOrDefault(peer.Id) + 1;
        var delay = _options.RetryDelay * Math.Pow(2, Math.Min(failures - 1, 16));
        var retryAt = _context.Time.GetUtcNow() + (delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay);
        _peerRetryAt[peer.Id] = retryAt;
        return retryAt;
    }

    private bool IsPullDue(NewsPeer peer, DateTimeOffset now) => peer.LastPull is null || peer.LastPull.Value + _options.PullInterval <= now;

    /// <summary>
    /// Pulls unless another node sharing the store is pulling now; the peer is read again under the lock, so a pull that
    /// node has just finished is not made twice (the history would refuse the copies, but the peer would send them).
    /// </summary>
    private async Task PullOnceAcrossNodesAsync(NewsPeer peer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var turn = await _context.Store.Database.TryLockAsync(NodeTask.NewsPull, cancellationToken).ConfigureAwait(false);
        if (turn is null)
        {
            return;
        }

        var current = (await _context.Store.PublicFolders.ListPeersAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(p => p.Id == peer.Id);
        if (current is { Enabled: true } && current.Direction.HasFlag(NewsFeedDirection.Pull) && IsPullDue(current, now))
        {
            await PullAsync(current, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task LoopAsync()
    {
        var token = _stop.Token;
        var lastPurge = DateTimeOffset.MinValue;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(token).ConfigureAwait(false);
                var now = _context.Time.GetUtcNow();
                if (now - lastPurge > TimeSpan.FromHours(1))
                {
                    await _context.Store.PublicFolders.PurgeHistoryAsync(now - _options.HistoryRetention, token).ConfigureAwait(false);

                    // Public-folder age limits (Exchange's; INN's expire), hourly like the history purge.
                    int expired = 0, removed;
                    do
                    {
                        removed = await _context.Store.PublicFolders.ExpireByAgeLimitAsync(now, token).ConfigureAwait(false);
                        expired += removed;
                    }
                    while (removed > 0);

                    if (expired > 0)
                    {
                        _logger.Expired(expired);
                    }

                    lastPurge = now;
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.FeedPassFailed(ex);
            }

            try
            {
                await _wake.WaitAsync(_options.PushInterval, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Pushes what is due to one peer, batch after batch over one connection; true when it stopped after
    /// <see cref="NewsFeedOptions.MaxBatchesPerPass"/> batches with more due (the loop then comes straight back).
    /// </summary>
    private async Task<bool> PushAsync(NewsPeer peer, CancellationToken cancellationToken)
    {
        var store = _context.Store.PublicFolders;
        NntpFeedClient? client = null;
        var streaming = false;
        var offered = 0;
        try
        {
            for (var batch = 0; batch < _options.MaxBatchesPerPass; batch++)
            {
                var now = _context.Time.GetUtcNow();
                var due = await store.ClaimDueFeedAsync(peer.Id, now, now + _options.PushLease, _options.BatchSize, cancellationToken).ConfigureAwait(false);
                if (due.Count == 0)
                {
                    return false;
                }

                var pending = new Queue<NewsFeedEntry>(due);
                var window = new List<(NewsFeedEntry Entry, byte[] Content)>();
                var done = new List<long>();
                try
                {
                    while (pending.Count > 0)
                    {
                        // The next window: the articles this peer still wants (loop prevention and its groups), read
                        // from the store only as far as the window goes, so memory stays bounded whatever the batch.
                        window.Clear();
                        long windowBytes = 0;
                        while (pending.Count > 0 && window.Count < (streaming || client is null ? Math.Max(1, _options.StreamWindow) : 1) && windowBytes < _options.StreamWindowBytes)
                        {
                            var entry = pending.Dequeue();
                            var content = await store.ReadContentAsync(entry.BlobId, cancellationToken).ConfigureAwait(false);
                            if (IsForPeer(peer, content))
                            {
                                window.Add((entry, content));
                                windowBytes += content.Length;
                            }
                            else
                            {
                                done.Add(entry.Id);
                            }
                        }

                        if (window.Count == 0)
                        {
                            continue;
                        }

                        if (client is null)
                        {
                            (client, var error) = await NntpFeedClient.ConnectAsync(WithPassword(peer), _trustedRoots, _options.Timeout, cancellationToken).ConfigureAwait(false);
                            if (client is null)
                            {
                                // The peer is down: its articles keep their place in the queue, and the peer is tried again
                                // after a back-off (innfeed's reconnect time), not at every pass.
                                _logger.CannotConnect(peer.Name, error);
                                var retryAt = PeerUnavailable(peer);
                                await store.PostponeFeedAsync([.. window.Select(w => w.Entry.Id), .. pending.Select(e => e.Id)], retryAt, error, cancellationToken).ConfigureAwait(false);
                                return false;
                            }

                            _peerFailures.Remove(peer.Id);

                            streaming = client.CanStream && (await client.CommandAsync("MODE STREAM", cancellationToken).ConfigureAwait(false)).StartsWith("203", StringComparison.Ordinal);
                        }

                        // Without streaming a window is one article (IHAVE waits for 335 before the article); a window read
                        // before the mode was known is offered one by one.
                        var outcomes = streaming
                            ? await OfferStreamingAsync(client, window, cancellationToken).ConfigureAwait(false)
                            : await OfferOneByOneAsync(client, window, cancellationToken).ConfigureAwait(false);
                        var refused = 0;
                        for (var i = 0; i < window.Count; i++)
                        {
                            if (outcomes[i] is null)
                            {
                                done.Add(window[i].Entry.Id);
                                offered++;
                            }
                            else
                            {
                                refused++;
                                await store.RetryFeedLaterAsync(window[i].Entry.Id, NextAttempt(window[i].Entry.Attempts), outcomes[i], cancellationToken).ConfigureAwait(false);
                            }
                        }

                        if (refused > 0)
                        {
                            // A peer that refuses the feed itself (480: it does not know us as a feeding peer) would
                            // otherwise be retried in silence.
                            _logger.FeedRefused(peer.Name, refused, outcomes.First(o => o is not null)!);
                        }

                        window.Clear();
                    }
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // The window in flight counts an attempt (one of its articles may be what broke the connection), and
                    // is offered again later: the peer answers 438 for what it took. The rest waits for the peer's back-off.
                    _logger.FeedInterrupted(peer.Name, ex.Message);
                    await RetryLaterAsync(window.Select(w => w.Entry), ex.Message, cancellationToken).ConfigureAwait(false);
                    await store.PostponeFeedAsync([.. pending.Select(e => e.Id)], PeerUnavailable(peer), ex.Message, cancellationToken).ConfigureAwait(false);
                    return false;
                }
                finally
                {
                    if (done.Count > 0)
                    {
                        await store.CompleteFeedAsync(done, cancellationToken).ConfigureAwait(false);
                    }
                }

                if (due.Count < _options.BatchSize)
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            if (offered > 0)
            {
                _logger.Offered(peer.Name, offered);
            }
        }
    }

    /// <summary>Loop prevention and the peer's groups: never offer an article whose Path already names the peer.</summary>
    private static bool IsForPeer(NewsPeer peer, byte[] content)
    {
        var article = NewsArticle.TryParse(content);
        var groups = article?.Get("Newsgroups");
        return article is not null && groups is not null && !NewsArticleIntake.PathContains(article.Get("Path"), peer.Name)
            && groups.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Any(g => Wildmat.Matches(peer.Groups, g));
    }

    /// <summary>
    /// RFC 4644 streaming, pipelined as innfeed does it: the window's CHECKs in one write and their replies in order,
    /// then a TAKETHIS with its article for each one wanted, in one write, and their replies. Per entry: null when it is
    /// finished (sent, or refused for good), else the reason to try again later.
    /// </summary>
    private static async Task<string?[]> OfferStreamingAsync(NntpFeedClient client, List<(NewsFeedEntry Entry, byte[] Content)> window, CancellationToken cancellationToken)
    {
        var outcomes = new string?[window.Count];
        await client.SendPipelinedAsync(window.Select(w => "CHECK " + w.Entry.MessageId), cancellationToken).ConfigureAwait(false);
        var wanted = new List<int>(window.Count);
        for (var i = 0; i < window.Count; i++)
        {
            var check = await ReadStreamingReplyAsync(client, window[i].Entry.MessageId, cancellationToken).ConfigureAwait(false);
            if (check.StartsWith("238", StringComparison.Ordinal))
            {
                wanted.Add(i);
            }
            else if (!check.StartsWith("438", StringComparison.Ordinal))
            {
                outcomes[i] = "CHECK: " + check;
            }
        }

        if (wanted.Count > 0)
        {
            await client.SendArticlesPipelinedAsync(wanted.Select(i => ("TAKETHIS " + window[i].Entry.MessageId, window[i].Content)), cancellationToken).ConfigureAwait(false);
            foreach (var i in wanted)
            {
                var reply = await ReadStreamingReplyAsync(client, window[i].Entry.MessageId, cancellationToken).ConfigureAwait(false);
                outcomes[i] = reply.StartsWith("239", StringComparison.Ordinal) || reply.StartsWith("439", StringComparison.Ordinal) ? null : "TAKETHIS: " + reply;
            }
        }

        return outcomes;
    }

    /// <summary>
    /// The next reply of a pipelined exchange. RFC 4644 §2.4/§2.5: the streaming replies (238, 431, 438, 239, 439) name
    /// the Message-ID they answer; one naming another means the exchange is out of step, and the connection is given up.
    /// </summary>
    private static async Task<string> ReadStreamingReplyAsync(NntpFeedClient client, string messageId, CancellationToken cancellationToken)
    {
        var reply = await client.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        var parts = reply.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length >= 2 && parts[0] is ("238" or "431" or "438" or "239" or "439") && !string.Equals(parts[1], messageId, StringComparison.Ordinal))
        {
            throw new IOException($"streaming reply for {parts[1]} where {messageId} was expected");
        }

        return reply;
    }

    private static async Task<string?[]> OfferOneByOneAsync(NntpFeedClient client, List<(NewsFeedEntry Entry, byte[] Content)> window, CancellationToken cancellationToken)
    {
        var outcomes = new string?[window.Count];
        for (var i = 0; i < window.Count; i++)
        {
            outcomes[i] = await OfferIHaveAsync(client, window[i].Entry, window[i].Content, cancellationToken).ConfigureAwait(false);
        }

        return outcomes;
    }

    /// <summary>RFC 3977 §6.3.2: 335 send, 435 not wanted, 436 later; after the article 235 ok, 436 later, 437 rejected.</summary>
    private static async Task<string?> OfferIHaveAsync(NntpFeedClient client, NewsFeedEntry entry, byte[] content, CancellationToken cancellationToken)
    {
        var offer = await client.CommandAsync("IHAVE " + entry.MessageId, cancellationToken).ConfigureAwait(false);
        if (offer.StartsWith("435", StringComparison.Ordinal))
        {
            return null;
        }

        if (!offer.StartsWith("335", StringComparison.Ordinal))
        {
            return "IHAVE: " + offer;
        }

        var reply = await client.SendArticleAsync(null, content, cancellationToken).ConfigureAwait(false);
        return reply.StartsWith("235", StringComparison.Ordinal) || reply.StartsWith("437", StringComparison.Ordinal) ? null : "IHAVE: " + reply;
    }

    private async Task PullAsync(NewsPeer peer, CancellationToken cancellationToken)
    {
        var (client, error) = await NntpFeedClient.ConnectAsync(WithPassword(peer), _trustedRoots, _options.Timeout, cancellationToken).ConfigureAwait(false);
        if (client is null)
        {
            // Backed off as for the push (innfeed's reconnect time doubles): a peer that is down is not tried, nor
            // logged, every pass.
            _logger.CannotConnectToPull(peer.Name, error);
            PeerUnavailable(peer);
            return;
        }

        _peerFailures.Remove(peer.Id);
        await using (client.ConfigureAwait(false))
        {
            await client.CommandAsync("MODE READER", cancellationToken).ConfigureAwait(false);

            // The peer's own clock bounds the next NEWNEWS, so clock skew loses nothing.
            var date = await client.CommandAsync("DATE", cancellationToken).ConfigureAwait(false);
            var peerNow = date.StartsWith("111 ", StringComparison.Ordinal) && DateTimeOffset.TryParseExact(date[4..].Trim(), "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : _context.Time.GetUtcNow();
            var since = peer.LastPull is null ? DateTimeOffset.UnixEpoch : peer.LastPull.Value - TimeSpan.FromMinutes(5);
            var reply = await client.CommandAsync($"NEWNEWS {peer.Groups} {since.UtcDateTime:yyyyMMdd HHmmss} GMT", cancellationToken).ConfigureAwait(false);
            if (!reply.StartsWith("230", StringComparison.Ordinal))
            {
                _logger.NewNewsRefused(peer.Name, reply);
                _peerRetryAt[peer.Id] = _context.Time.GetUtcNow() + _options.RetryDelay;
                return;
            }

            var ids = System.Text.Encoding.UTF8.GetString(await client.ReadBlockAsync(16L * 1024 * 1024, cancellationToken).ConfigureAwait(false))
                .Split("\r\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(NntpSyntax.IsMessageId)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            var wanted = new List<string>(ids.Count);
            foreach (var id in ids)
            {
                if (await _context.Store.PublicFolders.GetHistoryAsync(id, cancellationToken).ConfigureAwait(false) is null)
                {
                    wanted.Add(id);
                }
            }

            // ARTICLE requests pipelined in windows (RFC 3977 §3.5), the articles stored side by side (group commit) a
            // few MiB at a time, so memory stays bounded whatever the peer sends.
            var stored = 0;
            var complete = true;
            foreach (var window in wanted.Chunk(Math.Max(1, _options.StreamWindow)))
            {
                await client.SendPipelinedAsync(window.Select(id => "ARTICLE " + id), cancellationToken).ConfigureAwait(false);
                var received = new List<(string Id, byte[] Content)>();
                long receivedBytes = 0;
                for (var i = 0; i < window.Length; i++)
                {
                    var article = await client.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                    if (article.StartsWith("220", StringComparison.Ordinal))
                    {
                        // RFC 3977 §6.2.1.2: "220 n message-id"; another Message-ID means the replies are out of step.
                        var parts = article.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                        if (parts.Length >= 3 && !string.Equals(parts[2], window[i], StringComparison.Ordinal))
                        {
                            throw new IOException($"ARTICLE reply for {parts[2]} where {window[i]} was expected");
                        }

                        var content = await client.ReadBlockAsync(_options.MaxArticleSize, cancellationToken).ConfigureAwait(false);
                        received.Add((window[i], content));
                        receivedBytes += content.Length;
                    }

                    if (receivedBytes >= _options.StreamWindowBytes || i == window.Length - 1)
                    {
                        var (count, ok) = await StorePulledAsync(peer, received, cancellationToken).ConfigureAwait(false);
                        stored += count;
                        complete &= ok;
                        received.Clear();
                        receivedBytes = 0;
                    }
                }

                if (!complete)
                {
                    break;
                }
            }

            if (!complete)
            {
                // Not stored now: leave LastPull where it was so the next pull asks again.
                if (stored > 0)
                {
                    Nudge();
                }

                return;
            }

            await _context.Store.PublicFolders.SetLastPullAsync(peer.Id, peerNow, cancellationToken).ConfigureAwait(false);
            if (stored > 0)
            {
                _logger.Pulled(peer.Name, stored);
                Nudge();
            }
        }
    }

    /// <summary>Stores pulled articles side by side; the count accepted, and false when one could not be stored now.</summary>
    private async Task<(int Stored, bool Complete)> StorePulledAsync(NewsPeer peer, List<(string Id, byte[] Content)> articles, CancellationToken cancellationToken)
    {
        if (articles.Count == 0)
        {
            return (0, true);
        }

        var results = await Task.WhenAll(articles.Select(a => Task.Run(() => _intake.TransitAsync(a.Content, a.Id, null, [peer.Groups], cancellationToken), cancellationToken))).ConfigureAwait(false);
        var complete = true;
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Outcome == IntakeOutcome.Failed)
            {
                _logger.NotStored(peer.Name, articles[i].Id);
                complete = false;
            }
        }

        return (results.Count(r => r.Outcome == IntakeOutcome.Accepted), complete);
    }

    private async Task RetryLaterAsync(IEnumerable<NewsFeedEntry> entries, string? error, CancellationToken cancellationToken)
    {
        foreach (var entry in entries)
        {
            await _context.Store.PublicFolders.RetryFeedLaterAsync(entry.Id, NextAttempt(entry.Attempts), error, cancellationToken).ConfigureAwait(false);
        }
    }

    private DateTimeOffset NextAttempt(int attempts)
    {
        var delay = _options.RetryDelay * Math.Pow(2, Math.Min(attempts, 16));
        return _context.Time.GetUtcNow() + (delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay);
    }
}
