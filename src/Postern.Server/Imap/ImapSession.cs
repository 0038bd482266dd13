using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Postern.Protocols.Imap;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>
/// One IMAP connection: the single async loop that reads commands, gates them through <see cref="ImapStateTable"/>,
/// runs their handlers and writes replies. Replies are flushed only when no more input is queued (pipelining) or
/// before the session waits.
/// </summary>
internal sealed class ImapSession
{
    /// <summary>The one hierarchy delimiter of every account's mailboxes.</summary>
    public const char Delimiter = '/';

    /// <summary>The system flags every mailbox supports, as listed in FLAGS.</summary>
    public const ImapSystemFlags MailboxFlags = ImapSystemFlags.Seen | ImapSystemFlags.Answered | ImapSystemFlags.Flagged | ImapSystemFlags.Deleted | ImapSystemFlags.Draft;

    private readonly ILogger _logger;
    private ImapCommandReader _reader;
    private ImapResponseWriter? _writer;
    private PipeWriter? _writerOutput;
    private int _badCommands;
    private IMailStore? _accountMail;

    // Keywords this session has listed in a FLAGS response for the selected mailbox.
    private HashSet<string> _announcedKeywords = new(StringComparer.OrdinalIgnoreCase);

    // The announced keywords that count against the keyword limit: all but those listed at SELECT only because the mailbox
    // once had them, so that old keywords never keep a mailbox from taking new ones.
    private HashSet<string> _limitedKeywords = new(StringComparer.OrdinalIgnoreCase);

    public ImapSession(MailConnection connection, ServerContext context, ILogger logger)
    {
        Connection = connection;
        Context = context;
        _logger = logger;
        _reader = new ImapCommandReader(CreateLimits());
        Authenticator = new Authenticator(context);
    }

    public MailConnection Connection { get; }

    public ServerContext Context { get; }

    public Authenticator Authenticator { get; }

    /// <summary>After login, the account's mailboxes plus the public folders it may read ("Public Folders/...").</summary>
    public IMailStore Mail => _accountMail ?? Context.Store.Mail;

    public VirtualServer Config => Connection.VirtualServer.Config;

    public ImapState State { get; private set; } = ImapState.NotAuthenticated;

    public Account? Account { get; private set; }

    /// <summary>The account's storage limit as the administrator has it now (0: none); a change applies without a new logon.</summary>
    public async Task<long> QuotaBytesAsync(CancellationToken cancellationToken) =>
        (await Context.Store.Directory.FindAccountByIdAsync(Account!.Id, cancellationToken))?.QuotaBytes ?? Account!.QuotaBytes;

    public ImapSelectedMailbox? Selected { get; private set; }

    /// <summary>What ENABLE switched on, IMAP4rev2 included (RFC 5161, RFC 9051 §6.3.1).</summary>
    public ImapEnabledExtensions Enabled { get; } = new();

    /// <summary>Mailbox names and strings are UTF-8: RFC 6855 UTF8=ACCEPT or IMAP4rev2 (RFC 9051 §5.1).</summary>
    public bool Utf8Enabled => Enabled.Utf8MailboxNames;

    /// <summary>RFC 7162: CONDSTORE was enabled (ENABLE, or a CONDSTORE-enabling command).</summary>
    public bool CondStoreEnabled
    {
        get => Enabled.CondStore;
        set => Enabled.CondStore = value;
    }

    public bool QResyncEnabled => Enabled.QResync;

    /// <summary>The session follows IMAP4rev2; one that never sent ENABLE IMAP4rev2 stays IMAP4rev1.</summary>
    public bool Rev2Enabled => Enabled.Rev2;

    /// <summary>Failed LOGIN/AUTHENTICATE attempts on this connection.</summary>
    public int AuthenticationFailures { get; set; }

    /// <summary>COMPRESS=DEFLATE is on (RFC 4978 §3: at most once per connection).</summary>
    public bool CompressionActive { get; set; }

    /// <summary>The UIDs saved by SEARCH RETURN (SAVE), for "$" (RFC 5182).</summary>
    public IReadOnlyList<long> SavedSearch { get; set; } = [];

