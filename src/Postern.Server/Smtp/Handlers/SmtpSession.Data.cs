using System.Buffers;
using System.Globalization;
using Postern.Protocols.Smtp;
using Postern.Server.Connections;
using Postern.Server.Smtp.Delivery;
using Postern.Server.Smtp.Outbound;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030), streamed from the pipe into one bounded buffer.</summary>
internal sealed partial class SmtpSession
{
    private async Task DataAsync(string argument, CancellationToken cancellationToken)
    {
        if (argument.Length > 0)
        {
            await BadCommandAsync(501, "5.5.4 Syntax: DATA", cancellationToken).ConfigureAwait(false);
            return;
        }

        StartContent();
        Reply(354, "End data with <CR><LF>.<CR><LF>");
        var decoder = new SmtpDataDecoder(_transaction.Content, _config.Limits.MaxMessageSize, _settings.MaxTextLine);
        var input = _connection.Input;
        while (true)
        {
            if (await ReadDataAsync(cancellationToken).ConfigureAwait(false) is not { } result)
            {
                return;
            }

            var buffer = result.Buffer;
            var done = false;
            long consumed = 0;
            foreach (var segment in buffer)
            {
                done = decoder.Decode(segment.Span, out var used);
                consumed += used;
                if (done)
                {
                    break;
                }
            }

            // The decoder keeps its own state, so every byte it saw is consumed: nothing piles up in the pipe.
            input.AdvanceTo(buffer.GetPosition(consumed));
            if (done)
            {
                break;
            }

            if (result.IsCompleted)
            {
                _closing = true;
                return;
            }
        }

        // Only now, in step with the client again, say what is wrong with the message.
        if (decoder.SawBareLineFeed || decoder.SawBareCarriageReturn)
        {
            ResetTransaction();
            Reply(550, "5.6.0 Message refused: bare CR or LF in data; lines must end with CRLF (RFC 5321 section 2.3.8)");
            return;
        }

        if (decoder.TooLarge)
        {
            ResetTransaction();
            Reply(552, "5.3.4 Message size exceeds fixed maximum message size");
            return;
        }

        if (decoder.LineTooLong)
        {
            ResetTransaction();
            Reply(550, $"5.6.0 Message refused: a line is longer than {_settings.MaxTextLine} octets (RFC 5321 section 4.5.3.1.6)");
            return;
        }

        if (RefuseOverBudget())
        {
            return;
        }

        await AcceptAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task BdatAsync(string argument, CancellationToken cancellationToken)
    {
        var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || (parts.Length == 2 && !parts[1].Equals("LAST", StringComparison.OrdinalIgnoreCase)))
        {
            // Without a size the chunk cannot be skipped; the octets that follow will read as bad commands.
            await BadCommandAsync(501, "5.5.4 Syntax: BDAT size [LAST]", cancellationToken).ConfigureAwait(false);
            return;
        }

        var last = parts.Length == 2;
        var refusal = SmtpStateTable.Check(SmtpVerb.Bdat, _state, Facts);
        var keep = refusal is null;
        if (keep && _state != SmtpState.Chunking)
        {
            StartContent();
            _state = SmtpState.Chunking;
        }

        // A chunk that takes the message past the limit is refused whatever it holds (RFC 3030 §2, RFC 1870): it is read
        // past as it streams and none of it is kept, so its announced size cannot make the session buffer anything.
        var limit = _config.Limits.MaxMessageSize;
        var tooLarge = keep && size > limit - _transaction.ChunkedSize;
        keep &= !tooLarge;
        var remaining = size;
        var input = _connection.Input;
        while (remaining > 0)
        {
            if (await ReadDataAsync(cancellationToken).ConfigureAwait(false) is not { } result)
            {
                return;
            }

            var buffer = result.Buffer;
            var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            if (keep)
            {
                foreach (var segment in take)
                {
                    _transaction.Content.Write(segment.Span);
                }

                _transaction.ChunkedSize += take.Length;
            }

            remaining -= take.Length;
            input.AdvanceTo(take.End);
            if (remaining > 0 && result.IsCompleted)
            {
                _closing = true;
                return;
            }
        }

        if (refusal is { } r)
        {
            await BadCommandAsync(r.Code, r.Text, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (tooLarge)
        {
            // RFC 3030 §2: after a failed chunk the transaction is over; later chunks get 503.
            ResetTransaction();
            Reply(552, "5.3.4 Message size exceeds fixed maximum message size");
            return;
        }

        if (RefuseOverBudget())
        {
            return;
        }

        if (!last)
        {
            Reply(250, $"2.0.0 {size} octets received");
            return;
        }

        // Without BINARYMIME a chunked message is still made of CRLF lines (RFC 3030 §3, RFC 5321 §2.3.8): a bare CR
        // or LF is refused as in DATA, so BDAT is no way around that check (SMTP smuggling), and no relay ever sends one.
        var message = _transaction.Content.WrittenMemory.Span[_transaction.TraceLength..];
        if (SmtpMessageAcceptor.HasBareLineEnd(message))
        {
            ResetTransaction();
            Reply(550, "5.6.0 Message refused: bare CR or LF in data; lines must end with CRLF (RFC 5321 section 2.3.8)");
            return;
        }

        if (!message.IsEmpty && !message.EndsWith("\r\n"u8))
        {
            // The last line without its CRLF: completed, as Postfix does, so the stored message is lines throughout.
            _transaction.Content.Write("\r\n"u8);
        }

        await AcceptAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A message the shared memory budget could not hold (it was read to its end, not kept) is refused for now: RFC 5321
    /// §4.2.5's 452 asks the client to try again later (RFC 3030 §2: after a failed chunk the transaction is over).
    /// </summary>
    private bool RefuseOverBudget()
    {
        if (!_transaction.Content.OverBudget)
        {
            return false;
        }

        ResetTransaction();
        SmtpLog.MessageMemoryFull(_logger, _context.MessageMemory.CapacityBytes);
        Reply(452, "4.3.1 Insufficient system storage, try again later");
        return true;
    }

    /// <summary>Starts the content with the Received trace field (RFC 5321 §4.4) for this transaction.</summary>
    private void StartContent()
    {
        _transaction.Content.Reset();
        _transaction.QueueId = SmtpMessageAcceptor.NewQueueId();
        var trace = SmtpMessageAcceptor.ReceivedHeader(
            _heloName, _connection.RemoteEndPoint.Address, HostName, _extended, _connection.Tls, _account is not null,
            _transaction.SmtpUtf8, _transaction.QueueId, _transaction.Recipients.Count == 1 ? _transaction.Recipients[0].Address : null,
            _context.Time.GetUtcNow());
        _transaction.Content.Write(trace);
        _transaction.TraceLength = trace.Length;
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        var content = _transaction.Content.WrittenMemory;

        // RFC 5321 §6.3: a message that has already passed this many relays is looping; refused, never passed on again.
        if (SmtpMessageAcceptor.CountReceivedFields(content.Span[_transaction.TraceLength..], _settings.MaxHops) >= _settings.MaxHops)
        {
            ResetTransaction();
            Reply(554, "5.4.6 Message refused: too many Received fields, a mail loop (RFC 5321 section 6.3)");
            return;
        }

        await EventThread.ToThreadPoolIf(content.Length > EventThread.InlineMessageBytes);
        if (_account is not null)
        {
            // RFC 6409 §8.3: a submission server may add Message-ID and Date when missing.
            content = SmtpMessageAcceptor.AddMissingSubmissionHeaders(content, _transaction.TraceLength, HostName, _context.Time.GetUtcNow());
            content = await SignAsync(content, cancellationToken).ConfigureAwait(false);
        }
        else if (_context.InboundDkim is { } dkim && _settings.DkimMaxSignatures > 0)
        {
            try
            {
                content = await dkim.CheckAsync(content, _settings.DkimMaxSignatures, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A message the check cannot read is delivered as it came, without a verdict.
                _logger.DkimCheckFailed(ex, _transaction.QueueId);
            }
        }

        if (await RemoveFullMailboxesAsync(content, cancellationToken).ConfigureAwait(false) is not { } fullMailboxReports)
        {
            return;
        }

        var locals = _transaction.LocalMailboxes();
        var outbound = _transaction.Outbound();
        try
        {
            // The 250 goes out only once the message is on stable storage (RFC 5321 §6.1).
            await _context.Store.Mail.AcceptAsync(content, locals, outbound, _context.Time.GetUtcNow(), cancellationToken,
                SmtpMessageAcceptor.ReturnPathHeader(_transaction.Sender?.Address ?? "")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.StoreFailed(ex, _transaction.QueueId);
            ResetTransaction();

            // RFC 1870 §6.1 and RFC 3463 (X.3.1, mail system full): the sender keeps the message and tries again later.
            Reply(StorageFull.Is(ex) ? new SmtpReply(452, "4.3.1 Insufficient system storage") : new SmtpReply(451, "4.3.0 Error: local error in processing, try again later"));
            return;
        }

        if (outbound is not null)
        {
            OutboundQueueSignal.For(_context.Store).Set();
        }

        await SendDeliveredReportsAsync(content, cancellationToken).ConfigureAwait(false);
        await SendReportsAsync(fullMailboxReports, content, cancellationToken).ConfigureAwait(false);
        var queueId = _transaction.QueueId;
        ResetTransaction();
        ServerMetrics.Smtp.Item();
        Reply(250, $"2.0.0 Ok: queued as {queueId}");
    }

    /// <summary>
    /// The quota again, now that the size is known: RCPT could check only what SIZE declared, and a client may declare
    /// none. A message for no one but full mailboxes is refused (552 5.2.2, as at RCPT); otherwise the full mailboxes'
    /// recipients are dropped from it and their sender gets a failure report (RFC 3464), as Postfix's local delivery
    /// bounces, so nothing acknowledged is lost silently. Returns those reports (sent once the message is stored), or null
    /// when the message was refused.
    /// </summary>
    private async Task<IReadOnlyList<RecipientReport>?> RemoveFullMailboxesAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        List<SmtpRecipient>? full = null;
        Dictionary<long, bool>? checkedAccounts = null;
        foreach (var recipient in _transaction.Recipients)
        {
            if (recipient.LocalMailboxId is null || recipient.QuotaBytes <= 0)
            {
                continue;
            }

            checkedAccounts ??= [];
            if (!checkedAccounts.TryGetValue(recipient.AccountId, out var isFull))
            {
                var usage = await _context.Store.Mail.GetAccountUsageAsync(recipient.AccountId, cancellationToken).ConfigureAwait(false);
                checkedAccounts[recipient.AccountId] = isFull = usage + content.Length > recipient.QuotaBytes;
            }

            if (isFull)
            {
                (full ??= []).Add(recipient);
            }
        }

        if (full is null)
        {
            return [];
        }

        if (full.Count == _transaction.Recipients.Count)
        {
            ResetTransaction();
            Reply(552, full.Count == 1 ? $"5.2.2 <{full[0].Address}>: Mailbox full" : "5.2.2 Mailbox full");
            return null;
        }

        _transaction.Recipients.RemoveAll(full.Contains);
        return full
            .Select(r => new RecipientReport(new QueuedRecipient(0, r.Address, RecipientState.Failed, r.Notify, r.OriginalRecipient, null), "failed", "5.2.2", "552 5.2.2 Mailbox full", null, FromPeer: false))
            .Where(r => DeliveryStatusReport.Wants(r.Recipient, "FAILURE"))
            .ToList();
    }

    /// <summary>Reports on recipients of the message just stored, to its sender; never to the null sender, and a failure here is only logged.</summary>
    private async Task SendReportsAsync(IReadOnlyList<RecipientReport> reports, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var sender = _transaction.Sender?.Address ?? "";
        if (sender.Length == 0 || reports.Count == 0)
        {
            return;
        }

        try
        {
            var now = _context.Time.GetUtcNow();
            var queued = new QueuedMessage(0, sender, 0, content.Length, now, now, 0, null, _transaction.EnvelopeId, _transaction.Ret, []);
            var original = MimeKit.MimeMessage.Load(new MemoryStream(content.ToArray(), writable: false), cancellationToken);
            if (await OutboundDeliveryService.SendReportAsync(_context.Store, HostName, _logger, queued, reports, original, now, null, cancellationToken).ConfigureAwait(false))
            {
                OutboundQueueSignal.For(_context.Store).Set();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.DeliveredReportFailed(ex, _transaction.QueueId);
        }
    }

    /// <summary>
    /// RFC 3461 §6.2.1: a local recipient whose NOTIFY includes SUCCESS gets a "delivered" DSN once the message is in
    /// its mailbox (this server offers DSN, so the previous hop passed the request on instead of answering it).
    /// Never for the null sender; a failure here is logged, the message stays delivered.
    /// </summary>
    private Task SendDeliveredReportsAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        SendReportsAsync(
            _transaction.Recipients
                .Where(r => r.LocalMailboxId is not null && r.Notify is not null && r.Notify.Split(',').Contains("SUCCESS", StringComparer.OrdinalIgnoreCase))
                .Select(r => new RecipientReport(new QueuedRecipient(0, r.Address, RecipientState.Delivered, r.Notify, r.OriginalRecipient, null), "delivered", "2.0.0", "250 2.0.0 delivered to mailbox", null, FromPeer: false))
                .ToList(),
            content,
            cancellationToken);

    /// <summary>
    /// Puts a DKIM-Signature in front of submitted mail whose From domain has a key (RFC 6376 §5). A signing failure
    /// leaves the message unsigned, never refused: the receiver then treats it as mail without DKIM.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>> SignAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        if (_context.Dkim is not { } dkim)
        {
            return content;
        }

        try
        {
            if (await dkim.SignAsync(content, cancellationToken).ConfigureAwait(false) is not { } field)
            {
                return content;
            }

            var signed = new byte[field.Length + content.Length];
            field.CopyTo(signed, 0);
            content.CopyTo(signed.AsMemory(field.Length));
            return signed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.DkimSigningFailed(ex, _transaction.QueueId);
            return content;
        }
    }

    /// <summary>Reads more message data (DATA or BDAT); null after the data timeout, when the session is closed with 421.</summary>
    private async ValueTask<System.IO.Pipelines.ReadResult?> ReadDataAsync(CancellationToken cancellationToken)
    {
        var input = _connection.Input;
        if (input.TryRead(out var buffered))
        {
            if (_connection.MustLeaveEventThread(false, buffered.Buffer.Length))
            {
                await EventThread.ToThreadPool();
            }

            return buffered;
        }

        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.DataTimeout);
        try
        {
            var pending = input.ReadAsync(timeout.Token);
            var waited = !pending.IsCompleted;
            var result = await pending.ConfigureAwait(false);
            if (_connection.MustLeaveEventThread(waited, result.Buffer.Length))
            {
                await EventThread.ToThreadPool();
            }

            return result;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await CloseAsync(421, "4.4.2 Error: timeout exceeded while reading data", cancellationToken).ConfigureAwait(false);
            return null;
        }
    }
}
