namespace Postern.Bench.Scenarios;

/// <summary>pop3-session: connect, [STLS], USER/PASS, STAT, RETR 1 (when the maildrop is not empty), QUIT.</summary>
internal sealed class Pop3SessionScenario(BenchOptions options) : IScenario
{
    public string Name => "pop3-session";

    public bool KeepsSession => false;

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
        var stat = ScenarioCatalog.Expect(await connection.CommandAsync("STAT", cancellationToken).ConfigureAwait(false), "STAT", "+OK");
        var parts = stat.Split(' ');
        if (parts.Length < 2 || parts[1] == "0")
        {
            return 0;
        }

        ScenarioCatalog.Expect(await connection.CommandAsync("RETR 1", cancellationToken).ConfigureAwait(false), "RETR", "+OK");
        return await connection.ReadDotTerminatedAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task CloseAsync(BenchConnection connection, CancellationToken cancellationToken) =>
        ScenarioCatalog.Expect(await connection.CommandAsync("QUIT", cancellationToken).ConfigureAwait(false), "QUIT", "+OK");
}
