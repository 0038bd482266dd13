using System.CommandLine;
using Postern.Host.Cli;
using Postern.Host.Serve;

namespace Postern.Host;

/// <summary>The one executable's verbs: serve, and the admin verbs that talk to a running server (like doveadm).</summary>
internal static class PosternCommandLine
{
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Postern: SMTP, POP3, IMAP4 and NNTP virtual servers secured with your organization's certificates")
        {
            CliSupport.Data,
            CliSupport.Json,
        };
        root.Subcommands.Add(Serve());
        root.Subcommands.Add(DirectoryCommands.User());
        root.Subcommands.Add(DirectoryCommands.Domain());
        root.Subcommands.Add(DirectoryCommands.Alias());
        root.Subcommands.Add(DirectoryCommands.Queue());
        root.Subcommands.Add(VirtualServerCommands.Create());
        root.Subcommands.Add(RoutingCommands.Create());
        root.Subcommands.Add(NewsCommands.PublicFolder());
        root.Subcommands.Add(NewsCommands.News());
        root.Subcommands.Add(DkimCommands.Create());
        root.Subcommands.Add(StatsCommand.Create());
        foreach (var command in CertificateCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        // An argument starting with '@' is an address or a name here (user add @example.com), never a response file.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0 && parsed.CommandResult.Command.Subcommands.Count == 0)
        {
            // A verb's mistake (a misspelt option, a missing argument) is one line, as every refusal is: the error, its
            // suggestion and where to look, as doveadm answers, not the verb's whole usage. A group without its verb
            // still lists the verbs.
            return RefuseAsync(parsed);
        }

        return parsed.InvokeAsync();
    }

