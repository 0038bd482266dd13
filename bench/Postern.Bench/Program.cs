using System.Globalization;
using Postern.Bench;
using Postern.Bench.Scenarios;

// "micro": BenchmarkDotNet for the protocol grammars (parsers, encoders), in-process, no network.
if (args.Length > 0 && args[0] == "micro")
{
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
    return 0;
}

if (args.Length == 0 || args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return args.Length == 0 ? 2 : 0;
}

if (!BenchOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine("try --help");
    return 2;
}

// The tool's socket continuations run on the socket engine's thread instead of hopping to a pool worker: a load tool
// never blocks there, and on a 2-core machine every hop it saves is CPU the server under test gets (POP3 RETR against
// one server: 13.0k -> 17.4k ops/s, client CPU per operation down a third). Read once, before the first socket;
// not for --in-process, where the server shares the process and would inherit it.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (!options.InProcess && Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

InProcessPostern? inProcess = null;
try
{
    if (options.InProcess)
    {
        (inProcess, options) = await InProcessPostern.StartAsync(options, cancel.Token);
        if (options.ServerPid is null)
        {
            options = options with { ServerPid = Environment.ProcessId };
        }

        Console.WriteLine($"in-process Postern POP3 on 127.0.0.1:{options.Port} (users {options.User}, password {options.Password}; 1,000 PBKDF2 iterations, not the production 600,000)");
    }

    if (options.Scenario == "imap-idle-hold")
    {
        options = options with { Port = options.Port ?? (options.Tls == TlsMode.Implicit ? 993 : 143) };
        return await ImapIdleHold.RunAsync(options, cancel.Token);
    }

    var scenario = ScenarioCatalog.Create(options);
    if (scenario is null)
    {
        Console.Error.WriteLine($"unknown scenario '{options.Scenario}'; try --help");
        return 2;
    }

    options = options with { Port = options.Port ?? scenario.DefaultPort(options.Tls) };
    var warmupClock = System.Diagnostics.Stopwatch.StartNew();
    if (options.Warmup > 0)
    {
        await new LoadRunner(scenario, options).RunAsync(options.Warmup, cancel.Token);
    }

    while (warmupClock.Elapsed.TotalSeconds < options.WarmupSeconds && !cancel.IsCancellationRequested)
    {
        await new LoadRunner(scenario, options).RunAsync(Math.Max(options.Warmup, 100), cancel.Token);
    }

    ProcessSample? before = null;
    var peakReset = false;
    if (options.ServerPid is { } pid)
    {
        peakReset = ServerProcessSampler.TryResetPeak(pid);
        before = ServerProcessSampler.Sample(pid, options.MoreServerPids);
        if (before is null)
        {
            Console.Error.WriteLine($"warning: cannot read /proc/{pid}; no server figures");
        }
    }

    var result = await new LoadRunner(scenario, options).RunAsync(options.Count, cancel.Token);
    var after = options.ServerPid is { } samplePid && before is not null ? ServerProcessSampler.Sample(samplePid, options.MoreServerPids) : null;
    Report.Write(Console.Out, scenario, options, result, before, after, peakReset);
    return result.Errors == 0 ? 0 : 1;
}
finally
{
    if (inProcess is not null)
    {
        await inProcess.DisposeAsync();
    }
}

internal static class Report
{
    public static void Write(TextWriter output, IScenario scenario, BenchOptions options, LoadResult result, ProcessSample? before, ProcessSample? after, bool peakReset)
    {
        var c = CultureInfo.InvariantCulture;
        var seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-9);
        var tls = string.Join(", ", result.TlsVersions.OrderByDescending(t => t.Value).Select(t => $"{t.Key} ×{t.Value}"));
        output.WriteLine(string.Create(c, $"scenario     {scenario.Name} against {options.Host}:{options.Port} (--tls {options.Tls.ToString().ToLowerInvariant()}; negotiated: {tls})"));
        output.WriteLine(string.Create(c, $"load         {options.Connections} connections, {options.Count} operations, {options.SizeKb} KB messages"));
        output.WriteLine(string.Create(c, $"result       {result.Operations} ok, {result.Errors} errors in {seconds:0.000} s"));
        output.WriteLine(string.Create(c, $"throughput   {result.Operations / seconds:0.0} ops/s, payload {result.PayloadBytes / seconds / (1024 * 1024):0.00} MB/s"));
        WriteLatency(output, "latency", result.Latency);
        if (scenario.KeepsSession)
        {
            WriteLatency(output, "session open", result.SessionSetup);
        }

        foreach (var (command, latency) in result.PerCommand)
        {
            WriteLatency(output, "  " + command.PadRight(26), latency);
        }

        if (before is not null && after is not null)
        {
            var cpu = after.CpuMilliseconds - before.CpuMilliseconds;
            output.WriteLine(string.Create(c, $"server       pid {options.ServerPid}: peak RSS (VmHWM) {after.PeakRssKb / 1024.0:0.0} MB{(peakReset ? " during the run" : " since it started")}"));
            if (after.Processes > 1 || before.Processes > 1)
            {
                output.WriteLine(string.Create(c, $"server tree  {before.Processes} → {after.Processes} processes, RSS {before.TreeRssKb / 1024.0:0.0} → {after.TreeRssKb / 1024.0:0.0} MB, sum of peaks {after.TreePeakRssKb / 1024.0:0.0} MB"));
            }

            output.WriteLine(string.Create(c, $"server CPU   {cpu:0} ms total, {(result.Operations > 0 ? cpu / result.Operations : 0):0.000} ms/op (process tree; 10 ms ticks){(options.InProcess ? "; in-process: includes the load generator" : "")}"));
        }

        foreach (var (message, count) in result.ErrorSamples.OrderByDescending(e => e.Value).Take(5))
        {
            output.WriteLine(string.Create(c, $"error ×{count,-6} {message}"));
        }
    }

    private static void WriteLatency(TextWriter output, string label, LatencySummary latency) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-12} ms: p50 {latency.P50:0.00}  p90 {latency.P90:0.00}  p99 {latency.P99:0.00}  max {latency.Max:0.00}  mean {latency.Mean:0.00}  (n={latency.Count})"));
}