    public ImapResponseWriter Writer
    {
        get
        {
            // The output pipe changes with STARTTLS; the writer follows it.
            if (_writer is null || !ReferenceEquals(_writerOutput, Connection.Output))
            {
                _writerOutput = Connection.Output;
                _writer = new ImapResponseWriter(_writerOutput, Utf8Enabled, staged: true);
            }

            _writer.Utf8Enabled = Utf8Enabled;
            return _writer;
        }
    }

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(State == ImapState.NotAuthenticated
        ? Config.Limits.IdleTimeoutSeconds
        : Math.Max(Config.Limits.AuthenticatedIdleTimeoutSeconds, 30 * 60)); // RFC 3501 §5.4: at least 30 minutes once logged in.

    /// <summary>Whether a FLAGS list for the message carries \Recent: IMAP4rev1 only (RFC 9051 removed it).</summary>
    public bool ShowsRecent(long uid) => Enabled.ReportsRecentAndUnseen && Selected?.IsRecent(uid) == true;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            Writer.Untagged(ImapStatus.Ok, "CAPABILITY " + string.Join(' ', ImapCapabilities.For(this)), $"{Context.HostName} Postern IMAP4rev1 service ready");
            await LoopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The peer went away: end quietly. A stopping server's cancellation goes on to the host, which says BYE.
            _logger.SessionEnded(ex, Connection.Id);
        }
        finally
        {
            Selected?.Dispose();
            Selected = null;
        }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var waited = false;

        // When the command being read must be complete (Environment.TickCount64), before login only: the idle timeout
        // then bounds a whole command, not each read, or a client trickling a byte at a time (slowloris) would hold an
        // unauthenticated connection for ever. After login a slow APPEND of a big message must not be cut off.
        long? commandDeadline = null;
        while (State != ImapState.Logout)
        {
            var input = Connection.Input;
            var readWaited = false;
            if (!input.TryRead(out var result))
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(commandDeadline is { } deadline && State == ImapState.NotAuthenticated
                    ? TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64))
                    : IdleTimeout);
                try
                {
                    var pending = input.ReadAsync(timeout.Token);
                    readWaited = !pending.IsCompleted;
                    waited |= readWaited;
                    result = await pending.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    Writer.Untagged(ImapStatus.Bye, null, "Autologout; idle for too long");
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
            }

            var buffer = result.Buffer;
            var read = _reader.TryRead(ref buffer);
            input.AdvanceTo(buffer.Start);
            if (read.Status == ImapReadStatus.NeedMoreData)
            {
                // A cancelled read is IDLE's wake-up arriving late (after DONE): not an end of input.
                if (result.IsCompleted)
                {
                    return;
                }

                if (!result.Buffer.IsEmpty)
                {
                    commandDeadline ??= Environment.TickCount64 + (long)IdleTimeout.TotalMilliseconds;
                }

                // A long literal (APPEND) counts by its octets.
                if (Connection.MustLeaveEventThread(readWaited, result.Buffer.Length))
                {
                    await EventThread.ToThreadPool();
                }

                continue;
            }

            if (Connection.MustLeaveEventThread(waited))
            {
                await EventThread.ToThreadPool();
            }

            waited = false;
            if (read.Status != ImapReadStatus.NeedContinuation)
            {
                // A literal's go-ahead is part of the same command: its deadline stands.
                commandDeadline = null;
            }

            if (!await HandleReadAsync(read, cancellationToken).ConfigureAwait(false))
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns false when the connection must close.</summary>
    private async Task<bool> HandleReadAsync(ImapReadResult read, CancellationToken cancellationToken)
    {
        switch (read.Status)
        {
            case ImapReadStatus.NeedContinuation:
                if (await IsOverQuotaAppendAsync(read, cancellationToken).ConfigureAwait(false))
                {
                    // RFC 3501 §7.5: a NO instead of '+' and the client does not send the literal; the command is over.
                    _reader.Reset();
                    Writer.Tagged(read.Tag!, ImapStatus.No, "OVERQUOTA", "Quota exceeded");
                    return true;
                }

                // RFC 3501 §7.5: the client waits for this before sending the literal.
                Writer.Continuation("Ready for literal data");
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                return true;

            case ImapReadStatus.Command:
                return await DispatchAsync(read.Command!, cancellationToken).ConfigureAwait(false);

            case ImapReadStatus.LiteralTooLarge when read.MustClose:
                // Too big even to read and discard. The command still gets its tagged reply, after the BYE as with LOGOUT.
                Writer.Untagged(ImapStatus.Bye, "TOOBIG", "Literal too large");
                if (read.Tag is not null)
                {
                    Writer.Tagged(read.Tag, ImapStatus.Bad, "TOOBIG", read.Message ?? "Literal too large");
                }

                return false;

            case ImapReadStatus.LiteralTooLarge or ImapReadStatus.CommandTooLong when read.Tag is not null && read.CommandName is "APPEND" or "REPLACE" or "UID REPLACE":
                // RFC 7889 / RFC 4469 §5: a message over the size limit is NO [TOOBIG], not a protocol error.
                Writer.Tagged(read.Tag, ImapStatus.No, "TOOBIG", read.Message ?? "Message too large");
                return true;

            case ImapReadStatus.LiteralTooLarge or ImapReadStatus.CommandTooLong or ImapReadStatus.LineTooLong:
                return Bad(read.Tag, "TOOBIG", read.Message ?? "Too long");

            default:
                return Bad(read.Tag, null, read.Message ?? "Syntax error");
        }
    }

    /// <summary>
    /// Whether an APPEND's announced message alone is more than the account's quota leaves (RFC 9208 §4.2, as Dovecot
    /// answers before '+'), so it is refused before the client uploads it. A public folder is under no user's quota.
    /// </summary>
    private async Task<bool> IsOverQuotaAppendAsync(ImapReadResult read, CancellationToken cancellationToken)
    {
        if (read.CommandName != "APPEND" || read.Tag is null || Account is not { } account || !NamesPrivateMailbox(_reader.PendingCommand))
        {
            return false;
        }

        // Two store reads: not on the socket's event thread (the APPEND itself runs on the pool anyway).
        await EventThread.ToThreadPool();
        return await QuotaBytesAsync(cancellationToken).ConfigureAwait(false) is > 0 and var quota
            && await Mail.GetAccountUsageAsync(account.Id, cancellationToken).ConfigureAwait(false) + read.LiteralSize > quota;
    }

    /// <summary>True when an APPEND's mailbox argument (an atom, a quoted string or a literal) is outside the public folders.</summary>
    private static bool NamesPrivateMailbox(ReadOnlySpan<byte> command)
    {
        // "tag APPEND mailbox ..."
        var afterTag = command.IndexOf((byte)' ');
        var afterName = afterTag < 0 ? -1 : command[(afterTag + 1)..].IndexOf((byte)' ');
        if (afterName < 0)
        {
            return false;
        }

        var mailbox = command[(afterTag + afterName + 2)..];
        if (mailbox.IsEmpty)
        {
            return false;
        }

        if (mailbox[0] == (byte)'{')
        {
            // A literal name ("{6}\r\nDrafts"): known once its octets are in, which they are by the message's literal.
            var close = mailbox.IndexOf("}\r\n"u8);
            var digits = close < 0 ? [] : mailbox[1..close].TrimEnd((byte)'+');
            if (!System.Buffers.Text.Utf8Parser.TryParse(digits, out uint length, out var used) || used != digits.Length
                || (ulong)mailbox.Length < (ulong)close + 3 + length)
            {
                return false;
            }

            return !mailbox.Slice(close + 3, (int)length).StartsWith(s_publicNamespace);
        }

        var name = mailbox[0] == (byte)'"' ? mailbox[1..] : mailbox;
        return !name.StartsWith(s_publicNamespace);
    }

    private static readonly byte[] s_publicNamespace = System.Text.Encoding.ASCII.GetBytes(ImapPublicFolderStore.Prefix.TrimEnd(Delimiter));

    private bool Bad(string? tag, string? code, string text)
    {
        if (tag is null)
        {
            Writer.Untagged(ImapStatus.Bad, code, text);
        }
        else
        {
            Writer.Tagged(tag, ImapStatus.Bad, code, text);
        }

        if (++_badCommands >= Math.Max(1, Config.Limits.MaxBadCommands))
        {
            Writer.Untagged(ImapStatus.Bye, null, "Too many invalid commands");
            return false;
        }

        return true;
    }

    private async Task<bool> DispatchAsync(ImapCommand command, CancellationToken cancellationToken)
    {
        switch (ImapStateTable.Check(command.Name, State, out var entry))
        {
            case ImapGate.UnknownCommand:
                return Bad(command.Tag, null, "Unknown command " + Truncate(command.Name));
            case ImapGate.WrongState:
                return Bad(command.Tag, null, command.Name + " is not valid " + WrongStateReason(entry!.States));
        }

        if (entry!.NoArguments && command.Arguments.Count > 0)
        {
            BadArguments(command, command.Name + " takes no arguments");
            return true;
        }

        // A flood is bad commands in a row (as Dovecot counts them): a session that lives for days may send an odd one now and then.
        _badCommands = 0;

        try
        {
            await EventThread.ToThreadPoolIf(!entry.Inline);
            await entry.Handler.HandleAsync(this, command, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (IOException or OperationCanceledException or ObjectDisposedException))
        {
            // A bug in one command must not take the connection down with it.
            _logger.CommandFailed(ex, command.Name);
            if (Writer.IsMidLine)
            {
                // Half a response (perhaps half a literal) is out: nothing more can be said that the client would parse right.
                return false;
            }

            // A full disk is no bug: said as Dovecot says it (ENOSPC is its "no quota" error), so clients show why.
            if (StorageFull.Is(ex))
            {
                Writer.Tagged(command.Tag, ImapStatus.No, "OVERQUOTA", "Not enough disk space");
            }
            else
            {
                Writer.Tagged(command.Tag, ImapStatus.No, "SERVERBUG", "Internal error");
            }
        }

        return true;
    }

    /// <summary>Why a command the state table knows cannot run now, from the states it needs.</summary>
    private string WrongStateReason(ImapState needed) => State switch
    {
        ImapState.NotAuthenticated => "before login",
        _ when (needed & ImapState.NotAuthenticated) != 0 => "after login",
        ImapState.Authenticated => "without a selected mailbox",
        _ => "while a mailbox is selected",
    };

    private static string Truncate(string text) => text.Length <= 32 ? text : text[..32];

    /// <summary>Sends the pending mailbox updates, then the tagged completion (RFC 3501 §7: untagged data before the tagged reply).</summary>
    public async Task CompleteAsync(ImapCommand command, ImapStatus status, string text, string? code = null, bool allowExpunge = true, CancellationToken cancellationToken = default)
    {
        if (Selected is not null)
        {
            await Selected.SyncAsync(this, allowExpunge, cancellationToken).ConfigureAwait(false);
        }

        Writer.Tagged(command.Tag, status, code, text);
    }

    public Task OkAsync(ImapCommand command, string text, CancellationToken cancellationToken, string? code = null) =>
        CompleteAsync(command, ImapStatus.Ok, text, code, allowExpunge: true, cancellationToken);

    public void No(ImapCommand command, string text, string? code = null) => Writer.Tagged(command.Tag, ImapStatus.No, code, text);

    public void BadArguments(ImapCommand command, string text) => Writer.Tagged(command.Tag, ImapStatus.Bad, null, text);

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var output = Connection.Output;
        if (!output.CanGetUnflushedBytes || output.UnflushedBytes > 0)
        {
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Flushes once a large response has built up, so a big FETCH does not sit in memory.</summary>
    public async ValueTask FlushIfLargeAsync(CancellationToken cancellationToken)
    {
        var output = Connection.Output;
        if (output.CanGetUnflushedBytes && output.UnflushedBytes > 256 * 1024)
        {
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads one raw line (AUTHENTICATE responses, IDLE's DONE). Null when the client went away, timed out, or sent a line
    /// too long (the reader then skips the rest of it).
    /// </summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        // Before login the timeout bounds the whole line (an AUTHENTICATE response), as LoopAsync bounds a command.
        var lineDeadline = Environment.TickCount64 + (long)IdleTimeout.TotalMilliseconds;
        while (true)
        {
            var input = Connection.Input;
            if (!input.TryRead(out var result))
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(State == ImapState.NotAuthenticated ? TimeSpan.FromMilliseconds(Math.Max(0, lineDeadline - Environment.TickCount64)) : IdleTimeout);
                try
                {
                    result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return null;
                }
            }

            var buffer = result.Buffer;
            var read = _reader.TryReadLine(ref buffer);
            input.AdvanceTo(buffer.Start);
            switch (read.Status)
            {
                case ImapReadStatus.Line:
                    return read.Line;
                case ImapReadStatus.NeedMoreData when !result.IsCompleted:
                    continue;
                default:
                    return null;
            }
        }
    }

    /// <summary>One raw line from an already-read buffer (IDLE reads the pipe itself so it can be woken by changes).</summary>
    public ImapReadResult ReadRawLine(ref System.Buffers.ReadOnlySequence<byte> buffer) => _reader.TryReadLine(ref buffer);

    /// <summary>Bytes the client sent that no command has consumed yet (pipelined input).</summary>
    public bool HasBufferedInput()
    {
        if (!_reader.IsIdle)
        {
            return true;
        }

        if (Connection.Input.TryRead(out var result))
        {
            var any = !result.Buffer.IsEmpty;
            Connection.Input.AdvanceTo(result.Buffer.Start);
            return any;
        }

        return false;
    }

    /// <summary>After STARTTLS: forget everything read before TLS (RFC 3501 §6.2.1) and start a fresh reader.</summary>
    public void ResetAfterTls() => _reader = new ImapCommandReader(CreateLimits());

    public async Task LoginAsync(Account account, CancellationToken cancellationToken)
    {
        Account = account;
        State = ImapState.Authenticated;

        // The next command may be an APPEND of a message: the reader takes the logged-in limits from here on.
        _reader.Limits = CreateLimits();
        _accountMail = ImapPublicFolders.CreateStore(Context, account);
        try
        {
            await Mail.EnsureDefaultMailboxesAsync(account.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFull.Is(ex))
        {
            // A first login on a full disk: the mailboxes that could not be made are made at a later login.
        }

        _logger.LoggedIn(account.Address, Connection.RemoteEndPoint);
    }

    public void EnterSelected(ImapSelectedMailbox mailbox)
    {
        Selected?.Dispose();
        Selected = mailbox;
        State = ImapState.Selected;
        SavedSearch = [];
        _announcedKeywords = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        _limitedKeywords = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// RFC 3501 §7.2.6: FLAGS lists the flags "applicable" in the mailbox, so a keyword new to this session is announced
    /// with a fresh FLAGS response before the first FETCH that shows it (clients check this, as imaptest does).
    /// </summary>
    public void AnnounceKeywords(IReadOnlyList<string> keywords)
    {
        var fresh = false;
        foreach (var keyword in keywords)
        {
            fresh |= _announcedKeywords.Add(keyword);
            _limitedKeywords.Add(keyword);
        }

        if (fresh && Selected is not null)
        {
            Writer.BeginUntagged().Atom("FLAGS").Flags(MailboxFlags, _announcedKeywords.Order(StringComparer.Ordinal).ToList()).EndLine();
        }
    }

    /// <summary>
    /// Whether setting <paramref name="keywords"/> in <paramref name="mailbox"/> takes it past its keyword limit: the
    /// distinct keywords its messages carry in the store now, from every session, plus the new ones. Keywords no message
    /// carries do not count (docs/limits.md). The mailbox's keyword list (every keyword it ever had, bounded by the
    /// store) decides most cases; only when it is long are the mailbox's messages read.
    /// </summary>
    public async Task<bool> ExceedsKeywordLimitAsync(Mailbox mailbox, IEnumerable<string> keywords, CancellationToken cancellationToken)
    {
        var limit = ImapDefaults.MaxKeywords(Config);
        var wanted = keywords.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var fresh = wanted.Count(k => !mailbox.Keywords.Contains(k, StringComparer.OrdinalIgnoreCase));
        if (wanted.Count == 0 || mailbox.Keywords.Count + fresh <= limit)
        {
            return false;
        }

        var inUse = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var message in await Mail.ListMessagesAsync(mailbox.Id, cancellationToken))
        {
            inUse.UnionWith(message.Keywords);
        }

        return inUse.Count + wanted.Count(k => !inUse.Contains(k)) > limit;
    }

    /// <summary>Whether adding <paramref name="keywords"/> would take this session's view of the mailbox past its keyword limit.</summary>
    public bool ExceedsKeywordLimit(IReadOnlyList<string> keywords)
    {
        var fresh = keywords.Where(k => !_limitedKeywords.Contains(k)).Distinct(StringComparer.OrdinalIgnoreCase).Count();
        return fresh > 0 && _limitedKeywords.Count + fresh > ImapDefaults.MaxKeywords(Config);
    }

    /// <summary>Whether the selected mailbox may still take a keyword it has not seen (PERMANENTFLAGS \*).</summary>
    public bool MayCreateKeywords => _limitedKeywords.Count < ImapDefaults.MaxKeywords(Config);

    /// <summary>
    /// The keywords listed with SELECT: every keyword in use in the mailbox and, within the keyword limit, those the mailbox
    /// had before, so that a keyword a client saw once does not look new when it is set again (imaptest checks this).
    /// </summary>
    public IReadOnlyList<string> InitialKeywords(IEnumerable<MessageRecord> messages, IReadOnlyList<string> mailboxKeywords)
    {
        foreach (var message in messages)
        {
            _announcedKeywords.UnionWith(message.Keywords);
            _limitedKeywords.UnionWith(message.Keywords);
        }

        var limit = ImapDefaults.MaxKeywords(Config);
        foreach (var keyword in mailboxKeywords)
        {
            if (_announcedKeywords.Count >= limit)
            {
                break;
            }

            _announcedKeywords.Add(keyword);
        }

        return _announcedKeywords.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// RFC 7162 §3.1: the first CONDSTORE-enabling command (FETCH MODSEQ, CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH
    /// MODSEQ) issued while a mailbox is selected is answered with the mailbox's HIGHESTMODSEQ as well.
    /// </summary>
    public void EnableCondStoreByCommand()
    {
        if (CondStoreEnabled)
        {
            return;
        }

        CondStoreEnabled = true;
        if (Selected is { } selected)
        {
            Writer.Untagged(ImapStatus.Ok, "HIGHESTMODSEQ " + selected.HighestModSeq.ToString(System.Globalization.CultureInfo.InvariantCulture), "Highest");
        }
    }

    public void LeaveSelected()
    {
        Selected?.Dispose();
        Selected = null;
        SavedSearch = [];
        if (State == ImapState.Selected)
        {
            State = ImapState.Authenticated;
        }
    }

    public void EnterLogout() => State = ImapState.Logout;

    /// <summary>A mailbox argument in the account's spelling (INBOX normalised).</summary>
    public static string NormalizeMailbox(string name) => ImapMailboxName.Normalize(name, Delimiter);

    /// <summary>The most octets one command may carry before login: two literals as large as any LOGIN needs, and the line.</summary>
    private const long PreLoginCommandSize = 256 * 1024;

    /// <summary>The most octets one command may carry, its literals and the messages CATENATE assembles for it alike.</summary>
    public long CommandSizeLimit => Config.Limits.MaxMessageSize + (1024 * 1024);

    private ImapLimits CreateLimits()
    {
        var limits = Config.Limits;
        if (State == ImapState.NotAuthenticated)
        {
            // Before login no command carries a message: a literal or a whole command is what LOGIN, AUTHENTICATE or ID
            // need, so a client that has not logged in cannot make each connection hold a message-sized buffer.
            return new ImapLimits
            {
                MaxLineLength = Math.Max(limits.MaxLineLength, 64 * 1024),
                MaxAppendLiteralSize = ImapLimits.Default.MaxLiteralSize,
                MaxCommandSize = PreLoginCommandSize,
                MaxDiscardedLiteralSize = limits.MaxMessageSize + (1024 * 1024),
            };
        }

        return new ImapLimits
        {
            // RFC 7162 §4 asks for at least 8192; long UID sets from real clients need more, so IMAP lines get 64 KiB at least.
            MaxLineLength = Math.Max(limits.MaxLineLength, 64 * 1024),
            MaxAppendLiteralSize = limits.MaxMessageSize,
            MaxCommandSize = CommandSizeLimit,
            MaxDiscardedLiteralSize = limits.MaxMessageSize + (1024 * 1024),
        };
    }
}
