using System.Text;

namespace Postern.Bench.Scenarios;

/// <summary>smtp-send: EHLO, [STARTTLS, EHLO], [AUTH PLAIN], then MAIL/RCPT/DATA per message (RFC 5321, RFC 3207, RFC 4954).</summary>
internal sealed class SmtpSendScenario(BenchOptions options) : IScenario
{
    private readonly string _from = options.From ?? options.User ?? "bench@example.test";
    private readonly string _to = options.To ?? options.User ?? "bench@example.test";
    private byte[]? _message;

    public string Name => "smtp-send";

    public bool KeepsSession => !options.ConnectionPerMessage;

    public int DefaultPort(TlsMode tls) => tls == TlsMode.Implicit ? 465 : 25;

    public async Task<BenchConnection> OpenAsync(int worker, CancellationToken cancellationToken)
    {
        var connection = await BenchConnection.ConnectAsync(options.Host, options.Port!.Value, options.Tls == TlsMode.Implicit, options.Timeout, cancellationToken).ConfigureAwait(false);
        try
        {
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "greeting", "220");
            await connection.WriteLineAsync("EHLO bench.invalid", cancellationToken).ConfigureAwait(false);
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "EHLO", "250");
            if (options.Tls == TlsMode.StartTls)
            {
                ScenarioCatalog.Expect(await connection.CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false), "STARTTLS", "220");
                await connection.StartTlsAsync(cancellationToken).ConfigureAwait(false);
                await connection.WriteLineAsync("EHLO bench.invalid", cancellationToken).ConfigureAwait(false);
                ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "EHLO", "250");
            }

            if (options.UserFor(worker) is { } user)
            {
                var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{options.Password}"));
                await connection.WriteLineAsync("AUTH PLAIN " + plain, cancellationToken).ConfigureAwait(false);
                ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "AUTH", "235");
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
        _message ??= MessageFactory.DotStuff(MessageFactory.Create(options.SizeKb, _from, _to, null, operation));
        // "{n}" in --to spreads the load over mailboxes: n is the operation number modulo --users (else 1).
        var to = _to.Replace("{n}", (operation % (options.Users ?? 1)).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        if (options.Pipelining)
        {
            // RFC 2920 §3.1: DATA may end a group; the message itself waits for 354.
            await connection.WriteAsync(Encoding.ASCII.GetBytes($"MAIL FROM:<{_from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n"), cancellationToken).ConfigureAwait(false);
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "MAIL", "250");
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "RCPT", "250", "251");
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "DATA", "354");
        }
        else
        {
            await connection.WriteLineAsync($"MAIL FROM:<{_from}>", cancellationToken).ConfigureAwait(false);
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "MAIL", "250");
            await connection.WriteLineAsync($"RCPT TO:<{to}>", cancellationToken).ConfigureAwait(false);
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "RCPT", "250", "251");
            await connection.WriteLineAsync("DATA", cancellationToken).ConfigureAwait(false);
            ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "DATA", "354");
        }

        await connection.WriteAsync(_message, cancellationToken).ConfigureAwait(false);
        await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
        ScenarioCatalog.Expect(await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false), "end of DATA", "250");
        return _message.Length;
    }

    public async Task CloseAsync(BenchConnection connection, CancellationToken cancellationToken)
    {
        await connection.WriteLineAsync("QUIT", cancellationToken).ConfigureAwait(false);
        await ReadReplyAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>RFC 5321 §4.2.1: "250-..." lines continue, "250 ..." ends the reply; returns the last line.</summary>
    private static async Task<string> ReadReplyAsync(BenchConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.Length < 4 || line[3] != '-')
            {
                return line;
            }
        }
    }
}
