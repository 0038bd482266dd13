using System.Globalization;
using Postern.Protocols.Smtp;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>MAIL (RFC 5321 §4.1.1.2) and RCPT (§4.1.1.3), with SIZE, BODY, SMTPUTF8 and DSN parameters.</summary>
internal sealed partial class SmtpSession
{
    private readonly SmtpTransaction _transaction;

    /// <summary>Ends whatever transaction is open, when the session ends.</summary>
    public void EndTransaction() => _transaction.Reset();

    private void ResetTransaction()
    {
        _transaction.Reset();
        if (_state != SmtpState.Connected)
        {
            _state = SmtpState.Ready;
        }
    }

    private async Task MailAsync(string argument, CancellationToken cancellationToken)
    {
        var error = SmtpCommandParser.TryParsePath(argument, "FROM:", allowNull: true, out var path);
        if (error == SmtpPathError.Syntax)
        {
            await BadCommandAsync(501, "5.1.7 Bad sender address syntax", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (error != SmtpPathError.None || path is null)
        {
            await BadCommandAsync(501, "5.5.4 Syntax error in parameters", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!_extended && path.Parameters.Count > 0)
        {
            // RFC 5321 §4.1.1.11: parameters are service extensions, which a session greeted with HELO has not got.
            Reply(555, "5.5.4 MAIL parameters need EHLO");
            return;
        }

        // The parameters take effect only with the 250: a refused MAIL leaves nothing behind for the next one.
        var smtpUtf8 = false;
        long declaredSize = 0;
        string? ret = null;
        string? envelopeId = null;
        foreach (var parameter in path.Parameters)
        {
            switch (parameter.Keyword)
            {
                case "SIZE":
                    // RFC 1870 §6: refuse up front when the declared size is over the limit. A size-value has up to 20
                    // digits (§3), more than a long holds: such a size is over any limit, not a syntax error.
                    if (parameter.Value is not { Length: > 0 and <= 20 } digits || !digits.All(char.IsAsciiDigit))
                    {
                        Reply(501, "5.5.4 Bad SIZE parameter");
                        return;
                    }

                    if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out declaredSize) || declaredSize > _config.Limits.MaxMessageSize)
                    {
                        Reply(552, "5.3.4 Message size exceeds fixed maximum message size");
                        return;
                    }

                    break;
                case "BODY":
                    if (parameter.Value is null || !(parameter.Value.Equals("7BIT", StringComparison.OrdinalIgnoreCase) || parameter.Value.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase)))
                    {
                        Reply(501, "5.5.4 Unsupported BODY type");
                        return;
                    }

                    break;
                case "SMTPUTF8" when parameter.Value is null:
                    smtpUtf8 = true;
                    break;
                case "RET" when parameter.Value is not null && (parameter.Value.Equals("FULL", StringComparison.OrdinalIgnoreCase) || parameter.Value.Equals("HDRS", StringComparison.OrdinalIgnoreCase)):
                    ret = parameter.Value.ToUpperInvariant();
                    break;
                case "ENVID" when parameter.Value is not null && parameter.Value.Length <= 100 && SmtpCommandParser.TryDecodeXtext(parameter.Value, out _):
                    envelopeId = parameter.Value;
                    break;
                case "AUTH" when parameter.Value is { Length: > 0 and <= 500 } && SmtpCommandParser.TryDecodeXtext(parameter.Value, out _):
                    // RFC 4954 §5: the AUTH= identity of a relayed message (xtext, or <> for none); accepted, not trusted.
                    break;
                default:
                    ParameterRefused(parameter.Keyword, "SMTPUTF8", "RET", "ENVID", "AUTH");
                    return;
            }
        }

        if (!path.IsAscii && !smtpUtf8)
        {
            // RFC 6531 §3.4: an internationalized address needs the SMTPUTF8 parameter.
            Reply(553, "5.6.7 Non-ASCII address requires SMTPUTF8");
            return;
        }

        if (_account is not null && !path.IsNull && !_settings.AllowAnySender && !await SenderBelongsToAccountAsync(path.Address, cancellationToken).ConfigureAwait(false))
        {
            Reply(553, $"5.7.1 <{path.Address}>: Sender address rejected: not owned by user {_account.Address}");
            return;
        }

        if (!HasRoomFor(declaredSize))
        {
            // RFC 1870 §6.1: a message that cannot be taken now for lack of storage gets 452; the sender tries later.
            Reply(452, "4.3.1 Insufficient system storage");
            return;
        }

        _transaction.DeclaredSize = declaredSize;
        _transaction.Ret = ret;
        _transaction.EnvelopeId = envelopeId;
        _transaction.Sender = path;
        _transaction.SmtpUtf8 = smtpUtf8;
        _state = SmtpState.Mail;
        Reply(250, "2.1.0 Ok");
    }