    private static async Task<int> RefuseAsync(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "postern" : result.Command.Name);
        }

        var errors = parsed.Errors.Select(e =>
        {
            // "Did you mean one of the following?" is followed by one choice per line.
            var lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.Length > 1 ? lines[0] + " " + string.Join(", ", lines[1..]) : lines.FirstOrDefault() ?? "";
        });
        await Console.Error.WriteLineAsync($"postern: {CliSupport.OneLine(string.Join(" ", errors))} Try '{string.Join(' ', names)} --help'.");
        return 1;
    }

    /// <summary>A serve option of NAME=VALUE limits, checked as a whole when the command line is parsed.</summary>
    private static Option<string[]> NamedLimitsOption(string name, string what, IReadOnlyList<string> names, Func<string[], string?> refusal)
    {
        var option = new Option<string[]>(name)
        {
            Description = $"NAME=VALUE limit {what} ({string.Join(", ", names)})",
            AllowMultipleArgumentsPerToken = true,
        };
        option.Validators.Add(result =>
        {
            if (refusal(result.GetValueOrDefault<string[]>() ?? []) is { } error)
            {
                result.AddError(name + ": " + error);
            }
        });
        return option;
    }

    private static Command Serve()
    {
        var portOffset = new Option<int>("--port-offset") { Description = "Add N to every standard port (e.g. 10000: SMTP on 10025, IMAP on 10143) so a non-root user can run the standard layout" };
        var hostName = new Option<string?>("--host-name") { Description = "The server's fully qualified name (banners, Received headers, the certificate)" };
        var organization = new Option<string>("--organization") { Description = "Organization name used at first start", DefaultValueFactory = _ => "First Organization" };
        var iterations = new Option<int>("--password-iterations") { Description = "PBKDF2-SHA256 iterations for new password hashes", DefaultValueFactory = _ => 600_000 };
        var warningDays = new Option<int>("--expiry-warning-days") { Description = "Warn (log and mail the postmaster) about certificates expiring within N days", DefaultValueFactory = _ => 30 };
        var checkInterval = new Option<int>("--expiry-check-interval") { Description = "Seconds between certificate expiry checks and automatic renewals", DefaultValueFactory = _ => 6 * 3600 };
        var storeEngine = new Option<string>("--store")
        {
            Description = "The store: sqlite (embedded, in the data folder) or postgresql (shared by several Postern nodes; needs --store-connection)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("POSTERN_STORE") ?? "sqlite",
        };
        storeEngine.AcceptOnlyFromAmong("sqlite", "postgresql");
        var storeConnection = new Option<string?>("--store-connection")
        {
            Description = "PostgreSQL connection string, e.g. \"Host=db;Database=postern;Username=postern\" (default: $POSTERN_STORE_CONNECTION, which keeps a password out of the process list)",
        };
        var dnsServer = new Option<string?>("--dns-server")
        {
            Description = "ADDRESS[:PORT] of the DNS server for MX and DKIM lookups (default: the system's resolvers, /etc/resolv.conf)",
        };
        dnsServer.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && !System.Net.IPEndPoint.TryParse(value, out _))
            {
                result.AddError($"--dns-server '{value}' is not ADDRESS[:PORT]");
            }
        });
        var queueLifetime = new Option<int>("--queue-lifetime") { Description = "Seconds outbound mail is retried before it is bounced (RFC 5321 §4.5.4.1 asks 4-5 days)", DefaultValueFactory = _ => 5 * 24 * 3600 };
        var maxDeliveries = new Option<int>("--max-deliveries") { Description = "Outbound deliveries at once", DefaultValueFactory = _ => 16 };
        var deliveryTimeout = new Option<int>("--delivery-timeout") { Description = "Seconds an outbound delivery waits for the next hop at each step", DefaultValueFactory = _ => 120 };
        var maxMessageMemory = new Option<int>("--max-message-memory")
        {
            Description = "MiB that all SMTP and NNTP sessions together may hold of messages on their way in; past it a message gets 452 (try later)",
            DefaultValueFactory = _ => (int)(Postern.Server.Connections.MessageMemoryBudget.DefaultCapacityBytes / (1024 * 1024)),
        };
        var pkiLimits = NamedLimitsOption("--pki-limit", "of the certificate authority and wizard, e.g. crl-validity-hours=24", Postern.Pki.PkiOptions.LimitNames,
            pairs => new Postern.Pki.PkiOptions().WithLimits(pairs, out var error) is null ? error : null);
        var authLimits = NamedLimitsOption("--auth-limit", "of the failed-logon throttle every protocol shares, e.g. max-failures=10", Postern.Server.Connections.AuthenticationThrottle.LimitNames,
            pairs => Postern.Server.Connections.AuthenticationThrottle.WithLimits(pairs, out var error) is null ? error : null);
        foreach (var positive in new[] { queueLifetime, maxDeliveries, deliveryTimeout, maxMessageMemory })
        {
            positive.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < 1)
                {
                    result.AddError($"{positive.Name} must be at least 1");
                }
            });
        }

        var serve = new Command("serve", "Run the server (creates the data folder, the organization's CA and default virtual servers on first start)")
        {
            portOffset, hostName, organization, iterations, warningDays, checkInterval, storeEngine, storeConnection, dnsServer,
            queueLifetime, maxDeliveries, deliveryTimeout, maxMessageMemory, pkiLimits, authLimits,
        };
        serve.SetAction(async (parse, ct) =>
        {
            var options = new ServeOptions
            {
                DataDirectory = parse.GetValue(CliSupport.Data)!,
                PortOffset = parse.GetValue(portOffset),
                HostName = parse.GetValue(hostName),
                Organization = parse.GetValue(organization)!,
                PasswordIterations = Math.Max(1000, parse.GetValue(iterations)),
                ExpiryWarningDays = Math.Max(1, parse.GetValue(warningDays)),
                ExpiryCheckInterval = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(checkInterval))),
                StoreEngine = parse.GetValue(storeEngine)!,
                StoreConnection = parse.GetValue(storeConnection) ?? Environment.GetEnvironmentVariable("POSTERN_STORE_CONNECTION"),
                DnsServer = parse.GetValue(dnsServer) is { } dns ? WithDnsPort(System.Net.IPEndPoint.Parse(dns)) : null,
                QueueLifetime = TimeSpan.FromSeconds(parse.GetValue(queueLifetime)),
                MaxDeliveries = parse.GetValue(maxDeliveries),
                DeliveryTimeout = TimeSpan.FromSeconds(parse.GetValue(deliveryTimeout)),
                MaxMessageMemory = parse.GetValue(maxMessageMemory) * 1024L * 1024,
                PkiLimits = parse.GetValue(pkiLimits) ?? [],
                AuthLimits = parse.GetValue(authLimits) ?? [],
            };
            try
            {
                return await ServeCommand.RunAsync(options, ct);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.Data.Common.DbException or ArgumentException or NotSupportedException
                or System.Security.Cryptography.CryptographicException or InvalidDataException)
            {
                // A store that cannot be opened (a PostgreSQL server that refuses us, a bad connection string, a master key
                // that is not the one the store's private keys were encrypted with) is one line.
                await Console.Error.WriteLineAsync("postern: " + CliSupport.OneLine(ex.Message));
                return 1;
            }
        });
        return serve;
    }

    private static System.Net.IPEndPoint WithDnsPort(System.Net.IPEndPoint endPoint) => endPoint.Port == 0 ? new System.Net.IPEndPoint(endPoint.Address, 53) : endPoint;
}
