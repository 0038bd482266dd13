using Microsoft.Extensions.Logging;
using Postern.Protocols.Pop3;
using Postern.Server.Connections;
using Postern.Server.Pop3.Handlers;
using Postern.Store;

namespace Postern.Server.Pop3;

internal enum Pop3Flow
{
    Continue = 0,
    Close = 1,
}

/// <summary>
/// One POP3 session: the greeting, then one loop of read, parse, gate through <see cref="Pop3StateTable"/>,
/// run the verb's handler. Before login it can reach only the authenticator; the maildrop exists only after.
/// </summary>
internal sealed class Pop3Session
{
    private readonly Pop3MaildropLocks _locks;
    private int _badCommands;
    private int _authFailures;

    public Pop3Session(MailConnection connection, Pop3MaildropLocks locks)
    {
        Connection = connection;
        _locks = locks;
        Channel = new LineChannel(connection);
        Options = Pop3Options.From(connection.VirtualServer.Config);
        Authenticator = new Authenticator(connection.VirtualServer.Context);
        Logger = connection.VirtualServer.Context.LoggerFactory.CreateLogger<Pop3Session>();
    }

    public MailConnection Connection { get; }

    public LineChannel Channel { get; private set; }

    public Pop3Options Options { get; }

    public Authenticator Authenticator { get; }

    public ILogger Logger { get; }

    public Pop3State State { get; private set; } = Pop3State.Authorization;

    /// <summary>The name given by USER, waiting for PASS.</summary>
    public string? PendingUser { get; set; }

    /// <summary>Set once logged in; the only way to the account's mail.</summary>
    public Pop3Maildrop? Maildrop { get; private set; }

    public bool MayAuthenticate => Authenticator.MayAuthenticate(Connection);

    /// <summary>SASL mechanisms usable now: EXTERNAL only with a TLS client certificate.</summary>
    public IReadOnlyList<string> Mechanisms =>
        [.. Options.Mechanisms.Where(m => m != "EXTERNAL" || Connection.Tls?.ClientCertificate is not null)];

    public TimeSpan IdleTimeout => State == Pop3State.Transaction ? Options.TransactionIdleTimeout : Options.AuthorizationIdleTimeout;

    public void Ok(string text) => Pop3ReplyWriter.WriteOk(Channel.Output, text);

