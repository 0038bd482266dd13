using System.Globalization;
using Microsoft.Extensions.Logging;
using Postern.Protocols.Smtp;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>One SMTP conversation: the command loop, the envelope, and the session state (RFC 5321 §4.1.4).</summary>
internal sealed partial class SmtpSession
{
    private readonly MailConnection _connection;
    private readonly ServerContext _context;
    private readonly VirtualServer _config;
    private readonly SmtpSettings _settings;
    private readonly ILogger _logger;
    private LineChannel _channel;
    private SmtpState _state = SmtpState.Connected;
    private bool _extended;
    private string _heloName = "";
    private Account? _account;
    private int _badCommands;
    private int _authFailures;
    private bool _closing;

    // Bounded: one session cannot make the cache grow without limit by naming endless addresses.
    private const int MaxRememberedRecipients = 1024;
    private readonly Dictionary<string, LocalRecipient> _recipients = new(StringComparer.Ordinal);

    public SmtpSession(MailConnection connection)
    {
        _connection = connection;
        _context = connection.VirtualServer.Context;
        _config = connection.VirtualServer.Config;
        _settings = new SmtpSettings(_config);
        _logger = _context.LoggerFactory.CreateLogger<SmtpSession>();
        _channel = new LineChannel(connection);
        _transaction = new SmtpTransaction(_context.MessageMemory);
    }

    private string HostName => string.IsNullOrEmpty(_config.ServerName) ? _context.HostName : _config.ServerName;

    private TimeSpan CommandTimeout => _settings.CommandTimeout;

