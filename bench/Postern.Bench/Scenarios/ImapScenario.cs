using System.Collections.Concurrent;
using System.Globalization;
using System.Buffers.Text;
using System.Text;

namespace Postern.Bench.Scenarios;

/// <summary>imap-session, imap-fetch and imap-append (RFC 3501 / RFC 9051).</summary>
internal sealed class ImapScenario(BenchOptions options, ImapScenario.Kind kind) : IScenario
{
    private static long s_tag;
    private readonly ConcurrentDictionary<int, long> _exists = new();
    private byte[]? _message;

    public enum Kind
    {
        /// <summary>Per operation: connect, LOGIN, SELECT INBOX, FETCH 1:* (FLAGS BODY.PEEK[]), LOGOUT.</summary>
        Session = 0,

        /// <summary>Sessions stay open and selected; per operation: FETCH.</summary>
        Fetch = 1,

        /// <summary>Sessions stay open; per operation: APPEND.</summary>
        Append = 2,

        /// <summary>
        /// Sessions stay open and selected; per operation one step of a client's ten-step cycle: flag sync,
        /// header list, whole message, header fields, flag set and clear, SEARCH, STATUS, NOOP, APPEND.
        /// </summary>
        Mixed = 3,
    }

    public string Name => kind switch
    {
        Kind.Session => "imap-session",
        Kind.Fetch => "imap-fetch",
        Kind.Mixed => "imap-mixed",
        _ => "imap-append",
    };

    public bool KeepsSession => kind != Kind.Session;

    public int DefaultPort(TlsMode tls) => tls == TlsMode.Implicit ? 993 : 143;

    public async Task<BenchConnection> OpenAsync(int worker, CancellationToken cancellationToken)
    {
        var connection = await BenchConnection.ConnectAsync(options.Host, options.Port!.Value, options.Tls == TlsMode.Implicit, options.Timeout, cancellationToken).ConfigureAwait(false);
        try
        {
            var greeting = ScenarioCatalog.Expect(await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false), "greeting", "* OK", "* PREAUTH");
            if (options.Tls == TlsMode.StartTls)
            {
                await CommandAsync(connection, "STARTTLS", cancellationToken).ConfigureAwait(false);
                await connection.StartTlsAsync(cancellationToken).ConfigureAwait(false);
            }

            if (!greeting.StartsWith("* PREAUTH", StringComparison.Ordinal))
            {
                await CommandAsync(connection, $"LOGIN {Quote(options.UserFor(worker) ?? "")} {Quote(options.Password ?? "")}", cancellationToken).ConfigureAwait(false);
            }

            if (kind is Kind.Fetch or Kind.Mixed)
            {
                var selected = await CommandAsync(connection, "SELECT INBOX", cancellationToken).ConfigureAwait(false);
                if (kind == Kind.Mixed && selected.Exists <= 0)
                {
                    throw new BenchProtocolException("imap-mixed: the INBOX of " + options.UserFor(worker) + " is empty; seed it first");
                }

                _exists[worker] = selected.Exists;
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<long> OperateAsync(BenchConnection connection, int worker, long operation, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case Kind.Session:
                var selected = await CommandAsync(connection, "SELECT INBOX", cancellationToken).ConfigureAwait(false);
                return selected.Exists == 0 ? 0 : (await CommandAsync(connection, "FETCH 1:* (FLAGS BODY.PEEK[])", cancellationToken).ConfigureAwait(false)).Payload;
            case Kind.Fetch:
                return (await CommandAsync(connection, $"FETCH {options.FetchSet} (FLAGS BODY.PEEK[])", cancellationToken).ConfigureAwait(false)).Payload;
            case Kind.Mixed:
                return await MixedStepAsync(connection, worker, operation, cancellationToken).ConfigureAwait(false);
            default:
                return await AppendAsync(connection, worker, operation, cancellationToken).ConfigureAwait(false);
        }
    }

    public string? CommandOf(long operation) => kind != Kind.Mixed ? null : (operation % 10) switch
    {
        0 => "UID FETCH 1:* (UID FLAGS)",
        1 => "FETCH 10 ENVELOPE",
        2 => "FETCH BODY.PEEK[]",
        3 => "STORE +FLAGS",
        4 => "FETCH HEADER.FIELDS",
        5 => "SEARCH FLAGGED",
        6 => "STORE -FLAGS",
        7 => "STATUS",
        8 => "NOOP",
        _ => "APPEND 4 KB",
    };

    private async Task<long> MixedStepAsync(BenchConnection connection, int worker, long operation, CancellationToken cancellationToken)
    {
        // Messages that existed at SELECT; appended ones only make the flag sync and SEARCH a little longer.
        var exists = _exists[worker];
        var n = ((operation / 10) % exists) + 1;
        var last = Math.Min(exists, n + 9);
        var c = CultureInfo.InvariantCulture;
        var command = (operation % 10) switch
        {
            0 => "UID FETCH 1:* (UID FLAGS)",
            1 => string.Create(c, $"FETCH {n}:{last} (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)"),
            2 => string.Create(c, $"FETCH {n} (FLAGS BODY.PEEK[])"),
            3 => string.Create(c, $"STORE {n} +FLAGS (\\Flagged)"),
            4 => string.Create(c, $"FETCH {n} (BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])"),
            5 => "SEARCH FLAGGED",
            6 => string.Create(c, $"STORE {n} -FLAGS (\\Flagged)"),
            7 => "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)",
            8 => "NOOP",
            _ => null,
        };
        return command is null
            ? await AppendAsync(connection, worker, operation, cancellationToken).ConfigureAwait(false)
            : (await CommandAsync(connection, command, cancellationToken).ConfigureAwait(false)).Payload;
    }

    private async Task<long> AppendAsync(BenchConnection connection, int worker, long operation, CancellationToken cancellationToken)
    {
        _message ??= MessageFactory.Create(options.SizeKb, "bench@example.test", options.UserFor(worker) ?? "bench@example.test", null, operation);
        var tag = NextTag();
        await connection.WriteLineAsync($"{tag} APPEND INBOX (\\Seen) {{{_message.Length.ToString(CultureInfo.InvariantCulture)}}}", cancellationToken).ConfigureAwait(false);

        // A synchronizing literal: wait for the continuation request (RFC 3501 §7.5).
        while (true)
        {
            var line = await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.StartsWith('+'))
            {
                break;
            }

            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                throw new BenchProtocolException("APPEND: " + line);
            }
        }

