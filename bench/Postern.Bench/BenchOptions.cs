using System.Globalization;

namespace Postern.Bench;

internal enum TlsMode
{
    None = 0,
    StartTls = 1,
    Implicit = 2,
}

/// <summary>Command-line options of the load generator.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        Postern.Bench: a network load generator for SMTP, POP3, IMAP and NNTP servers.

        usage: Postern.Bench --scenario NAME [options]
               Postern.Bench micro [BenchmarkDotNet options, e.g. --filter *Pop3*]

        scenarios:
          smtp-send      N messages of S KB over C connections (MAIL/RCPT/DATA); --connection-per-message for
                         a new connection (and STARTTLS handshake) per message
          pop3-session   per operation: connect, [STLS], USER/PASS, STAT, RETR 1, QUIT
          imap-session   per operation: connect, [STARTTLS], LOGIN, SELECT INBOX, FETCH 1:* (FLAGS BODY.PEEK[]), LOGOUT
          imap-fetch     sessions stay open (LOGIN, SELECT INBOX); per operation: FETCH <set> (FLAGS BODY.PEEK[])
          imap-append    sessions stay open (LOGIN); per operation: APPEND INBOX of S KB
          nntp-post      sessions stay open ([AUTHINFO]); per operation: POST an article of S KB to --group
          nntp-article   sessions stay open (GROUP); per operation: ARTICLE n, cycling through the group
          nntp-connect   per operation: connect, [TLS], greeting, MODE READER, [AUTHINFO], QUIT
          pop3-retr      sessions stay open (USER/PASS, STAT); per operation: RETR n, cycling through the maildrop
          imap-mixed     sessions stay open and selected; per operation one step of a ten-step client cycle:
                         UID FETCH 1:* FLAGS, FETCH ENVELOPE of 10, FETCH BODY.PEEK[], STORE +FLAGS, FETCH
                         header fields, SEARCH, STORE -FLAGS, STATUS, NOOP, APPEND of S KB
          imap-idle-hold open --count connections (--connections at a time), each LOGIN, SELECT INBOX, IDLE;
                         hold them --hold seconds and report the server's memory

        options:
          --host H               server address (127.0.0.1)
          --port P               server port (default: the scenario's standard port for --tls)
          --tls none|starttls|implicit
          --connections C        concurrent connections (4)
          --count N              operations in total (100)
          --size S               message size in KB for smtp-send, imap-append, nntp-post (4)
          --user U --password P  credentials; "{n}" in U is replaced by the connection number (0..C-1),
                                 e.g. --user "bench{n}@example.test" (POP3 locks a maildrop per session)
          --from A --to A        SMTP envelope (default: --user, or bench@example.test)
          --group G              newsgroup for nntp-post and nntp-article (postern.bench)
          --fetch-set S          message set for imap-fetch (1:*)
          --connection-per-message   smtp-send: new connection per message
          --pipelining           smtp-send: MAIL, RCPT and DATA in one write, as MTAs send them (RFC 2920)
          --timeout SECONDS      per reply (30)
          --server-pid PID[,PID] sample /proc/PID and its descendants (VmHWM, CPU time) before and after the run;
                                 more PIDs for servers made of unrelated daemons (INN's innd and nnrpd -D)
          --warmup N             operations run (and not measured) before the run (0)
          --warmup-seconds S     repeat the warm-up (at least 100 operations a round) until S seconds have passed:
                                 .NET's tiered JIT needs seconds, not a count, to reach its steady state (0)
          --hold SECONDS         imap-idle-hold: how long to hold the idling connections before sampling (10)
          --users U              "{n}" in --user becomes n modulo U (imap-idle-hold: connection n of --count);
                                 smtp-send: "{n}" in --to becomes the operation number modulo U
          --inprocess            start an in-process Postern POP3 server with C accounts and one message of S KB
                                 each, and run against it (a smoke test needing no installed server)
        """;

    public string Scenario { get; init; } = "";

    public string Host { get; init; } = "127.0.0.1";

    public int? Port { get; init; }

    public TlsMode Tls { get; init; } = TlsMode.None;

    public int Connections { get; init; } = 4;

    public int Count { get; init; } = 100;

    public int SizeKb { get; init; } = 4;

    public string? User { get; init; }

    public string? Password { get; init; }

    public string? From { get; init; }

    public string? To { get; init; }

    public string Group { get; init; } = "postern.bench";

    public string FetchSet { get; init; } = "1:*";

    public bool ConnectionPerMessage { get; init; }

    public bool Pipelining { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public int? ServerPid { get; init; }

    /// <summary>More server processes whose trees are added to the figures (--server-pid A,B).</summary>
    public IReadOnlyList<int> MoreServerPids { get; init; } = [];

    public int Warmup { get; init; }

    public int WarmupSeconds { get; init; }

    public bool InProcess { get; init; }

    public int HoldSeconds { get; init; } = 10;

    public int? Users { get; init; }

    /// <summary>The user name for one connection ("{n}" → connection number).</summary>
    public string? UserFor(int connection) => User?.Replace("{n}", (Users is { } users ? connection % users : connection).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public static bool TryParse(string[] args, out BenchOptions options, out string? error)
    {
        options = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name is "--connection-per-message")
            {
                options = options with { ConnectionPerMessage = true };
                continue;
            }

            if (name is "--pipelining")
            {
                options = options with { Pipelining = true };
                continue;
            }

            if (name is "--inprocess")
            {
                options = options with { InProcess = true };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{name} needs a value";
                return false;
            }

            var value = args[++i];
            switch (name)
            {
                case "--scenario":
                    options = options with { Scenario = value };
                    break;
                case "--host":
                    options = options with { Host = value };
                    break;
                case "--port" when TryInt(value, 1, 65535, out var port):
                    options = options with { Port = port };
                    break;
                case "--tls" when value is "none" or "starttls" or "implicit":
                    options = options with { Tls = value switch { "starttls" => TlsMode.StartTls, "implicit" => TlsMode.Implicit, _ => TlsMode.None } };
                    break;
                case "--connections" when TryInt(value, 1, 100_000, out var connections):
                    options = options with { Connections = connections };
                    break;
                case "--count" when TryInt(value, 1, int.MaxValue, out var count):
                    options = options with { Count = count };
                    break;
                case "--size" when TryInt(value, 0, 1024 * 1024, out var size):
                    options = options with { SizeKb = size };
                    break;
                case "--user":
                    options = options with { User = value };
                    break;
                case "--password":
                    options = options with { Password = value };
                    break;
                case "--from":
                    options = options with { From = value };
                    break;
                case "--to":
                    options = options with { To = value };
                    break;
                case "--group":
                    options = options with { Group = value };
                    break;
                case "--fetch-set":
                    options = options with { FetchSet = value };
                    break;
                case "--timeout" when TryInt(value, 1, 3600, out var seconds):
                    options = options with { Timeout = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--server-pid" when value.Split(',') is var pids && pids.All(p => TryInt(p, 1, int.MaxValue, out _)):
                    options = options with
                    {
                        ServerPid = int.Parse(pids[0], CultureInfo.InvariantCulture),
                        MoreServerPids = pids.Skip(1).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray(),
                    };
                    break;
                case "--hold" when TryInt(value, 0, 86_400, out var hold):
                    options = options with { HoldSeconds = hold };
                    break;
                case "--users" when TryInt(value, 1, int.MaxValue, out var users):
                    options = options with { Users = users };
                    break;
                case "--warmup" when TryInt(value, 0, int.MaxValue, out var warmup):
                    options = options with { Warmup = warmup };
                    break;
                case "--warmup-seconds" when TryInt(value, 0, 3600, out var warmupSeconds):
                    options = options with { WarmupSeconds = warmupSeconds };
                    break;
                default:
                    error = $"unknown option or bad value: {name} {value}";
                    return false;
            }
        }

        if (options.Scenario.Length == 0)
        {
            error = "--scenario is required";
            return false;
        }

        return true;
    }

    private static bool TryInt(string text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
}
