using Microsoft.Extensions.Logging;
using Postern.Protocols.Nntp;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>One NNTP session: reader commands (RFC 3977), STARTTLS (RFC 4642), AUTHINFO (RFC 4643), transit and streaming (RFC 4644).</summary>
internal sealed partial class NntpSession
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
    private readonly int _maxTakeThisInFlight;
    private readonly long _maxTakeThisInFlightBytes;
    private readonly Authenticator _authenticator;
    private readonly NewsArticleIntake _intake;
    private readonly bool _trustPeerAddresses;
    private readonly bool _streaming;

    private Account? _account;
    private string? _pendingUser;
    private PublicFolder? _group;
    private long? _current;
    private bool _peerGroupsKnown;
    private IReadOnlyList<string>? _peerGroups;

    /// <summary>A configured peer at the client's address that only receives our feed (--direction push), if any.</summary>
    private string? _receivingOnlyPeer;

    private bool _receivingOnlyPeerLogged;
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
        _intake = new NewsArticleIntake(context.Store, identity, context.Time, _logger, NntpDefaults.FutureDateAllowance(_config));
        _streaming = !_config.Settings.TryGetValue(NntpDefaults.StreamingSetting, out var streaming) || !streaming.Equals("false", StringComparison.OrdinalIgnoreCase);
        _maxTakeThisInFlight = NntpDefaults.MaxTakeThisInFlight(_config);
        _maxTakeThisInFlightBytes = NntpDefaults.MaxTakeThisInFlightBytes(_config);
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
            if (_takeThisInFlight.Count > 0 && !_channel.HasBufferedInput())
            {
                // The peer's pipeline is empty: it waits for the replies.
                await AnswerTakeThisAsync(0, cancellationToken).ConfigureAwait(false);
            }

            var line = await _channel.ReadLineAsync(Math.Max(_config.Limits.MaxLineLength, SaslLineLength), timeout, cancellationToken).ConfigureAwait(false);
            if (_takeThisInFlight.Count > 0 && !IsTakeThis(line))
            {
                // Replies go out in command order: every other command (or the end of the session) waits for the stores.
                await AnswerTakeThisAsync(0, cancellationToken).ConfigureAwait(false);
            }

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
                _logger.CommandFailed(ex, command.Keyword);
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

        await AnswerTakeThisAsync(0, cancellationToken).ConfigureAwait(false);
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
        var facts = new NntpSessionFacts(_connection.IsSecure, IsAuthenticated, _config.RequireAuthentication, _config.Security.RequireSecureChannel, _streaming);
        switch (NntpStateTable.Check(command.Keyword, facts))
        {
            case NntpGate.Unknown:
                _channel.WriteLine("500 Unknown command");
                return false;
            case NntpGate.NeedsTls when command.Keyword != "TAKETHIS":
                _channel.WriteLine("483 Encryption required, use STARTTLS first");
                return true;
            // TAKETHIS refuses for itself: its article follows unconditionally and must be read past (RFC 4644 §2.5).
            // A feeding peer known by its address may offer articles without AUTHINFO, but not read.
            case NntpGate.NeedsLogon when command.Keyword != "TAKETHIS"
                && !(command.Keyword is "IHAVE" or "CHECK" && await IsFeedingPeerAsync(cancellationToken).ConfigureAwait(false)):
                _channel.WriteLine(NntpStateTable.LogonRefusal(facts));
                return true;
        }

        if (NntpStateTable.HasTooManyArguments(command.Keyword, command.Arguments.Count))
        {
            _channel.WriteLine($"501 Syntax error: too many arguments to {command.Keyword}");
            return false;
        }

        await EventThread.ToThreadPoolIf(!NntpStateTable.RunsOnEventThread(command.Keyword));
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
            case "CHECK":
                return await CheckAsync(command, cancellationToken).ConfigureAwait(false);
            case "TAKETHIS":
                return await TakeThisAsync(command, cancellationToken).ConfigureAwait(false);
            default:
                // The state table knows no command that this switch does not.
                throw new System.Diagnostics.UnreachableException("no handler for " + command.Keyword);
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

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Replace('\t', ' ');

    /// <summary>One line of a multi-line block, dot-stuffed.</summary>
    private void WriteDataLine(string line)
    {
        if (line.StartsWith('.'))
        {
            _channel.Write(".");
        }

        _channel.WriteLine(line);
    }

    /// <summary>One line of a multi-line block as octets (an article's 8-bit header values), dot-stuffed.</summary>
    private void WriteDataLine(ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("."u8))
        {
            _channel.Write("."u8);
        }

        _channel.Write(line);
        _channel.Write("\r\n"u8);
    }

    /// <summary>The administrator's message of the day (setting nntp.motd, "\n" between lines), or null.</summary>
    private string? Motd => _config.Settings.TryGetValue(NntpDefaults.MotdSetting, out var motd) && !string.IsNullOrWhiteSpace(motd)
        ? motd.Replace("\\n", "\n", StringComparison.Ordinal)
        : null;

    private bool NeedsSecureChannel => _config.Security.RequireSecureChannel && !_connection.IsSecure;
}