    private SmtpSessionFacts Facts => new(
        _connection.IsSecure, _account is not null, _connection.CanStartTls, _config.Security.RequireSecureChannel, _config.RequireAuthentication, _extended,
        Authenticator.MayAuthenticate(_connection));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Reply(220, $"{HostName} ESMTP Postern");
        while (!_closing)
        {
            var line = await _channel.ReadLineAsync(_settings.MaxAuthLine, CommandTimeout, cancellationToken).ConfigureAwait(false);
            switch (line.Kind)
            {
                case LineResultKind.Closed:
                    return;
                case LineResultKind.Timeout:
                    await CloseAsync(421, "4.4.2 Error: timeout exceeded", cancellationToken).ConfigureAwait(false);
                    return;
                case LineResultKind.TooLong:
                    await BadCommandAsync(500, "5.5.2 Error: line too long", cancellationToken).ConfigureAwait(false);
                    continue;
            }

            if (!SmtpCommandParser.TryParse(line.Bytes, out var command))
            {
                // RFC 5321 §4.1.2: a command with invalid characters, and no other reason to refuse it, MUST get 501.
                if (SmtpCommandParser.VerbOf(line.Bytes) != SmtpVerb.Unknown)
                {
                    await BadCommandAsync(501, "5.5.2 Error: invalid character in command", cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await BadCommandAsync(500, "5.5.2 Error: bad syntax", cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            // RFC 5321 §4.5.3.1.4: 512 octets per command line, more where an extension says so; AUTH may be longer still
            // (RFC 4954 §4).
            if (command.Verb != SmtpVerb.Auth && line.Bytes.Length + 2 > _settings.MaxCommandLine + ParameterAllowance(command.Verb))
            {
                if (command.Verb == SmtpVerb.Bdat)
                {
                    // A BDAT line this long cannot be trusted to say how many octets follow: stop.
                    await CloseAsync(421, "4.7.0 Error: line too long", cancellationToken).ConfigureAwait(false);
                    return;
                }

                await BadCommandAsync(500, "5.5.2 Error: line too long", cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (command.Verb == SmtpVerb.Bdat)
            {
                // The chunk must be consumed whatever the verdict, or its octets would be read as commands.
                await BdatAsync(command.Argument, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var refusal = SmtpStateTable.Check(command.Verb, _state, Facts);
            if (refusal is { } r)
            {
                if (r.Code is 500 or 503)
                {
                    await BadCommandAsync(r.Code, r.Text, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    Reply(r);
                }

                continue;
            }

            await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Octets the advertised extensions add to a MAIL or RCPT line: SIZE 26 (RFC 1870 §3), ENVID and RET 100 and NOTIFY
    /// and ORCPT 500 (RFC 3461 §4), AUTH= 500 (RFC 4954 §3), BODY and SMTPUTF8 a few more. A relay passing these on
    /// exceeds 512 octets and must not be refused for it.
    /// </summary>
    private static int ParameterAllowance(SmtpVerb verb) => verb switch
    {
        SmtpVerb.Mail => 26 + 100 + 500 + 16 + 10,
        SmtpVerb.Rcpt => 500 + 10,
        _ => 0,
    };

    private async Task ExecuteAsync(SmtpCommand command, CancellationToken cancellationToken)
    {
        switch (command.Verb)
        {
            case SmtpVerb.Helo:
            case SmtpVerb.Ehlo:
                await HeloAsync(command, cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.StartTls:
                await StartTlsAsync(command.Argument, cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Auth:
                await AuthAsync(command.Argument, cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Mail:
                await MailAsync(command.Argument, cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Rcpt:
                await RcptAsync(command.Argument, cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Data:
                await DataAsync(command.Argument, cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Rset when command.Argument.Length > 0:
                // RFC 5321 §4.1.1.5: "RSET" CRLF; a RSET with an argument is not one, and the transaction stands.
                await BadCommandAsync(501, "5.5.4 Syntax: RSET", cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Rset:
                ResetTransaction();
                Reply(250, "2.0.0 Ok");
                break;
            case SmtpVerb.Noop:
                Reply(250, "2.0.0 Ok");
                break;
            case SmtpVerb.Quit when command.Argument.Length > 0:
                // RFC 5321 §4.1.1.10: "QUIT" CRLF.
                await BadCommandAsync(501, "5.5.4 Syntax: QUIT", cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Quit:
                await CloseAsync(221, "2.0.0 Bye", cancellationToken).ConfigureAwait(false);
                break;
            case SmtpVerb.Vrfy:
                // RFC 5321 §3.5.3: 252 when verification is disabled (no address harvesting).
                Reply(252, "2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
                break;
            case SmtpVerb.Expn:
                Reply(502, "5.5.1 EXPN not available");
                break;
            case SmtpVerb.Help:
                Reply(214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT STARTTLS AUTH VRFY HELP");
                break;
        }
    }

    private async Task HeloAsync(SmtpCommand command, CancellationToken cancellationToken)
    {
        if (!SmtpCommandParser.TryParseHeloDomain(command.Argument, out var domain))
        {
            await BadCommandAsync(501, "5.5.4 Syntax: " + (command.Verb == SmtpVerb.Ehlo ? "EHLO" : "HELO") + " hostname", cancellationToken).ConfigureAwait(false);
            return;
        }

        // RFC 5321 §4.1.4: EHLO/HELO clears any transaction in progress.
        ResetTransaction();
        _heloName = domain;
        _state = SmtpState.Ready;
        _extended = command.Verb == SmtpVerb.Ehlo;
        var greeting = $"{HostName} Hello {domain} [{_connection.RemoteEndPoint.Address}]";
        if (!_extended)
        {
            Reply(250, greeting);
            return;
        }

        var lines = new List<string>(12)
        {
            greeting,
            "PIPELINING",
            "SIZE " + _config.Limits.MaxMessageSize.ToString(CultureInfo.InvariantCulture),
            "8BITMIME",
            "ENHANCEDSTATUSCODES",
        };
        if (_connection.CanStartTls)
        {
            lines.Add("STARTTLS");
        }

        // Require secure channel: AUTH is not even advertised before TLS (RFC 4954 §4, RFC 3207 §4.2).
        var mechanisms = OfferedMechanisms();
        if (mechanisms.Count > 0 && _account is null && Authenticator.MayAuthenticate(_connection))
        {
            lines.Add("AUTH " + string.Join(' ', mechanisms));
        }

        lines.Add("SMTPUTF8");
        lines.Add("CHUNKING");
        lines.Add("DSN");
        ReplyMultiline(250, lines);
    }

    private async Task StartTlsAsync(string argument, CancellationToken cancellationToken)
    {
        if (argument.Length > 0)
        {
            await BadCommandAsync(501, "5.5.4 Syntax: STARTTLS", cancellationToken).ConfigureAwait(false);
            return;
        }

        Reply(220, "2.0.0 Ready to start TLS");
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (!await _connection.UpgradeToTlsAsync(cancellationToken).ConfigureAwait(false))
        {
            _closing = true;
            return;
        }

        // RFC 3207 §4.2: discard all knowledge obtained from the client before TLS; the client must EHLO again.
        // (Anything pipelined after STARTTLS went away with the clear-text pipe.)
        _channel = new LineChannel(_connection);
        ResetTransaction();
        _state = SmtpState.Connected;
        _extended = false;
        _heloName = "";
        _account = null;
    }

    private async Task BadCommandAsync(int code, string text, CancellationToken cancellationToken)
    {
        _badCommands++;
        if (_badCommands >= _config.Limits.MaxBadCommands)
        {
            await CloseAsync(421, "4.7.0 Error: too many errors", cancellationToken).ConfigureAwait(false);
            return;
        }

        Reply(code, text);
    }

    private async Task CloseAsync(int code, string text, CancellationToken cancellationToken)
    {
        Reply(code, code == 421 ? $"{text.Split(' ')[0]} {HostName} {text[(text.IndexOf(' ', StringComparison.Ordinal) + 1)..]}" : text);
        _closing = true;
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Reply(SmtpReply reply) => Reply(reply.Code, reply.Text);

    private void Reply(int code, string text)
    {
        var output = _connection.Output;
        var length = text.Length * 3 + 6;
        var span = output.GetSpan(length);
        code.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        span[written++] = (byte)' ';
        written += System.Text.Encoding.UTF8.GetBytes(text, span[written..]);
        span[written++] = (byte)'\r';
        span[written++] = (byte)'\n';
        output.Advance(written);
    }

    private void ReplyMultiline(int code, IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var separator = i == lines.Count - 1 ? " " : "-";
            _channel.WriteLine(code.ToString(CultureInfo.InvariantCulture) + separator + lines[i]);
        }
    }
}
