using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Postern.Protocols.Nntp;
using Postern.Protocols.Sasl;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>One NNTP session: reader commands (RFC 3977), STARTTLS (RFC 4642), AUTHINFO (RFC 4643), transit and streaming (RFC 4644).</summary>
internal sealed class NntpSession
{
    private const int FlushThreshold = 256 * 1024;

    // RFC 4643 §2.4: AUTHINFO SASL lines (initial responses) may be longer than 512 octets; only they get this limit.
    private const int SaslLineLength = 12288;

    private static readonly string[] s_overviewFields = ["Subject", "From", "Date", "Message-ID", "References"];

    /// <summary>An address no account has: its rights are those every logged-on account gets.</summary>
    private const string AnyAccount = "\u0001any-account";

    /// <summary>Articles read from the store at a time for LISTGROUP, OVER and HDR over a range.</summary>
    private const int PageSize = 1000;

    private readonly MailConnection _connection;
    private readonly LineChannel _channel;
    private readonly ServerContext _context;
    private readonly VirtualServer _config;
    private readonly ILogger _logger;
    private readonly Authenticator _authenticator;
    private readonly NewsArticleIntake _intake;
    private readonly bool _trustPeerAddresses;
    private readonly bool _streaming;

    private Account? _account;
    private string? _pendingUser;
    private PublicFolder? _group;
    private long? _current;
    private bool? _isPeer;
    private int _badCommands;
    private int _authFailures;
    private bool _quit;
    private bool _compressed;

    private readonly Action? _articleAccepted;

