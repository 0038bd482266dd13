namespace Postern.Bench.Scenarios;

/// <summary>
/// A workload. Sessions are opened per worker; when <see cref="KeepsSession"/> is false, every operation
/// opens, operates and closes (and is timed as a whole), otherwise the session is opened once (timed
/// separately) and each operation on it is timed alone.
/// </summary>
internal interface IScenario
{
    string Name { get; }

    int DefaultPort(TlsMode tls);

    bool KeepsSession { get; }

    Task<BenchConnection> OpenAsync(int worker, CancellationToken cancellationToken);

    /// <summary>One operation; returns the payload octets it moved (message bodies sent or received).</summary>
    Task<long> OperateAsync(BenchConnection connection, int worker, long operation, CancellationToken cancellationToken);

    Task CloseAsync(BenchConnection connection, CancellationToken cancellationToken);

    /// <summary>The command an operation sends, where a scenario mixes several; latencies are then also reported per command.</summary>
    string? CommandOf(long operation) => null;
}

internal static class ScenarioCatalog
{
    public static IScenario? Create(BenchOptions options) => options.Scenario switch
    {
        "smtp-send" => new SmtpSendScenario(options),
        "pop3-session" => new Pop3SessionScenario(options),
        "pop3-retr" => new Pop3RetrScenario(options),
        "imap-session" => new ImapScenario(options, ImapScenario.Kind.Session),
        "imap-fetch" => new ImapScenario(options, ImapScenario.Kind.Fetch),
        "imap-append" => new ImapScenario(options, ImapScenario.Kind.Append),
        "imap-mixed" => new ImapScenario(options, ImapScenario.Kind.Mixed),
        "nntp-post" => new NntpScenario(options, post: true),
        "nntp-article" => new NntpScenario(options, post: false),
        "nntp-connect" => new NntpScenario(options, post: false, connectOnly: true),
        _ => null,
    };

    /// <summary>Throws unless the reply starts with one of the expected prefixes.</summary>
    public static string Expect(string reply, string what, params string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (reply.StartsWith(prefix, StringComparison.Ordinal))
            {
                return reply;
            }
        }

        throw new BenchProtocolException($"{what}: {Trim(reply)}");
    }

    private static string Trim(string reply) => reply.Length > 200 ? reply[..200] + "…" : reply;
}