    /// <summary>Postfix's check at MAIL (queue_minfree): room for the largest message half as large again, and for this one.</summary>
    private bool HasRoomFor(long declaredSize)
    {
        if (StorageFull.AvailableBytes(_context.Store.Options) is not { } free)
        {
            return true;
        }

        var reserve = _settings.MinFreeBytes;
        return free > reserve && _config.Limits.MaxMessageSize * 3 / 2 < free && declaredSize * 3 / 2 <= free - reserve;
    }

    private async Task<bool> SenderBelongsToAccountAsync(string address, CancellationToken cancellationToken)
    {
        if (address.Equals(_account!.Address, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // An alias of the account is its own address too.
        var owner = await _context.Store.Directory.ResolveRecipientAsync(address, cancellationToken).ConfigureAwait(false);
        return owner is not null && owner.Id == _account.Id;
    }

    private async Task RcptAsync(string argument, CancellationToken cancellationToken)
    {
        var error = SmtpCommandParser.TryParsePath(argument, "TO:", allowNull: false, out var path, allowPostmaster: true);
        if (error == SmtpPathError.Syntax)
        {
            await BadCommandAsync(501, "5.1.3 Bad recipient address syntax", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (error != SmtpPathError.None || path is null)
        {
            await BadCommandAsync(501, "5.5.4 Syntax error in parameters", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (path.Address == SmtpCommandParser.Postmaster)
        {
            // RFC 5321 §4.5.1: "Postmaster" without a domain must be accepted (with its parameters, §4.1.1.3).
            var postmaster = await PostmasterAddressAsync(cancellationToken).ConfigureAwait(false);
            path = path with { Address = postmaster, IsAscii = System.Text.Ascii.IsValid(postmaster) };
        }

        else if (path.Domain.StartsWith('[') && IsOwnAddressLiteral(path.Domain))
        {
            // RFC 5321 §4.1.3: user@[this host's address] is this host's user, as Postfix takes it (its primary domain).
            var domains = await _context.Store.Directory.ListDomainsAsync(cancellationToken).ConfigureAwait(false);
            if (domains.Count > 0)
            {
                var local = path.Address[..path.Address.LastIndexOf('@')];
                path = path with { Address = local + "@" + domains[0].Name };
            }
        }

        if (_transaction.Recipients.Count >= _config.Limits.MaxRecipients)
        {
            // RFC 5321 §4.5.3.1.10: 452 lets the client send the rest in another transaction.
            Reply(452, "4.5.3 Error: too many recipients");
            return;
        }

        if (!_extended && path.Parameters.Count > 0)
        {
            Reply(555, "5.5.4 RCPT parameters need EHLO");
            return;
        }

        string? notify = null;
        string? orcpt = null;
        foreach (var parameter in path.Parameters)
        {
            switch (parameter.Keyword)
            {
                case "NOTIFY" when parameter.Value is not null && IsValidNotify(parameter.Value):
                    notify = parameter.Value.ToUpperInvariant();
                    break;
                case "ORCPT" when parameter.Value is not null && parameter.Value.Length <= 500 && SmtpCommandParser.IsOriginalRecipient(parameter.Value):
                    orcpt = parameter.Value;
                    break;
                default:
                    ParameterRefused(parameter.Keyword, "NOTIFY", "ORCPT");
                    return;
            }
        }

        if (!path.IsAscii && !_transaction.SmtpUtf8)
        {
            Reply(553, "5.6.7 Non-ASCII address requires SMTPUTF8");
            return;
        }

        var resolved = await ResolveLocalRecipientAsync(path, cancellationToken).ConfigureAwait(false);
        if (resolved.IsLocal)
        {
            if (resolved.Refusal is { } refusal)
            {
                Reply(refusal);
                return;
            }

            // A full mailbox refuses more mail (RFC 3463 X.2.2), as Dovecot and Exchange do; the account's usage is read
            // only for accounts with a quota.
            if (resolved.QuotaBytes > 0 &&
                await _context.Store.Mail.GetAccountUsageAsync(resolved.AccountId, cancellationToken).ConfigureAwait(false) + Math.Max(1, _transaction.DeclaredSize) > resolved.QuotaBytes)
            {
                Reply(552, $"5.2.2 <{path.Address}>: Mailbox full");
                return;
            }

            _transaction.Recipients.Add(new SmtpRecipient(path.Address, resolved.InboxId, notify, orcpt, resolved.AccountId, resolved.QuotaBytes));
        }
        else
        {
            // Not an open relay: foreign domains only for authenticated users or configured relay addresses.
            if (_account is null && !_settings.MayRelay(_connection.RemoteEndPoint.Address))
            {
                Reply(554, $"5.7.1 <{path.Address}>: Relay access denied");
                return;
            }

            _transaction.Recipients.Add(new SmtpRecipient(path.Address, null, notify, orcpt));
        }

        _state = SmtpState.Recipients;
        Reply(250, "2.1.5 Ok");
    }

    /// <summary>
    /// Whether the recipient is local and, if so, its INBOX. Resolved once per address per session: a client
    /// sending many messages to the same users (the common case) costs no store round trips after the first.
    /// Only definite answers are remembered; a session is short, so a change made meanwhile applies to the next one.
    /// </summary>
    private async Task<LocalRecipient> ResolveLocalRecipientAsync(SmtpPath path, CancellationToken cancellationToken)
    {
        if (_recipients.TryGetValue(path.Address, out var known))
        {
            return known;
        }

        // Most recipients are local users: resolve first, and ask about the domain only when that fails.
        var literal = path.Domain.StartsWith('[');
        var account = literal ? null : await _context.Store.Directory.ResolveRecipientAsync(path.Address, cancellationToken).ConfigureAwait(false);
        var isLocal = account is not null || (!literal && await _context.Store.Directory.IsLocalDomainAsync(path.Domain, cancellationToken).ConfigureAwait(false));
        LocalRecipient resolved;
        if (!isLocal)
        {
            resolved = new LocalRecipient(false, 0, null, 0, 0);
        }
        else if (account is null || !account.Enabled)
        {
            resolved = new LocalRecipient(true, 0, new SmtpReply(550, $"5.1.1 <{path.Address}>: Recipient address rejected: User unknown"), 0, 0);
        }
        else
        {
            var inbox = await _context.Store.Mail.GetMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false);
            if (inbox is null)
            {
                await _context.Store.Mail.EnsureDefaultMailboxesAsync(account.Id, cancellationToken).ConfigureAwait(false);
                inbox = await _context.Store.Mail.GetMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false);
            }

            if (inbox is null)
            {
                // Transient: not remembered.
                return new LocalRecipient(true, 0, new SmtpReply(451, "4.3.0 Error: recipient mailbox unavailable"), 0, 0);
            }

            resolved = new LocalRecipient(true, inbox.Id, null, account.Id, account.QuotaBytes);
        }

        if (_recipients.Count < MaxRememberedRecipients)
        {
            _recipients[path.Address] = resolved;
        }

        return resolved;
    }

    private async Task<string> PostmasterAddressAsync(CancellationToken cancellationToken)
    {
        var configured = await _context.Store.Configuration.GetSettingAsync(Store.SettingKeys.Postmaster, cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var domains = await _context.Store.Directory.ListDomainsAsync(cancellationToken).ConfigureAwait(false);
        return "postmaster@" + (domains.Count > 0 ? domains[0].Name : HostName);
    }

    /// <summary>Whether an address literal (RFC 5321 §4.1.3) names this host: the address the client reached, or any of its interfaces.</summary>
    private bool IsOwnAddressLiteral(string literal)
    {
        var text = literal[1..^1];
        if (text.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
        {
            text = text[5..];
        }

        if (!System.Net.IPAddress.TryParse(text, out var address))
        {
            return false;
        }

        var reached = _connection.LocalEndPoint.Address;
        if (address.Equals(reached.IsIPv4MappedToIPv6 ? reached.MapToIPv4() : reached) || System.Net.IPAddress.IsLoopback(address))
        {
            return true;
        }

        return InterfaceAddresses().Contains(address);
    }

    private static volatile InterfaceSnapshot s_interfaceAddresses = new(long.MinValue / 2, []);

    private sealed record InterfaceSnapshot(long Taken, HashSet<System.Net.IPAddress> Addresses);

    /// <summary>This host's interface addresses, read at most once a minute: a client naming literals in RCPT after RCPT must not make the server enumerate its interfaces each time.</summary>
    private static HashSet<System.Net.IPAddress> InterfaceAddresses()
    {
        var known = s_interfaceAddresses;
        if (Environment.TickCount64 - known.Taken < 60_000)
        {
            return known.Addresses;
        }

        HashSet<System.Net.IPAddress> addresses;
        try
        {
            addresses = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(u => u.Address)
                .ToHashSet();
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            addresses = [];
        }

        s_interfaceAddresses = new InterfaceSnapshot(Environment.TickCount64, addresses);
        return addresses;
    }

    /// <summary>RFC 3461 §4.1: NEVER alone, or a list of SUCCESS, FAILURE, DELAY.</summary>
    private static bool IsValidNotify(string value)
    {
        var items = value.ToUpperInvariant().Split(',');
        if (items.Length == 1 && items[0] == "NEVER")
        {
            return true;
        }

        return items.All(i => i is "SUCCESS" or "FAILURE" or "DELAY") && items.Distinct().Count() == items.Length;
    }

    /// <summary>
    /// A parameter this server knows with a value it cannot take is a syntax error (501, as Postfix answers a bad
    /// NOTIFY); one it does not know is 555 (RFC 5321 §4.1.1.11).
    /// </summary>
    private void ParameterRefused(string keyword, params string[] known)
    {
        if (known.Contains(keyword, StringComparer.OrdinalIgnoreCase))
        {
            Reply(501, "5.5.4 Invalid " + keyword + " parameter");
        }
        else
        {
            Reply(555, "5.5.4 Unsupported parameter " + keyword);
        }
    }
}

/// <summary>A recipient's verdict: local or not; for a local one, its INBOX or why it is refused.</summary>
internal readonly record struct LocalRecipient(bool IsLocal, long InboxId, SmtpReply? Refusal, long AccountId, long QuotaBytes);
