using System.Collections.Concurrent;
using System.Globalization;

namespace Postern.Bench.Scenarios;

/// <summary>
/// pop3-retr: sessions stay open (connect, [STLS], USER/PASS, STAT once); per operation: RETR n, n cycling
/// through the maildrop. Measures message retrieval without the per-session login and lock.
/// </summary>
internal sealed class Pop3RetrScenario(BenchOptions options) : IScenario
{
    private readonly ConcurrentDictionary<int, int> _messages = new();

    public string Name => "pop3-retr";

    public bool KeepsSession => true;

    public int DefaultPort(TlsMode tls) => tls == TlsMode.Implicit ? 995 : 110;

    public async Task<BenchConnection> OpenAsync(int worker, CancellationToken cancellationToken)
    {
        var connection = await BenchConnection.ConnectAsync(options.Host, options.Port!.Value, options.Tls == TlsMode.Implicit, options.Timeout, cancellationToken).ConfigureAwait(false);
        try
        {
            ScenarioCatalog.Expect(await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false), "greeting", "+OK");
            if (options.Tls == TlsMode.StartTls)
            {
                ScenarioCatalog.Expect(await connection.CommandAsync("STLS", cancellationToken).ConfigureAwait(false), "STLS", "+OK");
                await connection.StartTlsAsync(cancellationToken).ConfigureAwait(false);
            }

            ScenarioCatalog.Expect(await connection.CommandAsync("USER " + options.UserFor(worker), cancellationToken).ConfigureAwait(false), "USER", "+OK");
            ScenarioCatalog.Expect(await connection.CommandAsync("PASS " + options.Password, cancellationToken).ConfigureAwait(false), "PASS", "+OK");
            var stat = ScenarioCatalog.Expect(await connection.CommandAsync("STAT", cancellationToken).ConfigureAwait(false), "STAT", "+OK").Split(' ');
            var count = stat.Length > 1 && int.TryParse(stat[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            if (count == 0)
            {
                throw new BenchProtocolException("pop3-retr: the maildrop of " + options.UserFor(worker) + " is empty; seed it first");
            }

            _messages[worker] = count;
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
        var message = (operation % _messages[worker]) + 1;
        ScenarioCatalog.Expect(await connection.CommandAsync("RETR " + message.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false), "RETR", "+OK");
        return await connection.ReadDotTerminatedAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task CloseAsync(BenchConnection connection, CancellationToken cancellationToken) =>
        ScenarioCatalog.Expect(await connection.CommandAsync("QUIT", cancellationToken).ConfigureAwait(false), "QUIT", "+OK");
}
