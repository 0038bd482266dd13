using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MimeKit;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Smtp.Outbound;

/// <summary>
/// Runs the durable outbound queue: delivers each due message to the recipient domain's route or MX hosts with
/// MailKit's SMTP client, retries with exponential backoff, and bounces (RFC 3464) on a permanent refusal or
/// when the retry period is over. Never bounces to the null sender (RFC 5321 §4.5.5).
/// </summary>
public sealed class OutboundDeliveryService : BackgroundService
{
    private readonly IPosternStore _store;
    private readonly OutboundDeliveryOptions _options;
    private readonly IMailExchangerResolver _resolver;
    private readonly ILogger _logger;
    private readonly string _hostName;

    public OutboundDeliveryService(IPosternStore store, string hostName, OutboundDeliveryOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _store = store;
        _options = options ?? new OutboundDeliveryOptions();
        _hostName = _options.HostName ?? hostName;
        _resolver = _options.Resolver ?? new DnsMailExchangerResolver();
        _logger = (loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<OutboundDeliveryService>();
        Routes = new SmtpRouteStore(store);
    }

    /// <summary>Per-domain routes and the smart host (admin API: list/add/remove).</summary>
    public SmtpRouteStore Routes { get; }

    /// <summary>Wakes the loop now (after "postern queue retry", say).</summary>
    public void Wake() => OutboundQueueSignal.For(_store).Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Each delivery runs on its own and a freed slot takes the next message due at once: one slow or silent next
        // hop (up to Timeout per host, several hosts) must not hold back every other message queued meanwhile.
        var signal = OutboundQueueSignal.For(_store);
        var running = new Dictionary<long, Task>();
        Task? wake = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                foreach (var done in running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToList())
                {
                    running.Remove(done);
                }

                var wanted = Math.Min(_options.MaxConcurrentDeliveries - running.Count, _options.BatchSize);
                var claimed = 0;
                if (wanted > 0)
                {
                    try
                    {
                        var now = _options.Time.GetUtcNow();
                        var due = await _store.Queue.ClaimDueAsync(now, now + _options.DeliveryLease, wanted, stoppingToken).ConfigureAwait(false);
                        claimed = due.Count;
                        foreach (var message in due)
                        {
                            // An attempt that outlasted its lease is still running here: not started twice.
                            if (!running.ContainsKey(message.Id))
                            {
                                running[message.Id] = Task.Run(() => DeliverOrDeferAsync(message, stoppingToken), CancellationToken.None);
                            }
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        _logger.QueueRunFailed(ex);
                    }
                }

                if (claimed > 0 && claimed == wanted)
                {
                    continue; // more may be due
                }

                // One wait on the signal at a time, kept across turns, so a wake-up is never taken by an abandoned wait.
                wake ??= signal.WaitAsync(_options.PollInterval, stoppingToken);
                var finished = await Task.WhenAny([wake, .. running.Values]).ConfigureAwait(false);
                if (finished == wake)
                {
                    wake = null;
                    await finished.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }

        foreach (var delivery in running.Values)
        {
            try
            {
                await delivery.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // A delivery cut short by the stop keeps its lease, and is tried again after it.
            }
            catch (Exception ex)
            {
                _logger.QueueRunFailed(ex);
            }
        }
    }

    /// <summary>Delivers every message that is due now; returns how many were attempted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            // Nodes sharing a PostgreSQL store all see the same messages due; each is delivered by the node that claims it.
            var now = _options.Time.GetUtcNow();
            var due = await _store.Queue.ClaimDueAsync(now, now + _options.DeliveryLease, _options.BatchSize, cancellationToken).ConfigureAwait(false);
            if (due.Count == 0)
            {
                return total;
            }

            await Parallel.ForEachAsync(
                due,
                new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentDeliveries, CancellationToken = cancellationToken },
                async (message, ct) => await DeliverOrDeferAsync(message, ct).ConfigureAwait(false)).ConfigureAwait(false);
            total += due.Count;
            if (due.Count < _options.BatchSize)
            {
                return total;
            }
        }
    }

    private async Task DeliverOrDeferAsync(QueuedMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await DeliverAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.MessageFailedUnexpectedly(ex, message.Id);
            await _store.Queue.RecordAttemptAsync(message.Id, [], NextAttempt(message, _options.Time.GetUtcNow()), ex.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the attempt is over, so its lease is given back and the message is due at once after the
            // restart (or on another node), not when the lease would have run out.
            try
            {
                await _store.Queue.RetryNowAsync(message.Id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.MessageFailedUnexpectedly(ex, message.Id);
            }

            throw;
        }
    }

    private async Task DeliverAsync(QueuedMessage queued, CancellationToken cancellationToken)
    {
        var pending = queued.Recipients.Where(r => r.State == RecipientState.Pending).ToList();
        var content = await _store.Mail.ReadContentAsync(queued.BlobId, cancellationToken).ConfigureAwait(false);
        MimeMessage? message = null;
        try
        {
            message = MimeMessage.Load(new MemoryStream(content, writable: false), cancellationToken);
        }
        catch (FormatException)
        {
            // Not parseable as MIME: cannot be handed to the client; fails below like a refusal.
        }

        var eightBit = !System.Text.Ascii.IsValid(content);
        var results = new List<(QueuedRecipient Recipient, Outcome Outcome)>();
        foreach (var group in pending.GroupBy(r => DomainOf(r.Address), StringComparer.OrdinalIgnoreCase))
        {
            var recipients = group.ToList();
            if (message is null)
            {
                results.AddRange(recipients.Select(r => (r, Outcome.Permanent("5.6.0", "554 5.6.0 message cannot be parsed", null))));
                continue;
            }

            var outcomes = await DeliverToDomainAsync(queued, message, eightBit, group.Key, recipients, cancellationToken).ConfigureAwait(false);
            results.AddRange(recipients.Select((r, i) => (r, outcomes[i])));
        }

        var now = _options.Time.GetUtcNow();
        var expired = now - queued.Created >= _options.RetryPeriod;
        var records = new List<(long, RecipientState, string?)>();
        var bounces = new List<RecipientReport>();
        string? lastError = null;
        foreach (var (recipient, outcome) in results)
        {
            switch (outcome.Kind)
            {
                case OutcomeKind.Delivered:
                    records.Add((recipient.Id, RecipientState.Delivered, null));
                    _logger.Delivered(queued.Id, recipient.Address, outcome.RemoteMta ?? "", outcome.Diagnostic);
                    break;
                case OutcomeKind.Permanent:
                    records.Add((recipient.Id, RecipientState.Failed, outcome.Diagnostic));
                    bounces.Add(new RecipientReport(recipient, "failed", outcome.Status, outcome.Diagnostic, outcome.RemoteMta, outcome.FromPeer));
                    lastError = outcome.Diagnostic;
                    _logger.Bounced(queued.Id, recipient.Address, outcome.Diagnostic);
                    break;
                default:
                    lastError = outcome.Diagnostic;
                    if (expired)
                    {
                        // RFC 5321 §4.5.4.1: give up after the retry period and tell the sender.
                        var diagnostic = outcome.Diagnostic + " (delivery time expired)";
                        records.Add((recipient.Id, RecipientState.Failed, diagnostic));
                        bounces.Add(new RecipientReport(recipient, "failed", "4.4.7", diagnostic, outcome.RemoteMta, outcome.FromPeer));
                        _logger.Bounced(queued.Id, recipient.Address, diagnostic);
                    }
                    else
                    {
                        records.Add((recipient.Id, RecipientState.Pending, outcome.Diagnostic));
                        _logger.Deferred(queued.Id, recipient.Address, outcome.Diagnostic);
                    }

                    break;
            }
        }

        ServerMetrics.Outbound.Recipients(
            delivered: records.Count(r => r.Item2 == RecipientState.Delivered),
            deferred: records.Count(r => r.Item2 == RecipientState.Pending),
            bounced: records.Count(r => r.Item2 == RecipientState.Failed));
        var wanted = bounces.Where(b => DeliveryStatusReport.Wants(b.Recipient, "FAILURE")).ToList();
        if (wanted.Count > 0 && queued.Sender.Length > 0)
        {
            // The bounce is queued before the attempt is recorded: a crash in between may duplicate it, never lose it.
            await SendBounceAsync(queued, wanted, message, now, null, cancellationToken).ConfigureAwait(false);
        }

        // RFC 3461 §5.2.2: relayed to a next hop that does not offer DSN, a recipient with NOTIFY=SUCCESS MUST get a
        // "relayed" DSN here, since the next hop will not send one (the NOTIFY parameter could not be passed on).
        var relayed = results
            .Where(r => r.Outcome is { Kind: OutcomeKind.Delivered, NextHopLacksDsn: true } && DeliveryStatusReport.Wants(r.Recipient, "SUCCESS"))
            .Select(r => new RecipientReport(r.Recipient, "relayed", "2.0.0", r.Outcome.Diagnostic, r.Outcome.RemoteMta, r.Outcome.FromPeer))
            .ToList();
        if (relayed.Count > 0 && queued.Sender.Length > 0)
        {
            await SendBounceAsync(queued, relayed, message, now, null, cancellationToken).ConfigureAwait(false);
        }

        if (!expired && queued.Sender.Length > 0 && _options.DelayNoticeAfter is { } noticeAfter && now - queued.Created >= noticeAfter)
        {
            var delayed = results
                .Where(r => r.Outcome.Kind == OutcomeKind.Transient && DeliveryStatusReport.Wants(r.Recipient, "DELAY"))
                .Select(r => new RecipientReport(r.Recipient, "delayed", "4.4.1", r.Outcome.Diagnostic, r.Outcome.RemoteMta, r.Outcome.FromPeer))
                .ToList();
            if (delayed.Count > 0 && !await DelayNoticeSentAsync(queued.Id, cancellationToken).ConfigureAwait(false))
            {
                await SendBounceAsync(queued, delayed, null, now, queued.Created + _options.RetryPeriod, cancellationToken).ConfigureAwait(false);
                await _store.Database.WriteAsync(
                    w => w.Command("INSERT INTO smtp_delay_notices (queue_id, sent) VALUES (@q, @t) ON CONFLICT DO NOTHING", ("@q", queued.Id), ("@t", now.ToUnixTimeMilliseconds())).Execute(),
                    cancellationToken).ConfigureAwait(false);
            }
        }

        await _store.Queue.RecordAttemptAsync(queued.Id, records, NextAttempt(queued, now), lastError, cancellationToken).ConfigureAwait(false);
    }

    private Task<bool> DelayNoticeSentAsync(long queueId, CancellationToken cancellationToken) =>
        _store.Database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM smtp_delay_notices WHERE queue_id = @q", ("@q", queueId)).Scalar<long>() > 0, cancellationToken);

    private DateTimeOffset NextAttempt(QueuedMessage queued, DateTimeOffset now)
    {
        var delay = _options.FirstRetryDelay * Math.Pow(2, Math.Min(queued.Attempts, 20));
        if (delay > _options.MaxRetryDelay)
        {
            delay = _options.MaxRetryDelay;
        }

        var next = now + delay;

        // The last try happens when the retry period ends, so the bounce is not late.
        var deadline = queued.Created + _options.RetryPeriod;
        return next > deadline && now < deadline ? deadline : next;
    }

    private async Task<Outcome[]> DeliverToDomainAsync(QueuedMessage queued, MimeMessage message, bool eightBit, string domain, List<QueuedRecipient> recipients, CancellationToken cancellationToken)
    {
        Outcome[] All(Outcome outcome) => recipients.Select(_ => outcome).ToArray();

        var route = await Routes.FindAsync(domain, cancellationToken).ConfigureAwait(false);
        List<(string Host, int Port)> targets;
        if (route is not null)
        {
            targets = [(route.Host, route.Port)];
        }
        else
        {
            var lookup = await _resolver.ResolveAsync(domain, cancellationToken).ConfigureAwait(false);
            switch (lookup.Status)
            {
                case MailExchangerStatus.NoMail:
                    return All(Outcome.Permanent("5.1.2", "550 5.1.2 " + lookup.Error, null));
                case MailExchangerStatus.TemporaryFailure:
                    return All(Outcome.Transient("451 4.4.3 " + lookup.Error, null));
            }

            targets = lookup.Hosts.Select(h => (h, _options.MxPort)).ToList();
        }

        var tls = route?.Tls ?? SmtpRouteTls.Opportunistic;
        var verify = tls == SmtpRouteTls.Required && (route?.Verify ?? false);
        if (route is null && _options.MtaSts is { } sts)
        {
            var policy = await sts.GetAsync(domain, cancellationToken).ConfigureAwait(false);
            if (policy is { Mode: MtaStsMode.Enforce })
            {
                // RFC 8461 §5: only the policy's MX hosts, over TLS, with a certificate valid for the host; never in clear.
                targets = [.. targets.Where(t => policy.Allows(t.Host))];
                if (targets.Count == 0)
                {
                    return All(Outcome.Transient($"451 4.7.5 MTA-STS: no MX host of {domain} is named by its policy", null));
                }

                tls = SmtpRouteTls.Required;
                verify = true;
            }
            else if (policy is { Mode: MtaStsMode.Testing } && targets.Any(t => !policy.Allows(t.Host)))
            {
                _logger.MtaStsTestingMismatch(domain);
            }
        }

        var lastError = Outcome.Transient("451 4.4.1 no mail server could be reached", null);
        foreach (var (host, port) in targets)
        {
            var attempt = await TryHostAsync(queued, message, eightBit, host, port, tls, verify, route, recipients, cancellationToken).ConfigureAwait(false);
            if (attempt.Outcomes is not null)
            {
                return attempt.Outcomes;
            }

            lastError = attempt.Error ?? lastError;

            // Opportunistic TLS that fails in the handshake falls back to clear text (RFC 7435 §3).
            if (attempt.TlsFailed && tls == SmtpRouteTls.Opportunistic)
            {
                attempt = await TryHostAsync(queued, message, eightBit, host, port, SmtpRouteTls.None, verify: false, route, recipients, cancellationToken).ConfigureAwait(false);
                if (attempt.Outcomes is not null)
                {
                    return attempt.Outcomes;
                }

                lastError = attempt.Error ?? lastError;
            }
        }

        return All(lastError);
    }

    private async Task<(Outcome[]? Outcomes, Outcome? Error, bool TlsFailed)> TryHostAsync(
        QueuedMessage queued, MimeMessage message, bool eightBit, string host, int port, SmtpRouteTls tls, bool verify, SmtpRoute? route, List<QueuedRecipient> recipients, CancellationToken cancellationToken)
    {
        IReadOnlyCollection<X509Certificate2> roots = verify && _options.TrustedRoots is not null ? await _options.TrustedRoots(cancellationToken).ConfigureAwait(false) : [];
        var notify = recipients.GroupBy(r => r.Address, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Notify, StringComparer.OrdinalIgnoreCase);
        using var client = new OutboundSmtpClient(notify, queued.EnvelopeId, queued.Ret, eightBit)
        {
            LocalDomain = _hostName,
            Timeout = (int)_options.Timeout.TotalMilliseconds,
            CheckCertificateRevocation = false,
            ServerCertificateValidationCallback = (_, certificate, chain, errors) => ValidateServerCertificate(verify, roots, certificate, chain, errors),
        };
        var socketOptions = tls switch
        {
            SmtpRouteTls.Required => SecureSocketOptions.StartTls,
            SmtpRouteTls.None => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            await client.ConnectAsync(host, port, socketOptions, timeout.Token).ConfigureAwait(false);
            if (route?.Username is { Length: > 0 } user)
            {
                await client.AuthenticateAsync(user, route.Password ?? "", timeout.Token).ConfigureAwait(false);
            }
        }
        catch (SslHandshakeException ex)
        {
            return (null, Outcome.Transient($"451 4.7.5 TLS with {host} failed: {ex.Message}", null), true);
        }
        catch (MailKit.Security.AuthenticationException ex)
        {
            return (null, Outcome.Transient($"451 4.7.0 authentication with {host} failed: {ex.Message}", null), false);
        }
        catch (SmtpCommandException ex)
        {
            // STARTTLS offered but refused (454): opportunistic TLS goes on in clear, like a failed handshake
            // (RFC 3207 §4 leaves it to the client; RFC 7435 §3).
            var startTlsRefused = socketOptions == SecureSocketOptions.StartTlsWhenAvailable && !client.IsSecure && (client.Capabilities & SmtpCapabilities.StartTLS) != 0;
            return (null, Outcome.Transient(Diagnostic(ex.StatusCode, ex.Message), host) with { FromPeer = true }, startTlsRefused);
        }
        catch (Exception ex) when ((ex is SocketException or IOException or SmtpProtocolException or TimeoutException or NotSupportedException or OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            return (null, Outcome.Transient($"451 4.4.1 cannot connect to {host}:{port}: {ex.Message}", null), false);
        }

        // RFC 1870 §4: a SIZE value is the largest message the server accepts. One larger (as queued; a conversion to
        // 7-bit only adds) can only be refused, for good: bounced now without sending it, as Postfix does.
        if ((client.Capabilities & SmtpCapabilities.Size) != 0 && client.MaxSize > 0 && queued.Size > client.MaxSize)
        {
            await QuitAsync(client).ConfigureAwait(false);
            var tooBig = Outcome.Permanent("5.3.4", $"552 5.3.4 message size {queued.Size} exceeds the size limit {client.MaxSize} of {host}", host);
            return ([.. recipients.Select(_ => tooBig)], null, false);
        }

        var sender = queued.Sender.Length == 0 ? new MailboxAddress("", "") : new MailboxAddress("", queued.Sender);
        var outcomes = new Outcome[recipients.Count];
        var batch = Enumerable.Range(0, recipients.Count).ToList();
        var first = true;
        while (true)
        {
            Outcome[] sent;
            try
            {
                sent = await SendOnceAsync(client, message, sender, [.. batch.Select(i => recipients[i])], host, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is SocketException or IOException or SmtpProtocolException or TimeoutException or OperationCanceledException) && !cancellationToken.IsCancellationRequested)
            {
                var error = Outcome.Transient($"451 4.4.2 connection to {host} lost: {ex.Message}", host);
                if (first)
                {
                    return (null, error, false);
                }

                // Those delivered in an earlier transaction on this connection stay delivered.
                foreach (var i in batch)
                {
                    outcomes[i] = error;
                }

                return (outcomes, null, false);
            }

            first = false;
            var again = new List<int>();
            for (var j = 0; j < batch.Count; j++)
            {
                outcomes[batch[j]] = sent[j];
                if (sent[j].TooManyRecipients)
                {
                    again.Add(batch[j]);
                }
            }

            // RFC 5321 §4.5.3.1.8: a server may take as few as 100 recipients per message and refuse the rest with 452;
            // those go in the next transaction on this connection, as long as each one gets some recipient through.
            if (again.Count == 0 || !batch.Any(i => outcomes[i].Kind == OutcomeKind.Delivered))
            {
                break;
            }

            batch = again;
        }

        await QuitAsync(client).ConfigureAwait(false);
        return (outcomes, null, false);
    }

    /// <summary>One mail transaction; a lost connection is thrown, every reply becomes a recipient's outcome.</summary>
    private async Task<Outcome[]> SendOnceAsync(OutboundSmtpClient client, MimeMessage message, MailboxAddress sender, List<QueuedRecipient> recipients, string host, CancellationToken cancellationToken)
    {
        var mailboxes = recipients.Select(r => new MailboxAddress("", r.Address)).ToList();
        client.Refused.Clear();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout * 4);
            var format = FormatOptions.Default.Clone();
            format.NewLineFormat = NewLineFormat.Dos;
            var reply = await client.SendAsync(format, message, sender, mailboxes, timeout.Token).ConfigureAwait(false);
            var noDsn = (client.Capabilities & SmtpCapabilities.Dsn) == 0;
            return [.. recipients.Select(r => client.Refused.TryGetValue(r.Address, out var refused) ? FromRcptResponse(refused, host) : Outcome.Delivered(host, reply, noDsn))];
        }
        catch (NoRecipientsAcceptedException)
        {
            return [.. recipients.Select(r => client.Refused.TryGetValue(r.Address, out var refused) ? FromRcptResponse(refused, host) : Outcome.Transient("451 4.4.0 recipient not accepted", host))];
        }
        catch (SmtpCommandException ex)
        {
            // MAIL FROM or the data refused: the same verdict for every recipient of this domain. But when the data is
            // refused, one refused at RCPT keeps its own reply: a 550 is bounced now, not retried because the message
            // then got a 451. (A refused MAIL FROM makes pipelined RCPTs fail with 503: those replies mean nothing.)
            var outcome = FromResponse(ex.StatusCode, ex.Message, host);
            var dataRefused = ex.ErrorCode == SmtpErrorCode.MessageNotAccepted;
            return [.. recipients.Select(r => dataRefused && client.Refused.TryGetValue(r.Address, out var refused) ? FromRcptResponse(refused, host) : outcome)];
        }
        catch (NotSupportedException ex)
        {
            // The peer lacks an extension the message needs, e.g. SMTPUTF8 for an internationalized address (RFC 6531 §3.2).
            var outcome = Outcome.Permanent("5.6.7", $"554 5.6.7 {host} cannot take this message: {ex.Message}", host);
            return [.. recipients.Select(_ => outcome)];
        }
    }

    /// <summary>
    /// A reply to RCPT. 452 is "too many recipients" (RFC 5321 §4.5.3.1.10), and 552 there is the same, miscoded by
    /// RFC 821: the client SHOULD treat it as temporary. Either is tried again at once in a new transaction.
    /// </summary>
    private static Outcome FromRcptResponse(SmtpResponse refused, string host)
    {
        if (refused.StatusCode is SmtpStatusCode.InsufficientStorage or SmtpStatusCode.ExceededStorageAllocation)
        {
            return Outcome.Transient(Diagnostic(refused.StatusCode, refused.Response), host) with { TooManyRecipients = true, FromPeer = true };
        }

        return FromResponse(refused.StatusCode, refused.Response, host);
    }

    private static async Task QuitAsync(SmtpClient client)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await client.DisconnectAsync(true, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or SmtpProtocolException or OperationCanceledException or ServiceNotConnectedException)
        {
            // QUIT is a courtesy.
        }
    }

    private static bool ValidateServerCertificate(bool verify, IReadOnlyCollection<X509Certificate2> roots, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        // Opportunistic TLS protects against passive listeners only; the peer is not authenticated (RFC 7435).
        !verify || OutboundTls.IsTrusted(certificate, chain, errors, roots);

    private async Task SendBounceAsync(QueuedMessage queued, List<RecipientReport> failed, MimeMessage? original, DateTimeOffset now, DateTimeOffset? willRetryUntil, CancellationToken cancellationToken)
    {
        if (await SendReportAsync(_store, _hostName, _logger, queued, failed, original, now, willRetryUntil, cancellationToken).ConfigureAwait(false))
        {
            Wake();
        }
    }

    /// <summary>
    /// Sends a delivery status notification to the message's sender: into the INBOX of a local sender, else queued from
    /// the null sender. Returns whether it was queued for outbound delivery.
    /// </summary>
    internal static async Task<bool> SendReportAsync(IPosternStore store, string hostName, ILogger logger, QueuedMessage queued, IReadOnlyList<RecipientReport> reports, MimeMessage? original, DateTimeOffset now, DateTimeOffset? willRetryUntil, CancellationToken cancellationToken)
    {
        MimeMessage bounce;
        try
        {
            bounce = DeliveryStatusReport.Build(hostName, queued, reports, original, now, willRetryUntil);
        }
        catch (ParseException ex)
        {
            logger.BounceNotBuilt(queued.Id, queued.Sender, ex.Message);
            return false;
        }

        using var stream = new MemoryStream();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        await bounce.WriteToAsync(format, stream, cancellationToken).ConfigureAwait(false);
        var content = stream.ToArray();

        var sender = queued.Sender;
        var domain = DomainOf(sender);
        if (await store.Directory.IsLocalDomainAsync(domain, cancellationToken).ConfigureAwait(false))
        {
            var account = await store.Directory.ResolveRecipientAsync(sender, cancellationToken).ConfigureAwait(false);
            if (account is null)
            {
                logger.BounceDropped(queued.Id, sender);
                return false;
            }

            var inbox = await store.Mail.GetMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false);
            if (inbox is null)
            {
                await store.Mail.EnsureDefaultMailboxesAsync(account.Id, cancellationToken).ConfigureAwait(false);
                inbox = await store.Mail.GetMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false);
            }

            if (inbox is not null)
            {
                await store.Mail.AcceptAsync(content, [inbox.Id], null, now, cancellationToken, Delivery.SmtpMessageAcceptor.ReturnPathHeader("")).ConfigureAwait(false);
            }

            return false;
        }

        // A bounce is sent from the null sender, so it can never cause another bounce (RFC 5321 §4.5.5).
        await store.Mail.AcceptAsync(content, [], new OutboundEnvelope("", [new OutboundRecipient(sender)]), now, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static Outcome FromResponse(SmtpStatusCode code, string text, string host)
    {
        var numeric = (int)code;
        var diagnostic = Diagnostic(code, text);
        if (numeric is >= 500 and < 600)
        {
            var status = text.Length >= 5 && text[0] == '5' && text[1] == '.' ? text.Split(' ')[0] : "5.0.0";
            return Outcome.Permanent(status, diagnostic, host) with { FromPeer = true };
        }

        return Outcome.Transient(diagnostic, host) with { FromPeer = true };
    }

    /// <summary>
    /// The peer's reply for a Diagnostic-Code: a multi-line reply comes with its lines joined by LF, which header folding
    /// would drop, running them together.
    /// </summary>
    private static string Diagnostic(SmtpStatusCode code, string text) =>
        $"{(int)code} {string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}";

    private static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..].ToLowerInvariant();

    private enum OutcomeKind
    {
        Delivered = 0,
        Transient = 1,
        Permanent = 2,
    }

    /// <param name="NextHopLacksDsn">Delivered to a server that did not offer DSN, so NOTIFY was not passed on.</param>
    /// <param name="TooManyRecipients">Refused at RCPT with 452 (or 552): to be sent in another transaction now.</param>
    /// <param name="FromPeer">The diagnostic is the next hop's reply, not one made up here (a connection failure, say).</param>
    private readonly record struct Outcome(OutcomeKind Kind, string Status, string Diagnostic, string? RemoteMta, bool NextHopLacksDsn = false, bool TooManyRecipients = false, bool FromPeer = false)
    {
        public static Outcome Delivered(string host, string reply, bool nextHopLacksDsn) =>
            new(OutcomeKind.Delivered, "2.0.0", "250 " + reply.Trim().ReplaceLineEndings(" "), host, nextHopLacksDsn, FromPeer: true);

        public static Outcome Transient(string diagnostic, string? host) => new(OutcomeKind.Transient, "4.0.0", diagnostic, host);

        public static Outcome Permanent(string status, string diagnostic, string? host) => new(OutcomeKind.Permanent, status, diagnostic, host);
    }
}