    public NntpSession(MailConnection connection, ServerContext context, Action? articleAccepted = null)
    {
        _articleAccepted = articleAccepted;
        _connection = connection;
        _channel = new LineChannel(connection);
        _context = context;
        _config = connection.VirtualServer.Config;
        _logger = context.LoggerFactory.CreateLogger<NntpSession>();
        _authenticator = new Authenticator(context);
        var identity = _config.Settings.TryGetValue(NntpDefaults.PathIdentitySetting, out var configured) && configured.Length > 0 ? configured : context.HostName;
        _intake = new NewsArticleIntake(context.Store, identity, context.Time);
        _streaming = !_config.Settings.TryGetValue(NntpDefaults.StreamingSetting, out var streaming) || !streaming.Equals("false", StringComparison.OrdinalIgnoreCase);
        _trustPeerAddresses = !_config.Settings.TryGetValue(NntpDefaults.TrustPeerAddressesSetting, out var trust) || !trust.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    private bool IsAuthenticated => _account is not null;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // RFC 3977 §5.1: 200 posting allowed, 201 not; posting may depend on the login, so 200 unless nothing could ever be posted.
        _channel.WriteLine($"200 {_context.HostName} Postern NNTP service ready");
        while (!_quit)
        {
            var timeout = TimeSpan.FromSeconds(IsAuthenticated ? _config.Limits.AuthenticatedIdleTimeoutSeconds : _config.Limits.IdleTimeoutSeconds);
            var line = await _channel.ReadLineAsync(Math.Max(_config.Limits.MaxLineLength, SaslLineLength), timeout, cancellationToken).ConfigureAwait(false);
            switch (line.Kind)
            {
                case LineResultKind.Closed:
                    return;
                case LineResultKind.Timeout:
                    _channel.WriteLine("400 Idle timeout, closing connection");
                    await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
                    return;
                case LineResultKind.TooLong:
                    // RFC 3977 §3.1: a command line is limited to 512 octets.
                    _channel.WriteLine("501 Command line too long");
                    if (await CountBadCommandAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
            }

            var status = NntpCommandParser.TryParse(line.Bytes, out var command);
            if (status == NntpParseStatus.Ok && line.Bytes.Length > _config.Limits.MaxLineLength && !(command.Keyword == "AUTHINFO" && command.Argument(0)?.ToUpperInvariant() == "SASL"))
            {
                _channel.WriteLine("501 Command line too long");
                if (await CountBadCommandAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (status != NntpParseStatus.Ok)
            {
                _channel.WriteLine(status == NntpParseStatus.Empty ? "500 Empty command" : "501 Invalid characters in command");
                if (await CountBadCommandAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            bool ok;
            try
            {
                ok = await DispatchAsync(command, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not IOException and not ObjectDisposedException and not InvalidOperationException)
            {
                _logger.LogError(ex, "NNTP command {Command} failed", command.Keyword);
                _channel.WriteLine("403 Internal fault, try again later");
                ok = true;
            }

            if (!ok && await CountBadCommandAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (_connection.Output.UnflushedBytes > FlushThreshold)
            {
                await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<bool> CountBadCommandAsync(CancellationToken cancellationToken)
    {
        if (++_badCommands <= _config.Limits.MaxBadCommands)
        {
            return false;
        }

        _channel.WriteLine("400 Too many errors, closing connection");
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Runs one command; false counts as a bad command (unknown or syntax error).</summary>
    private async Task<bool> DispatchAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        switch (command.Keyword)
        {
            case "CAPABILITIES":
                Capabilities();
                return true;
            case "MODE":
                return Mode(command);
            case "QUIT":
                _channel.WriteLine("205 Connection closing");
                _quit = true;
                return true;
            case "DATE":
                _channel.WriteLine("111 " + NntpSyntax.FormatDate(_context.Time.GetUtcNow()));
                return true;
            case "HELP":
                Help();
                return true;
            case "STARTTLS":
                await StartTlsAsync(cancellationToken).ConfigureAwait(false);
                return true;
            case "AUTHINFO":
                return await AuthInfoAsync(command, cancellationToken).ConfigureAwait(false);
            case "COMPRESS":
                return await CompressAsync(command, cancellationToken).ConfigureAwait(false);
        }

        if (_config.RequireAuthentication && !IsAuthenticated && !await IsPeerAsync(cancellationToken).ConfigureAwait(false))
        {
            // RFC 4643 §2.3: 480 before the client has authenticated.
            _channel.WriteLine(_connection.IsSecure || !_config.Security.RequireSecureChannel ? "480 Authentication required" : "483 Encryption and authentication required");
            return true;
        }

        // Commands about one article run on the socket's event thread (EventThread); listings, ranges and group scans do not.
        await EventThread.ToThreadPoolIf(command.Keyword is not ("NEXT" or "LAST" or "ARTICLE" or "HEAD" or "BODY" or "STAT" or "POST" or "IHAVE" or "CHECK" or "TAKETHIS"));
        switch (command.Keyword)
        {
            case "GROUP":
                return await GroupAsync(command, listGroup: false, cancellationToken).ConfigureAwait(false);
            case "LISTGROUP":
                return await GroupAsync(command, listGroup: true, cancellationToken).ConfigureAwait(false);
            case "LIST":
                return await ListAsync(command, cancellationToken).ConfigureAwait(false);
            case "NEXT":
            case "LAST":
                await NextLastAsync(command.Keyword == "NEXT", cancellationToken).ConfigureAwait(false);
                return true;
            case "ARTICLE":
            case "HEAD":
            case "BODY":
            case "STAT":
                return await ArticleAsync(command, cancellationToken).ConfigureAwait(false);
            case "OVER":
            case "XOVER":
                return await OverAsync(command, cancellationToken).ConfigureAwait(false);
            case "HDR":
            case "XHDR":
            case "XPAT":
                return await HdrAsync(command, cancellationToken).ConfigureAwait(false);
            case "NEWGROUPS":
                return await NewGroupsAsync(command, cancellationToken).ConfigureAwait(false);
            case "NEWNEWS":
                return await NewNewsAsync(command, cancellationToken).ConfigureAwait(false);
            case "POST":
                await PostAsync(cancellationToken).ConfigureAwait(false);
                return true;
            case "IHAVE":
                return await IHaveAsync(command, cancellationToken).ConfigureAwait(false);
            case "CHECK" when _streaming:
                return await CheckAsync(command, cancellationToken).ConfigureAwait(false);
            case "TAKETHIS" when _streaming:
                return await TakeThisAsync(command, cancellationToken).ConfigureAwait(false);
            default:
                _channel.WriteLine("500 Unknown command");
                return false;
        }
    }

    private void Capabilities()
    {
        _channel.WriteLine("101 Capability list:");
        _channel.WriteLine("VERSION 2");
        _channel.WriteLine("IMPLEMENTATION Postern");
        _channel.WriteLine("READER");
        _channel.WriteLine("POST");
        _channel.WriteLine("IHAVE");
        if (_streaming)
        {
            _channel.WriteLine("STREAMING");
        }

        _channel.WriteLine("NEWNEWS");
        _channel.WriteLine("HDR");
        _channel.WriteLine("XPAT");
        _channel.WriteLine("OVER MSGID");
        _channel.WriteLine("LIST ACTIVE ACTIVE.TIMES COUNTS DISTRIB.PATS DISTRIBUTIONS HEADERS MODERATORS" + (Motd is null ? "" : " MOTD") + " NEWSGROUPS OVERVIEW.FMT SUBSCRIPTIONS");
        if (_connection.CanStartTls && !IsAuthenticated)
        {
            _channel.WriteLine("STARTTLS");
        }

        if (IsAuthenticated && !_compressed)
        {
            _channel.WriteLine("COMPRESS DEFLATE");
        }

        if (!IsAuthenticated)
        {
            // RFC 4643 §2.1: AUTHINFO without arguments says authentication exists but is not available now (e.g. before TLS).
            if (Authenticator.MayAuthenticate(_connection))
            {
                var mechanisms = SaslMechanisms().ToList();
                _channel.WriteLine(mechanisms.Count > 0 ? "AUTHINFO USER SASL" : "AUTHINFO USER");
                if (mechanisms.Count > 0)
                {
                    _channel.WriteLine("SASL " + string.Join(' ', mechanisms));
                }
            }
            else
            {
                _channel.WriteLine("AUTHINFO");
            }
        }

        _channel.WriteLine(".");
    }

    private IEnumerable<string> SaslMechanisms()
    {
        if (_config.AuthenticationMethods.Contains("PLAIN", StringComparer.OrdinalIgnoreCase))
        {
            yield return "PLAIN";
        }

        if (_connection.Tls?.ClientCertificate is not null && _config.AuthenticationMethods.Contains("EXTERNAL", StringComparer.OrdinalIgnoreCase))
        {
            yield return "EXTERNAL";
        }
    }

    private bool Mode(NntpCommand command)
    {
        switch (command.Argument(0)?.ToUpperInvariant())
        {
            case "READER":
                // RFC 3977 §5.3: this server is always a reader; 200 when posting is possible.
                _channel.WriteLine("200 Reader mode, posting permitted");
                return true;
            case "STREAM" when _streaming:
                // RFC 4644 §2.3.
                _channel.WriteLine("203 Streaming permitted");
                return true;
            default:
                _channel.WriteLine("501 Unknown MODE variant");
                return false;
        }
    }

    private void Help()
    {
        _channel.WriteLine("100 Help text follows");
        foreach (var line in new[]
        {
            "ARTICLE [message-id|number]", "AUTHINFO USER name|PASS password|SASL mechanism [initial-response]", "BODY [message-id|number]",
            "CAPABILITIES", "CHECK message-id", "DATE", "GROUP newsgroup", "HDR header [message-id|range]", "HEAD [message-id|number]", "HELP",
            "IHAVE message-id", "LAST", "LIST [ACTIVE|ACTIVE.TIMES|COUNTS|DISTRIB.PATS|DISTRIBUTIONS|HEADERS|MODERATORS|MOTD|NEWSGROUPS|OVERVIEW.FMT|SUBSCRIPTIONS] [wildmat]",
            "LISTGROUP [newsgroup [range]]", "MODE READER|STREAM", "NEWGROUPS [yy]yymmdd hhmmss [GMT]", "NEWNEWS wildmat [yy]yymmdd hhmmss [GMT]",
            "NEXT", "OVER [message-id|range]", "POST", "QUIT", "STARTTLS", "STAT [message-id|number]", "TAKETHIS message-id",
            "XPAT header message-id|range pattern [pattern ...]",
        })
        {
            _channel.WriteLine("  " + line);
        }

        _channel.WriteLine(".");
    }

    private async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        // RFC 4642 §2.2.1: not after TLS is on or after authentication.
        if (_connection.IsSecure || IsAuthenticated)
        {
            _channel.WriteLine("502 Command unavailable");
            return;
        }

        if (!_connection.CanStartTls)
        {
            _channel.WriteLine("580 Can not initiate TLS negotiation");
            return;
        }

        _channel.WriteLine("382 Continue with TLS negotiation");
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (!await _connection.UpgradeToTlsAsync(cancellationToken).ConfigureAwait(false))
        {
            _quit = true;
            return;
        }

        // RFC 4642 §2.2.2: the client MUST discard knowledge from before; so do we (pipelined input went with the old pipe).
        _account = null;
        _pendingUser = null;
        _group = null;
        _current = null;
        _isPeer = null;
    }

    /// <summary>
    /// RFC 8054: DEFLATE on both directions from the line after the 206 reply. Offered only after authentication,
    /// so credentials are never in a compressed stream an attacker could probe (compression oracles).
    /// </summary>
    private async Task<bool> CompressAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        if (!string.Equals(command.Argument(0), "DEFLATE", StringComparison.OrdinalIgnoreCase) || command.Arguments.Count != 1)
        {
            _channel.WriteLine("501 Only COMPRESS DEFLATE is supported");
            return false;
        }

        if (_compressed)
        {
            // RFC 8054 §2.2.2: compression is already active.
            _channel.WriteLine("502 Compression already active");
            return true;
        }

        if (!IsAuthenticated)
        {
            _channel.WriteLine("480 Authentication required before compression");
            return true;
        }

        _channel.WriteLine("206 Compression active");
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Built over the current pipes, so compressed bytes the client already pipelined are not lost.
        var inflate = new System.IO.Compression.DeflateStream(_connection.Input.AsStream(leaveOpen: true), System.IO.Compression.CompressionMode.Decompress);
        var deflate = new System.IO.Compression.DeflateStream(_connection.Output.AsStream(leaveOpen: true), System.IO.Compression.CompressionLevel.Fastest);
        _connection.ReplaceTransport(
            System.IO.Pipelines.PipeReader.Create(inflate, new System.IO.Pipelines.StreamPipeReaderOptions(leaveOpen: false)),
            System.IO.Pipelines.PipeWriter.Create(deflate, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: false)));
        _compressed = true;
        return true;
    }

    private async Task<bool> AuthInfoAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var sub = command.Argument(0)?.ToUpperInvariant();
        if (sub is not ("USER" or "PASS" or "SASL") || command.Arguments.Count < 2)
        {
            _channel.WriteLine("501 Syntax: AUTHINFO USER name | AUTHINFO PASS password | AUTHINFO SASL mechanism [initial-response]");
            return false;
        }

        if (IsAuthenticated)
        {
            // RFC 4643 §2.2: after a successful AUTHINFO, it is no longer available.
            _channel.WriteLine("502 Already authenticated");
            return true;
        }

        if (!Authenticator.MayAuthenticate(_connection))
        {
            // RFC 4643 §2.2: 483 when the server requires encryption first.
            _channel.WriteLine("483 Encryption required, use STARTTLS first");
            return true;
        }

        switch (sub)
        {
            case "USER":
                // RFC 4643 §2.3.1: the user name may contain spaces; take the rest of the arguments.
                _pendingUser = string.Join(' ', command.Arguments.Skip(1));
                _channel.WriteLine("381 Password required");
                return true;
            case "PASS":
                if (_pendingUser is null)
                {
                    _channel.WriteLine("482 Authentication commands issued out of sequence");
                    return true;
                }

                var user = _pendingUser;
                _pendingUser = null;
                var result = await _authenticator.AuthenticateAsync(_connection, user, string.Join(' ', command.Arguments.Skip(1)), null, cancellationToken).ConfigureAwait(false);
                await CompleteAuthenticationAsync(result, cancellationToken).ConfigureAwait(false);
                return true;
            default:
                return await SaslAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> SaslAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var mechanism = command.Argument(1)!.ToUpperInvariant();
        if (!SaslMechanisms().Contains(mechanism))
        {
            // RFC 4643 §2.4.2: 503 for an unsupported mechanism.
            _channel.WriteLine("503 Mechanism not available");
            return true;
        }

        var response = command.Argument(2);
        if (response is null)
        {
            // RFC 4643 §2.4.1: an empty challenge asks for the initial response.
            _channel.WriteLine("383 ");
            var line = await _channel.ReadLineAsync(SaslLineLength, TimeSpan.FromSeconds(_config.Limits.IdleTimeoutSeconds), cancellationToken).ConfigureAwait(false);
            if (line.Kind != LineResultKind.Line)
            {
                _quit = line.Kind != LineResultKind.TooLong;
                _channel.WriteLine("501 Invalid SASL response");
                return !_quit;
            }

            response = line.Text.Trim();
            if (response == "*")
            {
                _channel.WriteLine("481 Authentication cancelled");
                return true;
            }
        }

        AuthenticationResult result;
        if (mechanism == "PLAIN")
        {
            if (!SaslPlain.TryDecode(response, out var credentials))
            {
                _channel.WriteLine("504 Invalid base64 or PLAIN message");
                return true;
            }

            result = await _authenticator.AuthenticateAsync(_connection, credentials.AuthenticationId, credentials.Password, credentials.AuthorizationId, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (!SaslPlain.TryDecodeText(response, out var authzid))
            {
                _channel.WriteLine("504 Invalid base64");
                return true;
            }

            result = await _authenticator.AuthenticateExternalAsync(_connection, authzid, cancellationToken).ConfigureAwait(false);
        }

        await CompleteAuthenticationAsync(result, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task CompleteAuthenticationAsync(AuthenticationResult result, CancellationToken cancellationToken)
    {
        if (result.Outcome == AuthenticationOutcome.Success)
        {
            _account = result.Account;
            _channel.WriteLine("281 Authentication accepted");
            return;
        }

        _channel.WriteLine(result.Outcome == AuthenticationOutcome.NeedsEncryption ? "483 Encryption or client certificate required" : "481 Authentication failed");
        if (++_authFailures >= _config.Limits.MaxAuthFailures)
        {
            _channel.WriteLine("400 Too many authentication failures, closing connection");
            await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
            _quit = true;
        }
    }

    /// <summary>Whether the client connects from a configured news peer's address (transit and full read without AUTHINFO).</summary>
    private async ValueTask<bool> IsPeerAsync(CancellationToken cancellationToken)
    {
        if (_isPeer is not null)
        {
            return _isPeer.Value;
        }

        _isPeer = false;
        if (!_trustPeerAddresses)
        {
            return false;
        }

        var remote = _connection.RemoteEndPoint.Address;
        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        foreach (var peer in await _context.Store.PublicFolders.ListPeersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!peer.Enabled)
            {
                continue;
            }

            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(peer.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(peer.Host, cancellationToken).ConfigureAwait(false);
            }
            catch (System.Net.Sockets.SocketException)
            {
                continue;
            }

            if (addresses.Any(a => (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(remote)))
            {
                _isPeer = true;
                break;
            }
        }

        return _isPeer.Value;
    }

    private async ValueTask<PublicFolderRights> RightsAsync(PublicFolder folder, CancellationToken cancellationToken)
    {
        if (folder.Newsgroup is null)
        {
            return PublicFolderRights.None;
        }

        var rights = folder.RightsOf(_account?.Address);
        if (await IsPeerAsync(cancellationToken).ConfigureAwait(false))
        {
            rights |= PublicFolderRights.Read;
        }

        return rights;
    }

    private async Task<List<(PublicFolder Folder, PublicFolderRights Rights)>> VisibleGroupsAsync(CancellationToken cancellationToken)
    {
        var groups = new List<(PublicFolder, PublicFolderRights)>();
        foreach (var folder in await _context.Store.PublicFolders.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
        {
            var rights = await RightsAsync(folder, cancellationToken).ConfigureAwait(false);
            if (rights.HasFlag(PublicFolderRights.Read))
            {
                groups.Add((folder, rights));
            }
        }

        groups.Sort((a, b) => string.CompareOrdinal(a.Item1.Newsgroup, b.Item1.Newsgroup));
        return groups;
    }

    /// <summary>
    /// Writes 480 (483 where credentials need TLS first) when this client may read no newsgroup until it logs on
    /// but an account could: slrn and tin send AUTHINFO on 480 (RFC 4643 §2.1), while an empty list would tell
    /// them the server carries no groups. INN's nnrpd answers the same way.
    /// </summary>
    private async Task<bool> RefusedUntilLogonAsync(List<(PublicFolder Folder, PublicFolderRights Rights)> visible, CancellationToken cancellationToken)
    {
        if (IsAuthenticated || visible.Count > 0)
        {
            return false;
        }

        var folders = await _context.Store.PublicFolders.ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        if (!folders.Any(f => f.Newsgroup is not null && f.RightsOf(AnyAccount).HasFlag(PublicFolderRights.Read)))
        {
            return false;
        }

        _channel.WriteLine(Authenticator.MayAuthenticate(_connection) ? "480 Authentication required" : "483 Encryption required, use STARTTLS first");
        return true;
    }

    /// <summary>A readable newsgroup by name, or null after writing 411 (or 480 when logging on could help).</summary>
    private async Task<PublicFolder?> OpenGroupAsync(string name, CancellationToken cancellationToken)
    {
        var folder = PublicFolderNames.IsValidNewsgroup(name) ? await _context.Store.PublicFolders.FindNewsgroupAsync(name, cancellationToken).ConfigureAwait(false) : null;
        if (folder is not null && (await RightsAsync(folder, cancellationToken).ConfigureAwait(false)).HasFlag(PublicFolderRights.Read))
        {
            return folder;
        }

        if (folder is not null && !IsAuthenticated && folder.RightsOf(AnyAccount).HasFlag(PublicFolderRights.Read))
        {
            _channel.WriteLine("480 Authentication required for this newsgroup");
            return null;
        }

        _channel.WriteLine("411 No such newsgroup");
        return null;
    }

    private async Task<bool> GroupAsync(NntpCommand command, bool listGroup, CancellationToken cancellationToken)
    {
        var name = command.Argument(0);
        if (name is null && !listGroup)
        {
            _channel.WriteLine("501 Syntax: GROUP newsgroup");
            return false;
        }

        PublicFolder? folder;
        if (name is null)
        {
            folder = _group;
            if (folder is null)
            {
                _channel.WriteLine("412 No newsgroup selected");
                return true;
            }
        }
        else
        {
            folder = await OpenGroupAsync(name, cancellationToken).ConfigureAwait(false);
            if (folder is null)
            {
                return true;
            }
        }

        long low = 1, high = long.MaxValue;
        if (listGroup && command.Argument(1) is { } range && !NntpSyntax.TryParseRange(range, out low, out high))
        {
            _channel.WriteLine("501 Invalid range");
            return false;
        }

        var summary = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
        _group = folder;

        // RFC 3977 §6.1.1.2: the current article becomes the first one (none if the group is empty).
        _current = summary.Count > 0 ? summary.Low : null;
        _channel.WriteLine($"211 {summary.Count} {summary.Low} {summary.High} {folder.Newsgroup}{(listGroup ? " list follows" : "")}");
        if (listGroup)
        {
            await foreach (var page in PagesAsync(folder.Id, [], low, high, cancellationToken).ConfigureAwait(false))
            {
                foreach (var message in page)
                {
                    _channel.WriteLine(message.Number.ToString(CultureInfo.InvariantCulture));
                }
            }

            _channel.WriteLine(".");
        }

        return true;
    }

    private async Task<bool> ListAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var keyword = command.Argument(0)?.ToUpperInvariant() ?? "ACTIVE";
        var wildmat = command.Argument(1);
        if (wildmat is not null && !Wildmat.IsValid(wildmat))
        {
            _channel.WriteLine("501 Invalid wildmat");
            return false;
        }

        switch (keyword)
        {
            case "ACTIVE":
            case "ACTIVE.TIMES":
            case "COUNTS":
            case "MODERATORS":
            case "NEWSGROUPS":
            case "SUBSCRIPTIONS":
                var visible = await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false);
                if (await RefusedUntilLogonAsync(visible, cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }

                var groups = visible.Where(g => wildmat is null || Wildmat.Matches(wildmat, g.Folder.Newsgroup!)).ToList();
                _channel.WriteLine(keyword switch
                {
                    "ACTIVE" => "215 List of newsgroups follows",
                    "ACTIVE.TIMES" => "215 Information about creation follows",
                    "COUNTS" => "215 List of newsgroups follows",
                    "MODERATORS" => "215 List of submission address formats follows",
                    "SUBSCRIPTIONS" => "215 List of recommended newsgroups follows",
                    _ => "215 Descriptions follow",
                });
                foreach (var (folder, rights) in groups)
                {
                    switch (keyword)
                    {
                        case "ACTIVE":
                            var summary = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
                            _channel.WriteLine($"{folder.Newsgroup} {summary.High} {summary.Low} {PostingStatus(folder, rights)}");
                            break;
                        case "COUNTS":
                            // RFC 6048 §2.2: as ACTIVE, with the article count before the status.
                            var counts = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
                            _channel.WriteLine($"{folder.Newsgroup} {counts.High} {counts.Low} {counts.Count} {PostingStatus(folder, rights)}");
                            break;
                        case "MODERATORS":
                            // RFC 6048 §2.4: newsgroup pattern ":" submission address; a '%' in an address is doubled.
                            if (folder.Moderated && !string.IsNullOrEmpty(folder.Moderator))
                            {
                                _channel.WriteLine($"{folder.Newsgroup}:{folder.Moderator.Replace("%", "%%", StringComparison.Ordinal)}");
                            }

                            break;
                        case "SUBSCRIPTIONS":
                            // RFC 6048 §2.6: the groups a new reader starts with (tin subscribes them on first use).
                            _channel.WriteLine(folder.Newsgroup!);
                            break;
                        case "ACTIVE.TIMES":
                            _channel.WriteLine($"{folder.Newsgroup} {folder.Created.ToUnixTimeSeconds()} {_intake.PathIdentity}");
                            break;
                        default:
                            _channel.WriteLine($"{folder.Newsgroup}\t{OneLine(folder.Description ?? folder.Path)}");
                            break;
                    }
                }

                _channel.WriteLine(".");
                return true;
            case "OVERVIEW.FMT":
                // RFC 3977 §8.4.
                _channel.WriteLine("215 Order of fields in overview database");
                foreach (var field in s_overviewFields)
                {
                    _channel.WriteLine(field + ":");
                }

                // RFC 3977 §8.4.2 allows "Bytes:" and "Lines:" for the metadata items, for existing clients; INN
                // answers so, and slrn turns XOVER off on ":bytes".
                _channel.WriteLine("Bytes:");
                _channel.WriteLine("Lines:");
                _channel.WriteLine("Xref:full");
                _channel.WriteLine(".");
                return true;
            case "HEADERS":
                // RFC 3977 §8.6: ":" means any header can be asked for.
                _channel.WriteLine("215 Field list follows");
                _channel.WriteLine(":");
                _channel.WriteLine(":bytes");
                _channel.WriteLine(":lines");
                _channel.WriteLine(".");
                return true;
            case "DISTRIB.PATS":
            case "DISTRIBUTIONS":
                // Postern defines no distributions (RFC 3977 §7.6.5, RFC 6048 §2.3): an empty list.
                _channel.WriteLine(keyword == "DISTRIB.PATS" ? "215 Default distributions follow" : "215 List of distributions follows");
                _channel.WriteLine(".");
                return true;
            case "MOTD" when Motd is null:
                _channel.WriteLine("503 No message of the day is set");
                return true;
            case "MOTD":
                // RFC 6048 §2.5: free text, dot-stuffed like any block.
                _channel.WriteLine("215 Message of the day follows");
                foreach (var line in Motd.Split('\n'))
                {
                    WriteDataLine(line.TrimEnd('\r'));
                }

                _channel.WriteLine(".");
                return true;
            default:
                _channel.WriteLine("501 Unknown LIST keyword");
                return false;
        }
    }

    private static char PostingStatus(PublicFolder folder, PublicFolderRights rights) =>
        folder.Moderated ? 'm' : rights.HasFlag(PublicFolderRights.Post) ? 'y' : 'n';

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Replace('\t', ' ');

    private async Task NextLastAsync(bool next, CancellationToken cancellationToken)
    {
        if (_group is null)
        {
            _channel.WriteLine("412 No newsgroup selected");
            return;
        }

        if (_current is null)
        {
            _channel.WriteLine("420 Current article number is invalid");
            return;
        }

        var current = _current.Value;
        var candidates = next
            ? await _context.Store.PublicFolders.ListMessagesPageAsync(_group.Id, current + 1, long.MaxValue, 1, fromHighEnd: false, cancellationToken).ConfigureAwait(false)
            : await _context.Store.PublicFolders.ListMessagesPageAsync(_group.Id, 1, current - 1, 1, fromHighEnd: true, cancellationToken).ConfigureAwait(false);
        var found = candidates.Count == 0 ? null : candidates[0];
        if (found is null)
        {
            _channel.WriteLine(next ? "421 No next article in this group" : "422 No previous article in this group");
            return;
        }

        _current = found.Number;
        _channel.WriteLine($"223 {found.Number} {found.MessageId ?? "<0>"} retrieved");
    }

    /// <summary>Finds a readable copy of an article by Message-ID; with <paramref name="includeControl"/> a kept cancel too.</summary>
    private async Task<PublicMessage?> FindReadableAsync(string messageId, CancellationToken cancellationToken, bool includeControl = false)
    {
        foreach (var copy in await _context.Store.PublicFolders.FindByMessageIdAsync(messageId, cancellationToken).ConfigureAwait(false))
        {
            var folder = copy.FolderId == _group?.Id ? _group : await _context.Store.PublicFolders.GetFolderByIdAsync(copy.FolderId, cancellationToken).ConfigureAwait(false);
            if (folder is not null && (await RightsAsync(folder, cancellationToken).ConfigureAwait(false)).HasFlag(PublicFolderRights.Read))
            {
                return copy;
            }
        }

        // A cancel control article, to whoever may read one of its groups; it has no number.
        if (includeControl && await _context.Store.PublicFolders.FindControlArticleAsync(messageId, cancellationToken).ConfigureAwait(false) is { } control)
        {
            var readable = (await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false)).Select(g => g.Folder.Newsgroup!).ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (control.Newsgroups.Any(readable.Contains))
            {
                return new PublicMessage(0, 0, 0, control.BlobId, 0, 0, control.MessageId, control.Received, []);
            }
        }

        return null;
    }

    private async Task<bool> ArticleAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var argument = command.Argument(0);
        PublicMessage? message;
        long number;
        if (argument is not null && argument.StartsWith('<'))
        {
            if (!NntpSyntax.IsMessageId(argument))
            {
                _channel.WriteLine("501 Invalid message-id");
                return false;
            }

            message = await FindReadableAsync(argument, cancellationToken, includeControl: true).ConfigureAwait(false);
            if (message is null)
            {
                _channel.WriteLine("430 No article with that message-id");
                return true;
            }

            // RFC 3977 §6.2.1.2: by message-id the current article is unchanged; the number is 0 unless it is in the current group.
            number = message.FolderId == _group?.Id ? message.Number : 0;
        }
        else
        {
            if (argument is not null && !NntpSyntax.TryParseNumber(argument, out _))
            {
                _channel.WriteLine("501 Invalid article number");
                return false;
            }

            if (_group is null)
            {
                _channel.WriteLine("412 No newsgroup selected");
                return true;
            }

            if (argument is null && _current is null)
            {
                _channel.WriteLine("420 Current article number is invalid");
                return true;
            }

            number = argument is null ? _current!.Value : long.Parse(argument, CultureInfo.InvariantCulture);
            message = await _context.Store.PublicFolders.GetMessageAsync(_group.Id, number, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                _channel.WriteLine(argument is null ? "420 Current article number is invalid" : "423 No article with that number");
                return true;
            }

            _current = number;
        }

        var id = message.MessageId ?? "<0>";
        switch (command.Keyword)
        {
            case "STAT":
                _channel.WriteLine($"223 {number} {id}");
                return true;
        }

        var content = await _context.Store.PublicFolders.ReadContentAsync(message.BlobId, cancellationToken).ConfigureAwait(false);
        if (content.Length == 0)
        {
            // Removed (expunged by a moderator) between the lookup and the read.
            _channel.WriteLine(argument is not null && argument.StartsWith('<') ? "430 No article with that message-id" : "423 No article with that number");
            return true;
        }

        if (command.Keyword == "ARTICLE")
        {
            _channel.WriteLine($"220 {number} {id}");
            NntpDotStuffing.WriteBlock(_connection.Output, content);
            return true;
        }

        var (headerLength, bodyStart) = NewsArticle.FindHeaderEnd(content);
        if (command.Keyword == "HEAD")
        {
            _channel.WriteLine($"221 {number} {id}");
            NntpDotStuffing.WriteBlock(_connection.Output, content.AsSpan(0, headerLength));
        }
        else
        {
            _channel.WriteLine($"222 {number} {id}");
            NntpDotStuffing.WriteBlock(_connection.Output, content.AsSpan(bodyStart));
        }

        return true;
    }

    /// <summary>The messages an OVER or HDR argument names, or null after writing the error reply.</summary>
    /// <summary>What OVER and HDR are asked for: the first page, and where a range goes on (see <see cref="PagesAsync"/>).</summary>
    private sealed record Selection(IReadOnlyList<PublicMessage> First, long FolderId, long High);

    private async Task<Selection?> SelectAsync(string? argument, CancellationToken cancellationToken)
    {
        if (argument is not null && argument.StartsWith('<'))
        {
            if (!NntpSyntax.IsMessageId(argument))
            {
                _channel.WriteLine("501 Invalid message-id");
                return null;
            }

            var message = await FindReadableAsync(argument, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                _channel.WriteLine("430 No article with that message-id");
                return null;
            }

            return new Selection([message], message.FolderId, message.Number);
        }

        long low = 0, high = 0;
        if (argument is not null && !NntpSyntax.TryParseRange(argument, out low, out high))
        {
            _channel.WriteLine("501 Invalid range");
            return null;
        }

        if (_group is null)
        {
            _channel.WriteLine("412 No newsgroup selected");
            return null;
        }

        if (argument is null)
        {
            if (_current is null)
            {
                _channel.WriteLine("420 Current article number is invalid");
                return null;
            }

            low = high = _current.Value;
        }

        var first = low > high ? [] : await _context.Store.PublicFolders.ListMessagesPageAsync(_group.Id, low, high, PageSize, fromHighEnd: false, cancellationToken).ConfigureAwait(false);
        if (first.Count == 0)
        {
            _channel.WriteLine(argument is null ? "420 Current article number is invalid" : "423 No articles in that range");
            return null;
        }

        return new Selection(first, _group.Id, high);
    }

    /// <summary>
    /// The messages of a range a page at a time, after <paramref name="first"/> (empty: from <paramref name="low"/>), so
    /// that OVER 1- or LISTGROUP on a large group never holds the whole group in memory.
    /// </summary>
    private async IAsyncEnumerable<IReadOnlyList<PublicMessage>> PagesAsync(long folderId, IReadOnlyList<PublicMessage> first, long low, long high,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = first.Count > 0 ? first
            : await _context.Store.PublicFolders.ListMessagesPageAsync(folderId, low, high, PageSize, fromHighEnd: false, cancellationToken).ConfigureAwait(false);
        while (page.Count > 0)
        {
            yield return page;
            if (page.Count < PageSize || page[^1].Number >= high)
            {
                yield break;
            }

            // What the caller wrote of this page goes out before the next is read (a one-page answer goes in one write).
            await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
            page = await _context.Store.PublicFolders.ListMessagesPageAsync(folderId, page[^1].Number + 1, high, PageSize, fromHighEnd: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> OverAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var argument = command.Argument(0);
        var selection = await SelectAsync(argument, cancellationToken).ConfigureAwait(false);
        if (selection is null)
        {
            return true;
        }

        var byId = argument?.StartsWith('<') == true;
        _channel.WriteLine("224 Overview information follows");
        var line = new StringBuilder(512);
        await foreach (var page in PagesAsync(selection.FolderId, selection.First, 0, selection.High, cancellationToken).ConfigureAwait(false))
        {
            var xref = await XrefsAsync(page, cancellationToken).ConfigureAwait(false);
            foreach (var message in page)
            {
                var headers = NewsArticle.ParseHeaders(message.Headers);
                line.Clear();

                // RFC 3977 §8.3.2: by message-id the article number is 0 unless it is in the current group.
                line.Append(byId && message.FolderId != _group?.Id ? 0 : message.Number);
                foreach (var field in s_overviewFields)
                {
                    line.Append('\t').Append(NewsArticle.RawValue(headers, field) ?? "");
                }

                line.Append('\t').Append(message.Size).Append('\t').Append(message.Lines).Append("\tXref: ").Append(xref(message));
                WriteDataLine(line.ToString());
            }
        }

        _channel.WriteLine(".");
        return true;
    }

    /// <summary>
    /// HDR and XHDR (RFC 3977 §8.5, RFC 2980 §2.6), and XPAT (RFC 2980 §2.9): the same lines, only those whose value
    /// matches the wildmat. INN offers XPAT, and newsreaders search with it; the words after the range are one pattern.
    /// </summary>
    private async Task<bool> HdrAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var field = command.Argument(0);
        var xpat = command.Keyword == "XPAT";
        var pattern = xpat && command.Arguments.Count >= 3 ? string.Join(' ', command.Arguments.Skip(2)) : null;
        if (field is null || (xpat && pattern is null))
        {
            _channel.WriteLine(xpat ? "501 Syntax: XPAT header range|message-id pattern [pattern ...]" : "501 Syntax: HDR field [message-id|range]");
            return false;
        }

        var argument = command.Argument(1);
        var selection = await SelectAsync(argument, cancellationToken).ConfigureAwait(false);
        if (selection is null)
        {
            return true;
        }

        var byId = argument?.StartsWith('<') == true;
        var isXref = field.Equals("Xref", StringComparison.OrdinalIgnoreCase);
        _channel.WriteLine(command.Keyword == "HDR" ? "225 Headers follow" : "221 Header follows");
        await foreach (var page in PagesAsync(selection.FolderId, selection.First, 0, selection.High, cancellationToken).ConfigureAwait(false))
        {
            var xref = isXref ? await XrefsAsync(page, cancellationToken).ConfigureAwait(false) : null;
            foreach (var message in page)
            {
                var value = field.ToLowerInvariant() switch
                {
                    ":bytes" => message.Size.ToString(CultureInfo.InvariantCulture),
                    ":lines" => message.Lines.ToString(CultureInfo.InvariantCulture),
                    "xref" => xref!(message),
                    _ => NewsArticle.RawValue(NewsArticle.ParseHeaders(message.Headers), field) ?? "",
                };
                if (pattern is not null && !Wildmat.Matches(pattern, value))
                {
                    continue;
                }

                var number = byId ? (command.Keyword == "HDR" ? "0" : message.MessageId ?? "0") : message.Number.ToString(CultureInfo.InvariantCulture);
                WriteDataLine($"{number} {value}");
            }
        }

        _channel.WriteLine(".");
        return true;
    }

    /// <summary>
    /// The Xref values (RFC 5536 §3.2.14) of <paramref name="messages"/>: this server's Path identity and every
    /// group:number that files the article, so a newsreader marks a cross-post read in each group. Computed here,
    /// never taken from the article (the poster's or a peer's would name other numbers).
    /// </summary>
    private async Task<Func<PublicMessage, string>> XrefsAsync(IReadOnlyList<PublicMessage> messages, CancellationToken cancellationToken)
    {
        var names = (await _context.Store.PublicFolders.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
            .Where(f => f.Newsgroup is not null).ToDictionary(f => f.Id, f => f.Newsgroup!);
        List<(long FolderId, long Number, long OtherFolderId, long OtherNumber)> copies = [];
        if (messages.Count > 0 && messages.All(m => m.FolderId == messages[0].FolderId))
        {
            var crossPosts = await _context.Store.PublicFolders.ListCrossPostCopiesAsync(messages[0].FolderId, messages.Min(m => m.Number), messages.Max(m => m.Number), cancellationToken).ConfigureAwait(false);
            copies.AddRange(crossPosts.Select(c => (messages[0].FolderId, c.Number, c.OtherFolderId, c.OtherNumber)));
        }

        var byPlace = copies.ToLookup(c => (c.FolderId, c.Number));
        return message =>
        {
            var entries = byPlace[(message.FolderId, message.Number)].Select(c => (c.OtherFolderId, c.OtherNumber)).Prepend((message.FolderId, message.Number));
            return _intake.PathIdentity + string.Concat(entries.Where(e => names.ContainsKey(e.Item1)).Select(e => " " + names[e.Item1] + ":" + e.Item2.ToString(CultureInfo.InvariantCulture)));
        };
    }

    /// <summary>One line of a multi-line block, dot-stuffed.</summary>
    private void WriteDataLine(string line)
    {
        if (line.StartsWith('.'))
        {
            _channel.Write(".");
        }

        _channel.WriteLine(line);
    }

    private bool TryParseSince(NntpCommand command, int index, out DateTimeOffset since)
    {
        since = default;
        var date = command.Argument(index);
        var time = command.Argument(index + 1);
        var gmt = command.Argument(index + 2);
        return date is not null && time is not null && (gmt is null || gmt.Equals("GMT", StringComparison.OrdinalIgnoreCase)) && command.Arguments.Count <= index + 3
            && NntpSyntax.TryParseDateTime(date, time, _context.Time.GetUtcNow(), out since);
    }

    private async Task<bool> NewGroupsAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        if (!TryParseSince(command, 0, out var since))
        {
            _channel.WriteLine("501 Syntax: NEWGROUPS [yy]yymmdd hhmmss [GMT]");
            return false;
        }

        var groups = await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (await RefusedUntilLogonAsync(groups, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        _channel.WriteLine("231 List of new newsgroups follows");
        foreach (var (folder, rights) in groups.Where(g => g.Folder.Created >= since))
        {
            var summary = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
            _channel.WriteLine($"{folder.Newsgroup} {summary.High} {summary.Low} {PostingStatus(folder, rights)}");
        }

        _channel.WriteLine(".");
        return true;
    }

    private async Task<bool> NewNewsAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var wildmat = command.Argument(0);
        if (wildmat is null || !Wildmat.IsValid(wildmat) || !TryParseSince(command, 1, out var since))
        {
            _channel.WriteLine("501 Syntax: NEWNEWS wildmat [yy]yymmdd hhmmss [GMT]");
            return false;
        }

        var visible = await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (await RefusedUntilLogonAsync(visible, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        var readable = visible
            .Where(g => Wildmat.Matches(wildmat, g.Folder.Newsgroup!))
            .Select(g => g.Folder.Id)
            .ToHashSet();
        _channel.WriteLine("230 List of new articles follows");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        ReceivedArticle? after = null;
        while (true)
        {
            // A page at a time: NEWNEWS * 19700101 000000 on a large server must not load every article at once.
            var page = await _context.Store.PublicFolders.ListReceivedSinceAsync(since, after, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var message in page.Where(m => readable.Contains(m.FolderId) && seen.Add(m.MessageId)))
            {
                _channel.WriteLine(message.MessageId);
            }

            if (page.Count < PageSize)
            {
                break;
            }

            after = page[^1];
            await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        // Cancels too, so a pull peer carries them out as a push peer would (they are filed in no group).
        var readableNames = visible.Where(g => readable.Contains(g.Folder.Id)).Select(g => g.Folder.Newsgroup!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var control in await _context.Store.PublicFolders.ListControlArticlesSinceAsync(since, cancellationToken).ConfigureAwait(false))
        {
            if (control.Newsgroups.Any(readableNames.Contains) && seen.Add(control.MessageId))
            {
                _channel.WriteLine(control.MessageId);
            }
        }

        _channel.WriteLine(".");
        return true;
    }

    /// <summary>The administrator's message of the day (setting nntp.motd, "\n" between lines), or null.</summary>
    private string? Motd => _config.Settings.TryGetValue(NntpDefaults.MotdSetting, out var motd) && !string.IsNullOrWhiteSpace(motd)
        ? motd.Replace("\\n", "\n", StringComparison.Ordinal)
        : null;

    private bool NeedsSecureChannel => _config.Security.RequireSecureChannel && !_connection.IsSecure;

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
            _logger.LogInformation("NNTP POST {MessageId} by {Account}: {Outcome}", result.MessageId, _account?.Address ?? "anonymous", result.Outcome);
        }
        else if (result.Outcome == IntakeOutcome.Accepted)
        {
            _logger.LogDebug("NNTP POST {MessageId} by {Account}: {Outcome}", result.MessageId, _account?.Address ?? "anonymous", result.Outcome);
        }
    }

    private void Accepted(IntakeResult result)
    {
        if (result.Outcome == IntakeOutcome.Accepted)
        {
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

        if (IsAuthenticated || await IsPeerAsync(cancellationToken).ConfigureAwait(false))
        {
            return true;
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
            await _context.Store.PublicFolders.RememberRejectedAsync(messageId!, _context.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            _channel.WriteLine("437 Article too large");
            return true;
        }

        var result = await _intake.TransitAsync(content!, messageId, _account, await IsPeerAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
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

    private async Task<bool> TakeThisAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var messageId = command.Argument(0);
        var syntaxOk = NntpSyntax.IsMessageId(messageId) && command.Arguments.Count == 1;
        var permitted = syntaxOk && (IsAuthenticated || await IsPeerAsync(cancellationToken).ConfigureAwait(false)) && !NeedsSecureChannel;

        // RFC 4644 §2.5: the article follows TAKETHIS unconditionally, so it is read (and discarded) even when refused.
        var (status, content) = await ReadArticleAsync(cancellationToken).ConfigureAwait(false);
        if (status == ArticleReadStatus.Closed)
        {
            _quit = true;
            return true;
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
            await _context.Store.PublicFolders.RememberRejectedAsync(messageId!, _context.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            _channel.WriteLine($"439 {messageId}");
            return true;
        }

        var result = await _intake.TransitAsync(content!, messageId, _account, await IsPeerAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        Accepted(result);

        // RFC 4644 §2.5: 239 transferred, 439 rejected; a store failure has no "try later" code, the peer re-offers after 439 only if we forget it.
        _channel.WriteLine(result.Outcome is IntakeOutcome.Accepted or IntakeOutcome.Pending ? $"239 {messageId}" : $"439 {messageId}");
        return true;
    }

    private enum ArticleReadStatus
    {
        Complete = 0,
        TooLarge = 1,
        Closed = 2,
    }

    /// <summary>Reads a dot-terminated article from the input pipe, un-stuffing it; past the size limit the rest is read and discarded.</summary>
    private async Task<(ArticleReadStatus Status, byte[]? Content)> ReadArticleAsync(CancellationToken cancellationToken)
    {
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        var decoder = new NntpDotDecoder();
        var output = new ArrayBufferWriter<byte>(16 * 1024);
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
            var status = decoder.Decode(ref buffer, tooLarge ? null : output);
            if (!tooLarge && decoder.Length > max)
            {
                tooLarge = true;
                output.Clear();
            }

            if (status == DotDecodeStatus.Complete)
            {
                // Whatever follows (pipelined commands, the next TAKETHIS) stays unexamined for the next read.
                input.AdvanceTo(buffer.Start);
                return tooLarge ? (ArticleReadStatus.TooLarge, null) : (ArticleReadStatus.Complete, output.WrittenSpan.ToArray());
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return (ArticleReadStatus.Closed, null);
            }
        }
    }
}