    public void Error(string? code, string text) => Pop3ReplyWriter.WriteError(Channel.Output, code, text);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // No APOP timestamp: APOP needs the password in clear on the server and is not offered.
        Ok("Postern POP3 server ready");
        try
        {
            while (true)
            {
                var line = await Channel.ReadLineAsync(Options.MaxCommandLength, IdleTimeout, cancellationToken).ConfigureAwait(false);
                Pop3Flow flow;
                switch (line.Kind)
                {
                    case LineResultKind.Closed:
                        return;
                    case LineResultKind.Timeout:
                        // RFC 1939 §3: an autologout timer expiring in TRANSACTION does not enter UPDATE (nothing is deleted).
                        Error(null, "Autologout; idle for too long");
                        await Channel.FlushAsync(cancellationToken).ConfigureAwait(false);
                        return;
                    case LineResultKind.TooLong:
                        flow = BadCommand("Line too long");
                        break;
                    default:
                        flow = await ExecuteAsync(line.Bytes, cancellationToken).ConfigureAwait(false);
                        break;
                }

                if (flow == Pop3Flow.Close)
                {
                    await Channel.FlushAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
        }
        finally
        {
            await ReleaseMaildropAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Finishes a USER/PASS or AUTH login: opens (locks) the maildrop, or says why not.</summary>
    public async Task<Pop3Flow> CompleteLoginAsync(AuthenticationResult result, string mechanism, CancellationToken cancellationToken)
    {
        PendingUser = null;
        switch (result.Outcome)
        {
            case AuthenticationOutcome.Success when result.Account is { } account:
                Pop3Maildrop? maildrop;
                // Reading the maildrop's list is a scan of the mailbox: not on the socket's event thread.
                await EventThread.ToThreadPool();
                try
                {
                    maildrop = await Pop3Maildrop.OpenAsync(Connection.VirtualServer.Context.Store.Mail, _locks, account, Connection.Id, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // RFC 3206 §4: a store failure is the server's problem, not the user's credentials.
                    Logger.MaildropUnavailable(ex, account.Address);
                    Error(Pop3ResponseCode.SysTemp, StorageFull.Is(ex) ? "Not enough disk space to open the maildrop; try again later" : "Maildrop unavailable; try again later");
                    return Pop3Flow.Continue;
                }

                if (maildrop is null)
                {
                    // RFC 1939 §4 / RFC 2449 §8.1.1: the session stays in AUTHORIZATION.
                    Error(Pop3ResponseCode.InUse, "Maildrop is locked by another POP3 session");
                    return Pop3Flow.Continue;
                }

                Maildrop = maildrop;
                State = Pop3State.Transaction;
                Logger.LoggedIn(account.Address, mechanism, Connection.RemoteEndPoint.Address);
                Ok($"Logged in; {maildrop.Count} messages ({maildrop.Size} octets)");
                return Pop3Flow.Continue;
            case AuthenticationOutcome.Throttled:
                Error(Pop3ResponseCode.SysTemp, "Too many failed logins; try again later");
                return Pop3Flow.Close;
            case AuthenticationOutcome.NeedsEncryption:
                return AuthenticationFailed("No usable client certificate");
            default:
                return AuthenticationFailed("Authentication failed");
        }
    }

    /// <summary>A failed login; past the limit the connection is closed.</summary>
    public Pop3Flow AuthenticationFailed(string text)
    {
        if (++_authFailures >= Options.MaxAuthFailures)
        {
            Error(Pop3ResponseCode.Auth, text + "; closing connection");
            return Pop3Flow.Close;
        }

        Error(Pop3ResponseCode.Auth, text);
        return Pop3Flow.Continue;
    }

    /// <summary>Counts a command that could not be run; past the limit the connection is closed.</summary>
    public Pop3Flow BadCommand(string text)
    {
        if (++_badCommands > Options.MaxBadCommands)
        {
            Error(null, text + "; too many bad commands, closing connection");
            return Pop3Flow.Close;
        }

        Error(null, text);
        return Pop3Flow.Continue;
    }

    /// <summary>
    /// STLS: the go-ahead is flushed, the connection upgraded, and the session starts over (RFC 2595 §4):
    /// whatever the client sent after STLS in clear text is discarded with the old pipe.
    /// </summary>
    public async Task<Pop3Flow> StartTlsAsync(CancellationToken cancellationToken)
    {
        Ok("Begin TLS negotiation");
        await Channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (!await Connection.UpgradeToTlsAsync(cancellationToken).ConfigureAwait(false))
        {
            return Pop3Flow.Close;
        }

        Channel = new LineChannel(Connection);
        PendingUser = null;
        State = Pop3State.Authorization;
        return Pop3Flow.Continue;
    }

    private async Task<Pop3Flow> ExecuteAsync(byte[] line, CancellationToken cancellationToken)
    {
        if (!Pop3CommandParser.TryParse(line, out var command, out var error) || command is null)
        {
            return BadCommand(error switch
            {
                Pop3ParseError.Empty => "Empty command",
                Pop3ParseError.UnknownCommand => "Unknown command",
                Pop3ParseError.InvalidCharacters => "Invalid characters in command",
                _ => "Invalid arguments",
            });
        }

        switch (Pop3StateTable.Check(command.Verb, State, MayAuthenticate))
        {
            case Pop3Gate.WrongState:
                return BadCommand(State == Pop3State.Authorization ? "Not logged in" : "Not allowed after login");
            case Pop3Gate.NeedsSecureChannel:
                // RFC 2595 §6: no credentials over a channel that must first be secured; CAPA does not offer them.
                Error(Pop3ResponseCode.Auth, "Plaintext authentication disallowed on non-secure connections; use STLS");
                return Pop3Flow.Continue;
        }

        if (Maildrop is { } maildrop)
        {
            // A whole-maildrop listing of a large maildrop is formatted off the socket's event thread (EventThread).
            await EventThread.ToThreadPoolIf(command.Verb is Pop3Verb.List or Pop3Verb.Uidl && command.MessageNumber is null && maildrop.Count > 1000);
            return command.Verb switch
            {
                Pop3Verb.Capa => Pop3CapaHandler.Handle(this),
                Pop3Verb.Quit => await Pop3QuitHandler.HandleAsync(this, maildrop, cancellationToken).ConfigureAwait(false),
                Pop3Verb.Stat => Pop3StatHandler.Handle(this, maildrop),
                Pop3Verb.List => Pop3ListHandler.Handle(this, maildrop, command),
                Pop3Verb.Uidl => Pop3UidlHandler.Handle(this, maildrop, command),
                Pop3Verb.Retr or Pop3Verb.Top => await Pop3RetrHandler.HandleAsync(this, maildrop, command, cancellationToken).ConfigureAwait(false),
                Pop3Verb.Dele => Pop3DeleHandler.Handle(this, maildrop, command),
                Pop3Verb.Rset => Pop3RsetHandler.Handle(this, maildrop),
                Pop3Verb.Noop => Pop3NoopHandler.Handle(this),
                _ => BadCommand("Not allowed after login"),
            };
        }

        return command.Verb switch
        {
            Pop3Verb.Capa => Pop3CapaHandler.Handle(this),
            Pop3Verb.Quit => Pop3QuitHandler.HandleBeforeLogin(this),
            Pop3Verb.Stls => await Pop3StlsHandler.HandleAsync(this, cancellationToken).ConfigureAwait(false),
            Pop3Verb.User => Pop3UserHandler.Handle(this, command),
            Pop3Verb.Pass => await Pop3PassHandler.HandleAsync(this, command, cancellationToken).ConfigureAwait(false),
            Pop3Verb.Auth => await Pop3AuthHandler.HandleAsync(this, command, cancellationToken).ConfigureAwait(false),
            Pop3Verb.Apop => Unsupported("APOP is not supported"),
            _ => BadCommand("Not logged in"),
        };
    }

    private Pop3Flow Unsupported(string text)
    {
        Error(null, text);
        return Pop3Flow.Continue;
    }

    /// <summary>
    /// Gives the maildrop lock back. QUIT calls it before its reply, so a client that reconnects as soon as it
    /// reads "+OK" finds the maildrop free.
    /// </summary>
    public async Task ReleaseMaildropAsync()
    {
        if (Maildrop is { } maildrop)
        {
            Maildrop = null;
            await _locks.ReleaseAsync(maildrop.Inbox.Id, Connection.Id, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Leaves TRANSACTION for UPDATE (QUIT).</summary>
    public void EnterUpdate() => State = Pop3State.Update;
}
