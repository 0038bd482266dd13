using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Authentication;
using Postern.Bench.Scenarios;

namespace Postern.Bench;

/// <summary>What a run measured.</summary>
internal sealed record LoadResult(
    int Operations,
    int Errors,
    TimeSpan Elapsed,
    long PayloadBytes,
    LatencySummary Latency,
    LatencySummary SessionSetup,
    IReadOnlyDictionary<string, int> TlsVersions,
    IReadOnlyDictionary<string, int> ErrorSamples,
    IReadOnlyList<(string Command, LatencySummary Latency)> PerCommand);

/// <summary>Runs C workers that share N operations; each worker keeps (or reopens) its own connection.</summary>
internal sealed class LoadRunner(IScenario scenario, BenchOptions options)
{
    private readonly ConcurrentDictionary<string, int> _tlsVersions = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private readonly ConcurrentBag<List<double>> _latencies = [];
    private readonly ConcurrentBag<List<double>> _setups = [];
    private readonly ConcurrentBag<List<(string Command, double Ms)>> _perCommand = [];
    private long _remaining;
    private long _next;
    private long _payload;
    private int _ok;
    private int _failed;

    public async Task<LoadResult> RunAsync(int count, CancellationToken cancellationToken)
    {
        _remaining = count;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, options.Connections).Select(w => Task.Run(() => WorkerAsync(w, cancellationToken), cancellationToken)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        clock.Stop();
        return new LoadResult(
            _ok,
            _failed,
            clock.Elapsed,
            _payload,
            LatencySummary.Of(_latencies.SelectMany(l => l)),
            LatencySummary.Of(_setups.SelectMany(l => l)),
            _tlsVersions,
            _errors,
            [.. _perCommand.SelectMany(l => l).GroupBy(s => s.Command).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, LatencySummary.Of(g.Select(s => s.Ms))))]);
    }

    private async Task WorkerAsync(int worker, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        var setups = new List<double>();
        _latencies.Add(latencies);
        _setups.Add(setups);
        var perCommand = new List<(string Command, double Ms)>();
        _perCommand.Add(perCommand);
        BenchConnection? session = null;
        var consecutiveFailures = 0;
        try
        {
            while (Interlocked.Decrement(ref _remaining) >= 0 && !cancellationToken.IsCancellationRequested)
            {
                var operation = Interlocked.Increment(ref _next) - 1;
                try
                {
                    if (scenario.KeepsSession)
                    {
                        if (session is null)
                        {
                            var opened = Stopwatch.GetTimestamp();
                            session = await scenario.OpenAsync(worker, cancellationToken).ConfigureAwait(false);
                            setups.Add(Stopwatch.GetElapsedTime(opened).TotalMilliseconds);
                            NoteTls(session.TlsProtocol);
                        }

                        var started = Stopwatch.GetTimestamp();
                        var bytes = await scenario.OperateAsync(session, worker, operation, cancellationToken).ConfigureAwait(false);
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        latencies.Add(elapsed);
                        if (scenario.CommandOf(operation) is { } command)
                        {
                            perCommand.Add((command, elapsed));
                        }

                        Interlocked.Add(ref _payload, bytes);
                    }
                    else
                    {
                        var started = Stopwatch.GetTimestamp();
                        await using var connection = await scenario.OpenAsync(worker, cancellationToken).ConfigureAwait(false);
                        NoteTls(connection.TlsProtocol);
                        var bytes = await scenario.OperateAsync(connection, worker, operation, cancellationToken).ConfigureAwait(false);
                        await scenario.CloseAsync(connection, cancellationToken).ConfigureAwait(false);
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        Interlocked.Add(ref _payload, bytes);
                    }

                    Interlocked.Increment(ref _ok);
                    consecutiveFailures = 0;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _failed);
                    var key = ex is BenchProtocolException ? ex.Message : ex.GetType().Name + ": " + ex.Message;
                    _errors.AddOrUpdate(key, 1, (_, n) => n + 1);
                    if (session is not null)
                    {
                        await session.DisposeAsync().ConfigureAwait(false);
                        session = null;
                    }

                    // A server that refuses everything should not be hammered in a tight loop.
                    if (++consecutiveFailures > 3)
                    {
                        await Task.Delay(Math.Min(1000, 10 * consecutiveFailures), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            if (session is not null)
            {
                try
                {
                    await scenario.CloseAsync(session, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is BenchProtocolException or IOException)
                {
                }

                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private void NoteTls(SslProtocols? protocol)
    {
        var name = protocol switch
        {
            null => "none",
            SslProtocols.Tls13 => "TLS 1.3",
            SslProtocols.Tls12 => "TLS 1.2",
            { } other => other.ToString(),
        };
        _tlsVersions.AddOrUpdate(name, 1, (_, n) => n + 1);
    }
}

/// <summary>Latency percentiles in milliseconds.</summary>
internal sealed record LatencySummary(int Count, double Mean, double P50, double P90, double P99, double Max)
{
    public static LatencySummary Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0);
        }

        return new LatencySummary(sorted.Length, sorted.Average(), Percentile(sorted, 0.50), Percentile(sorted, 0.90), Percentile(sorted, 0.99), sorted[^1]);
    }

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    public static double Percentile(double[] sorted, double fraction)
    {
        var rank = (int)Math.Ceiling(fraction * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
