using System.Collections.Concurrent;
using System.Globalization;

namespace Postern.Bench.Scenarios;

/// <summary>
/// nntp-post, nntp-article and nntp-connect (RFC 3977, RFC 4642 STARTTLS, RFC 4643 AUTHINFO). nntp-connect times
/// a whole reader connection: connect, [TLS], greeting, MODE READER, [AUTHINFO], QUIT.
/// </summary>
internal sealed class NntpScenario(BenchOptions options, bool post, bool connectOnly = false) : IScenario
{
    private readonly ConcurrentDictionary<int, (long Low, long High)> _ranges = new();

    public string Name => connectOnly ? "nntp-connect" : post ? "nntp-post" : "nntp-article";

    public bool KeepsSession => !connectOnly;

    public int DefaultPort(TlsMode tls) => tls == TlsMode.Implicit ? 563 : 119;

    public async Task<BenchConnection> OpenAsync(int worker, CancellationToken cancellationToken)
    {
        var connection = await BenchConnection.ConnectAsync(options.Host, options.Port!.Value, options.Tls == TlsMode.Implicit, options.Timeout, cancellationToken).ConfigureAwait(false);
        try
        {
            ScenarioCatalog.Expect(await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false), "greeting", "200", "201");
            if (options.Tls == TlsMode.StartTls)
            {
                ScenarioCatalog.Expect(await connection.CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false), "STARTTLS", "382");
                await connection.StartTlsAsync(cancellationToken).ConfigureAwait(false);
            }

            // INN's innd hands reader commands to nnrpd only after MODE READER; other servers answer 200/201 or 5xx.
            await connection.CommandAsync("MODE READER", cancellationToken).ConfigureAwait(false);
            if (options.UserFor(worker) is { } user)
            {
                ScenarioCatalog.Expect(await connection.CommandAsync("AUTHINFO USER " + user, cancellationToken).ConfigureAwait(false), "AUTHINFO USER", "381", "281");
                ScenarioCatalog.Expect(await connection.CommandAsync("AUTHINFO PASS " + options.Password, cancellationToken).ConfigureAwait(false), "AUTHINFO PASS", "281");
            }

            if (!post && !connectOnly)
            {
                // 211 number low high group
                var reply = ScenarioCatalog.Expect(await connection.CommandAsync("GROUP " + options.Group, cancellationToken).ConfigureAwait(false), "GROUP", "211");
                var parts = reply.Split(' ');
                var count = long.Parse(parts[1], CultureInfo.InvariantCulture);
                if (count == 0)
                {
                    throw new BenchProtocolException($"group {options.Group} is empty; run nntp-post first");
                }

                _ranges[worker] = (long.Parse(parts[2], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture));
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
        if (connectOnly)
        {
            return 0;
        }

        if (post)
        {
            // A fresh Message-ID each time: news servers refuse duplicates.
            var article = MessageFactory.DotStuff(MessageFactory.Create(options.SizeKb, options.From ?? "bench@example.test", "", options.Group, operation));
            ScenarioCatalog.Expect(await connection.CommandAsync("POST", cancellationToken).ConfigureAwait(false), "POST", "340");
            await connection.WriteAsync(article, cancellationToken).ConfigureAwait(false);
            await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
            ScenarioCatalog.Expect(await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false), "end of POST", "240");
            return article.Length;
        }

        var (low, high) = _ranges[worker];
        var number = low + (operation % (high - low + 1));
        var reply = await connection.CommandAsync("ARTICLE " + number.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        ScenarioCatalog.Expect(reply, "ARTICLE " + number.ToString(CultureInfo.InvariantCulture), "220");
        return await connection.ReadDotTerminatedAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task CloseAsync(BenchConnection connection, CancellationToken cancellationToken) =>
        await connection.CommandAsync("QUIT", cancellationToken).ConfigureAwait(false);
}