        await connection.WriteAsync(_message, cancellationToken).ConfigureAwait(false);
        await connection.WriteLineAsync("", cancellationToken).ConfigureAwait(false);
        await ReadTaggedAsync(connection, tag, "APPEND", cancellationToken).ConfigureAwait(false);
        return _message.Length;
    }

    public async Task CloseAsync(BenchConnection connection, CancellationToken cancellationToken) =>
        await CommandAsync(connection, "LOGOUT", cancellationToken).ConfigureAwait(false);

    private static async Task<ImapReply> CommandAsync(BenchConnection connection, string command, CancellationToken cancellationToken)
    {
        var tag = NextTag();
        await connection.WriteLineAsync(tag + " " + command, cancellationToken).ConfigureAwait(false);
        var space = command.IndexOf(' ', StringComparison.Ordinal);
        return await ReadTaggedAsync(connection, tag, space < 0 ? command : command[..space], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads untagged responses (skipping literals, counting their octets) up to the tagged OK.</summary>
    private static async Task<ImapReply> ReadTaggedAsync(BenchConnection connection, string tag, string what, CancellationToken cancellationToken)
    {
        // Lines are examined in the receive buffer: a sync's reply is a thousand lines, and a string, two regular
        // expressions and a concatenation per line made the tool, not the server, the cost of the operation.
        var tagPrefix = Encoding.ASCII.GetBytes(tag + " ");
        long payload = 0;
        long exists = -1;
        while (true)
        {
            var (tagged, literal) = ScanBuffered(connection, tagPrefix, ref exists);
            if (tagged is not null)
            {
                ScenarioCatalog.Expect(tagged[(tag.Length + 1)..], what, "OK");
                return new ImapReply(payload, exists);
            }

            if (literal >= 0)
            {
                payload += await connection.SkipAsync(literal, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await connection.ReadMoreAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the whole lines buffered: stops at the tagged line, at a literal to skip, or when more must be read.</summary>
    private static (string? Tagged, long Literal) ScanBuffered(BenchConnection connection, byte[] tagPrefix, ref long exists)
    {
        while (true)
        {
            var buffered = connection.Buffered;
            var lf = buffered.IndexOf((byte)'\n');
            if (lf < 0)
            {
                return (null, -1);
            }

            var line = buffered[..lf];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.StartsWith(tagPrefix))
            {
                var text = Encoding.UTF8.GetString(line);
                connection.Take(lf + 1);
                return (text, -1);
            }

            long literal = -1;
            if (line.EndsWith("}"u8) && line.LastIndexOf((byte)'{') is var open and >= 0
                && line[(open + 1)..^1].TrimEnd((byte)'+') is var digits && Utf8Parser.TryParse(digits, out long count, out var used) && used == digits.Length)
            {
                literal = count;
            }
            else if (line.StartsWith("* "u8) && line.Length > 9 && Ascii.EqualsIgnoreCase(line[^7..], " EXISTS"u8)
                && Utf8Parser.TryParse(line[2..^7], out long number, out var numberLength) && numberLength == line.Length - 9)
            {
                exists = number;
            }

            connection.Take(lf + 1);
            if (literal >= 0)
            {
                return (null, literal);
            }
        }
    }

    private static string NextTag() => "b" + Interlocked.Increment(ref s_tag).ToString(CultureInfo.InvariantCulture);

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private readonly record struct ImapReply(long Payload, long Exists);
}
