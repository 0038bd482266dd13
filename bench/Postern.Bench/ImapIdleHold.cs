using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Postern.Bench;

/// <summary>
/// imap-idle-hold: opens --count connections (--connections at a time), each [TLS], LOGIN, SELECT INBOX and
/// IDLE (RFC 2177), holds them all for --hold seconds, and reports the server's memory while they are held.
/// The question it answers: what does an idle, authenticated, selected IMAP client cost the server?
/// </summary>
internal static class ImapIdleHold
{
    private static long s_tag;

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        var before = options.ServerPid is { } pid ? ServerProcessSampler.Sample(pid, options.MoreServerPids) : null;
        var held = new ConcurrentBag<BenchConnection>();
        var errors = new ConcurrentDictionary<string, int>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        var openers = Enumerable.Range(0, options.Connections).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < options.Count && !cancellationToken.IsCancellationRequested)
            {
                try
                {
                    held.Add(await OpenIdleAsync(options, n, cancellationToken).ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    errors.AddOrUpdate(ex is BenchProtocolException ? ex.Message : ex.GetType().Name + ": " + ex.Message, 1, (_, k) => k + 1);
                }
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(openers).ConfigureAwait(false);
        var opened = clock.Elapsed;
        Console.WriteLine(string.Create(c, $"scenario     imap-idle-hold against {options.Host}:{options.Port} (--tls {options.Tls.ToString().ToLowerInvariant()})"));
        Console.WriteLine(string.Create(c, $"load         {options.Count} connections opened {options.Connections} at a time; each LOGIN, SELECT INBOX, IDLE"));
        Console.WriteLine(string.Create(c, $"result       {held.Count} idling, {errors.Values.Sum()} failed; opened in {opened.TotalSeconds:0.0} s ({held.Count / Math.Max(opened.TotalSeconds, 1e-9):0.0} connections/s)"));

        // Let the server settle (GC, pools) before reading its memory, then hold.
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, options.HoldSeconds)), cancellationToken).ConfigureAwait(false);
        var during = options.ServerPid is { } samplePid ? ServerProcessSampler.Sample(samplePid, options.MoreServerPids) : null;
        if (before is not null && during is not null)
        {
            var perConnection = held.IsEmpty ? 0 : (during.TreeRssKb - before.TreeRssKb) / (double)held.Count;
            Console.WriteLine(string.Create(c, $"server       pid {options.ServerPid}: {before.Processes} → {during.Processes} processes; RSS {before.TreeRssKb / 1024.0:0.0} MB before, {during.TreeRssKb / 1024.0:0.0} MB holding {held.Count} ({perConnection:0.0} KB per connection); peak RSS of the main process {during.PeakRssKb / 1024.0:0.0} MB, sum of peaks {during.TreePeakRssKb / 1024.0:0.0} MB"));
            Console.WriteLine(string.Create(c, $"server CPU   {during.CpuMilliseconds - before.CpuMilliseconds:0} ms for opening and holding, {(held.IsEmpty ? 0 : (during.CpuMilliseconds - before.CpuMilliseconds) / held.Count):0.000} ms per connection"));
        }

        foreach (var (message, count) in errors.OrderByDescending(e => e.Value).Take(5))
        {
            Console.WriteLine(string.Create(c, $"error ×{count,-6} {message}"));
        }

        // DONE and LOGOUT are not measured; the connections are simply closed.
        foreach (var connection in held)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        return errors.IsEmpty ? 0 : 1;
    }

    private static async Task<BenchConnection> OpenIdleAsync(BenchOptions options, int n, CancellationToken cancellationToken)
    {
        var connection = await BenchConnection.ConnectAsync(options.Host, options.Port!.Value, options.Tls == TlsMode.Implicit, options.Timeout, cancellationToken).ConfigureAwait(false);
        try
        {
            ScenarioOutcome(await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false), "greeting", "* OK");
            if (options.Tls == TlsMode.StartTls)
            {
                await CommandAsync(connection, "STARTTLS", cancellationToken).ConfigureAwait(false);
                await connection.StartTlsAsync(cancellationToken).ConfigureAwait(false);
            }

            var user = options.UserFor(n) ?? "";
            await CommandAsync(connection, $"LOGIN \"{user}\" \"{options.Password}\"", cancellationToken).ConfigureAwait(false);
            await CommandAsync(connection, "SELECT INBOX", cancellationToken).ConfigureAwait(false);
            await connection.WriteLineAsync(NextTag() + " IDLE", cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var line = await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line.StartsWith('+'))
                {
                    return connection;
                }

                if (!line.StartsWith('*'))
                {
                    throw new BenchProtocolException("IDLE: " + line);
                }
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task CommandAsync(BenchConnection connection, string command, CancellationToken cancellationToken)
    {
        var tag = NextTag();
        await connection.WriteLineAsync(tag + " " + command, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var line = await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                ScenarioOutcome(line[(tag.Length + 1)..], command.Split(' ')[0], "OK");
                return;
            }
        }
    }

    private static void ScenarioOutcome(string reply, string what, string prefix) => Scenarios.ScenarioCatalog.Expect(reply, what, prefix);

    private static string NextTag() => "h" + Interlocked.Increment(ref s_tag).ToString(CultureInfo.InvariantCulture);
}
