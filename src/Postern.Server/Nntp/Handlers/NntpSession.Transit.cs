using Postern.Protocols.Nntp;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>Articles coming in: POST (RFC 3977 §6.3.1), IHAVE (§6.3.2), CHECK and TAKETHIS (RFC 4644).</summary>
internal sealed partial class NntpSession
{
    private async Task PostAsync(CancellationToken cancellationToken)
    {
        if (NeedsSecureChannel)
        {
            _channel.WriteLine("483 Encryption required, use STARTTLS first");
            return;
        }

        if (!IsAuthenticated && !await AnonymousMayPostAsync(cancellationToken).ConfigureAwait(false))
        {
            _channel.WriteLine("480 Authentication required to post");
            return;
        }

        _channel.WriteLine("340 Send article to be posted. End with <CR-LF>.<CR-LF>");
        var (status, content) = await ReadArticleAsync(cancellationToken).ConfigureAwait(false);
        if (status == ArticleReadStatus.Closed)
        {
            _quit = true;
            return;
        }

        if (status == ArticleReadStatus.TooLarge)
        {
            _channel.WriteLine($"441 Article exceeds the size limit of {_config.Limits.MaxMessageSize} octets");
            return;
        }

        if (status == ArticleReadStatus.NoRoom)
        {
            // POST has no "try later" code (RFC 3977 §6.3.1): 441, and the text says why.
            _channel.WriteLine("441 Posting failed: the server is busy, try again later");
            return;
        }

        var client = _connection.RemoteEndPoint.Address;
        var result = await _intake.PostAsync(content!, _account, cancellationToken, (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString()).ConfigureAwait(false);
        Accepted(result);
        _channel.WriteLine(result.Outcome switch
        {
            IntakeOutcome.Accepted or IntakeOutcome.Pending => "240 " + result.Reason,
            IntakeOutcome.Duplicate => "441 Duplicate Message-ID",
            _ => "441 " + result.Reason,
        });
        // An article held for the moderator is worth the information log; one line per stored article is the debug
        // log's (as for SMTP deliveries): at information level the console logger's thread woke for every post.
        if (result.Outcome == IntakeOutcome.Pending)
        {
            _logger.PostHeld(result.MessageId, _account?.Address ?? "anonymous", result.Outcome);
        }
        else if (result.Outcome == IntakeOutcome.Accepted)
        {
            _logger.PostStored(result.MessageId, _account?.Address ?? "anonymous", result.Outcome);
        }
    }

    private void Accepted(IntakeResult result)
    {
        if (result.Outcome == IntakeOutcome.Accepted)
        {
            ServerMetrics.Nntp.Item();
            _articleAccepted?.Invoke();
        }
    }

    private async Task<bool> AnonymousMayPostAsync(CancellationToken cancellationToken) =>
        (await _context.Store.PublicFolders.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
            .Any(f => f.Newsgroup is not null && f.RightsOf(null).HasFlag(PublicFolderRights.Post));

    /// <summary>Whether this session may feed articles (IHAVE, CHECK, TAKETHIS); writes the refusal when not.</summary>
    private async Task<bool> MayFeedAsync(string refusalPrefix, CancellationToken cancellationToken)
    {
        if (NeedsSecureChannel)
        {
            _channel.WriteLine("483 Encryption required, use STARTTLS first");
            return false;
        }

        if (IsAuthenticated || await IsFeedingPeerAsync(cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        if (_receivingOnlyPeer is { } peer)
        {
            // Said to both sides, once per session: the usual mistake is a push peer set up where its feed arrives.
            if (!_receivingOnlyPeerLogged)
            {
                _receivingOnlyPeerLogged = true;
                _logger.ReceivingOnlyPeerFeeds(peer, _connection.RemoteEndPoint.Address.ToString());
            }

            _channel.WriteLine(refusalPrefix + $"480 Transit service requires authentication: news peer {peer} is set up here to receive our feed only (--direction push)");
            return false;
        }

        _channel.WriteLine(refusalPrefix + "480 Transit service requires authentication");
        return false;
    }

    private async Task<bool> IHaveAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var messageId = command.Argument(0);
        if (!NntpSyntax.IsMessageId(messageId) || command.Arguments.Count != 1)
        {
            _channel.WriteLine("501 Syntax: IHAVE message-id");
            return false;
        }

        if (!await MayFeedAsync("", cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        // RFC 3977 §6.3.2: 435 when the article is not wanted (already seen, or refused before).
        if (await _context.Store.PublicFolders.GetHistoryAsync(messageId!, cancellationToken).ConfigureAwait(false) is not null)
        {
            _channel.WriteLine("435 Article not wanted");
            return true;
        }

        _channel.WriteLine("335 Send article to be transferred. End with <CR-LF>.<CR-LF>");
        var (status, content) = await ReadArticleAsync(cancellationToken).ConfigureAwait(false);
        if (status == ArticleReadStatus.Closed)
        {
            _quit = true;
            return true;
        }

        if (status == ArticleReadStatus.TooLarge)
        {
            await RememberTooLargeAsync(messageId!, cancellationToken).ConfigureAwait(false);
            _channel.WriteLine("437 Article too large");
            return true;
        }

        if (status == ArticleReadStatus.NoRoom)
        {
            // RFC 3977 §6.3.2: 436, the peer offers it again later.
            _channel.WriteLine("436 Transfer not possible, try again later");
            return true;
        }

        var result = await _intake.TransitAsync(content!, messageId, _account, await FeedingPeerGroupsAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        Accepted(result);
        _channel.WriteLine(result.Outcome switch
        {
            IntakeOutcome.Accepted or IntakeOutcome.Pending => "235 Article transferred OK",
            IntakeOutcome.Duplicate => "437 Duplicate article",
            IntakeOutcome.Failed => "436 Transfer failed, try again later",
            _ => "437 " + result.Reason,
        });
        return true;
    }

    /// <summary>An over-size article is refused for good; remembered only from a configured peer, as every transit refusal (a reader could otherwise block the Message-ID).</summary>
    private async Task RememberTooLargeAsync(string messageId, CancellationToken cancellationToken)
    {
        if (await IsFeedingPeerAsync(cancellationToken).ConfigureAwait(false))
        {
            await _context.Store.PublicFolders.RememberRejectedAsync(messageId, _context.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> CheckAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var messageId = command.Argument(0);
        if (!NntpSyntax.IsMessageId(messageId) || command.Arguments.Count != 1)
        {
            _channel.WriteLine("501 Syntax: CHECK message-id");
            return false;
        }

        if (!await MayFeedAsync("", cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        // RFC 4644 §2.4: 238 send it, 438 not wanted.
        var known = await _context.Store.PublicFolders.GetHistoryAsync(messageId!, cancellationToken).ConfigureAwait(false) is not null;
        _channel.WriteLine(known ? $"438 {messageId}" : $"238 {messageId}");
        return true;
    }

    // RFC 4644 streaming: the TAKETHIS articles a peer pipelines are stored side by side, so that group commit folds them
    // into few flushes, and answered in the order they came. Bounded per session in count and in octets held
    // (NntpDefaults.MaxTakeThisInFlight, MaxTakeThisInFlightBytes).
    private readonly Queue<(Task<IntakeResult> Store, string MessageId, int Size)> _takeThisInFlight = new();
    private long _takeThisInFlightBytes;

    private static bool IsTakeThis(LineResult line) =>
        line.Kind == LineResultKind.Line && line.Bytes.Length > 9 && System.Text.Ascii.EqualsIgnoreCase(line.Bytes.AsSpan(0, 9), "TAKETHIS "u8);

    /// <summary>Waits for the oldest TAKETHIS stores and writes their replies until at most <paramref name="leaveRunning"/> are left (and their octets are within bounds).</summary>
    private async Task AnswerTakeThisAsync(int leaveRunning, CancellationToken cancellationToken)
    {
        while (_takeThisInFlight.Count > leaveRunning || (_takeThisInFlight.Count > 0 && _takeThisInFlightBytes > _maxTakeThisInFlightBytes))
        {
            var (store, messageId, size) = _takeThisInFlight.Dequeue();
            _takeThisInFlightBytes -= size;
            IntakeResult result;
            try
            {
                result = await store.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // As for any command that fails inside: the peer offers the article again later.
                _logger.CommandFailed(ex, "TAKETHIS");
                _channel.WriteLine("403 Internal fault, try again later");
                continue;
            }

            Accepted(result);

            // RFC 4644 §2.5: 239 transferred, 439 rejected ("do not retry"). A store failure (a full disk) has no "try later"
            // code of its own: 403 (RFC 3977 §3.2.1), as when the store throws, so the peer offers the article again;
            // a 439 would lose it.
            _channel.WriteLine(result.Outcome switch
            {
                IntakeOutcome.Accepted or IntakeOutcome.Pending => $"239 {messageId}",
                IntakeOutcome.Failed => "403 " + result.Reason,
                _ => $"439 {messageId}",
            });
        }
    }

    private async Task<bool> TakeThisAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var messageId = command.Argument(0);
        var syntaxOk = NntpSyntax.IsMessageId(messageId) && command.Arguments.Count == 1;
        var permitted = syntaxOk && (IsAuthenticated || await IsFeedingPeerAsync(cancellationToken).ConfigureAwait(false)) && !NeedsSecureChannel;

        // RFC 4644 §2.5: the article follows TAKETHIS unconditionally, so it is read even when refused; a refused one
        // is discarded as it streams, so a client that may not feed cannot make the session hold an article.
        var (status, content) = await ReadArticleAsync(cancellationToken, keep: syntaxOk && permitted).ConfigureAwait(false);
        if (status == ArticleReadStatus.Closed)
        {
            _quit = true;
            return true;
        }

        if (!syntaxOk || !permitted || status is ArticleReadStatus.TooLarge or ArticleReadStatus.NoRoom)
        {
            // Answered here and now, so the articles still being stored are answered first.
            await AnswerTakeThisAsync(0, cancellationToken).ConfigureAwait(false);
        }

        if (!syntaxOk)
        {
            _channel.WriteLine("501 Syntax: TAKETHIS message-id");
            return false;
        }

        if (!permitted)
        {
            _channel.WriteLine(NeedsSecureChannel ? "483 Encryption required" : "480 Transit service requires authentication");
            return true;
        }

        if (status == ArticleReadStatus.TooLarge)
        {
            await RememberTooLargeAsync(messageId!, cancellationToken).ConfigureAwait(false);
            _channel.WriteLine($"439 {messageId}");
            return true;
        }

        if (status == ArticleReadStatus.NoRoom)
        {
            // RFC 4644 §2.5 has no "try later" answer to TAKETHIS: 439, not remembered, so the next CHECK or IHAVE of it is
            // answered afresh.
            _channel.WriteLine($"439 {messageId}");
            return true;
        }

        // On a pool thread of its own: run here, the store's writer could flush this one article on the session's thread
        // before the next one is even read.
        var account = _account;
        var peerGroups = await FeedingPeerGroupsAsync(cancellationToken).ConfigureAwait(false);
        _takeThisInFlight.Enqueue((Task.Run(() => _intake.TransitAsync(content!, messageId, account, peerGroups, cancellationToken), cancellationToken), messageId!, content!.Length));
        _takeThisInFlightBytes += content.Length;
        await AnswerTakeThisAsync(_maxTakeThisInFlight - 1, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private enum ArticleReadStatus
    {
        Complete = 0,
        TooLarge = 1,
        Closed = 2,

        /// <summary>Read to its end, but the shared message memory had no room to keep it: try again later.</summary>
        NoRoom = 3,
    }

    /// <summary>
    /// Reads a dot-terminated article from the input pipe, un-stuffing it; past the size limit the rest is read and
    /// discarded. Without <paramref name="keep"/> all of it is discarded as it arrives (a refused TAKETHIS).
    /// </summary>
    private async Task<(ArticleReadStatus Status, byte[]? Content)> ReadArticleAsync(CancellationToken cancellationToken, bool keep = true)
    {
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        var decoder = new NntpDotDecoder();

        // Held in the memory all sessions share for messages on their way in (serve --max-message-memory), given back
        // when the article is read: a copy of it goes on.
        var held = keep ? new BudgetedMessageBuffer(_context.MessageMemory) : null;
        try
        {
            var (status, content) = await ReadArticleIntoAsync(decoder, held, cancellationToken).ConfigureAwait(false);
            return status == ArticleReadStatus.Complete && held is { OverBudget: true } ? (ArticleReadStatus.NoRoom, null) : (status, content);
        }
        finally
        {
            held?.Reset();
        }
    }

    private async Task<(ArticleReadStatus Status, byte[]? Content)> ReadArticleIntoAsync(NntpDotDecoder decoder, BudgetedMessageBuffer? output, CancellationToken cancellationToken)
    {
        var tooLarge = false;
        var max = _config.Limits.MaxMessageSize;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var idle = TimeSpan.FromSeconds(Math.Max(_config.Limits.IdleTimeoutSeconds, 60));
        var input = _connection.Input;
        while (true)
        {
            // An idle limit between reads, not for the whole article: a large article on a slow link is fine, a stalled one is not.
            timeout.CancelAfter(idle);
            System.IO.Pipelines.ReadResult result;
            try
            {
                var pending = input.ReadAsync(timeout.Token);
                var waited = !pending.IsCompleted;
                result = await pending.ConfigureAwait(false);
                if (_connection.MustLeaveEventThread(waited, result.Buffer.Length))
                {
                    await EventThread.ToThreadPool();
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (ArticleReadStatus.Closed, null);
            }

            var buffer = result.Buffer;
            var status = decoder.Decode(ref buffer, output);
            if (!tooLarge && decoder.Length > max)
            {
                tooLarge = true;
                output = null;
            }

            if (status == DotDecodeStatus.Complete)
            {
                // Whatever follows (pipelined commands, the next TAKETHIS) stays unexamined for the next read.
                input.AdvanceTo(buffer.Start);
                return tooLarge ? (ArticleReadStatus.TooLarge, null) : (ArticleReadStatus.Complete, output?.WrittenMemory.ToArray());
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return (ArticleReadStatus.Closed, null);
            }
        }
    }
}
