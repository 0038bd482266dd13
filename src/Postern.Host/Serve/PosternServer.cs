using System.Security.Cryptography.X509Certificates;
using Postern.Server.Connections;
using Postern.Server.Nntp;
using Postern.Server.Smtp;
using Postern.Server.Smtp.Outbound;
using Postern.Store;

namespace Postern.Host.Serve;

/// <summary>The running server: store, PKI, listeners and background services, composed once.</summary>
internal sealed class PosternServer : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private PosternServer(ServeOptions options, IPosternStore store, ServerContext context, VirtualServerHost host, CertificateServices certificates)
    {
        Options = options;
        Store = store;
        Context = context;
        Host = host;
        Certificates = certificates;
    }

    public ServeOptions Options { get; }

    public IPosternStore Store { get; }

    public ServerContext Context { get; }

    public VirtualServerHost Host { get; }

    public CertificateServices Certificates { get; }

    public OutboundDeliveryService Outbound { get; private set; } = null!;

    public required NewsFeedService NewsFeeds { get; init; }

    public string HostName => Context.HostName;

    public static async Task<PosternServer> StartAsync(ServeOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var logger = loggerFactory.CreateLogger<PosternServer>();
        var store = PosternStoreFactory.Open(new StoreOptions
        {
            DataDirectory = options.DataDirectory,
            PasswordIterations = options.PasswordIterations,
            Engine = options.StoreEngine,
            ConnectionString = options.StoreConnection,
            TrackCleanStop = true,
        });
        if (store.RecoveredFromUncleanStop)
        {
            logger.RecoveredFromUncleanStop();
        }

        // Nodes that start together on one new PostgreSQL store lay down one organization and one CA: the first to take
        // the lock does, the others find it done.
        string hostName;
        CertificateServices certificates;
        await using (await store.Database.LockAsync(NodeTask.FirstStart, cancellationToken).ConfigureAwait(false))
        {
            hostName = await FirstStartAsync(store, options, logger, cancellationToken).ConfigureAwait(false);
            var organization = await store.Configuration.GetSettingAsync(SettingKeys.OrganizationName, cancellationToken).ConfigureAwait(false) ?? options.Organization;
            certificates = await CertificateServices.StartAsync(store, hostName, organization, options.PortOffset, options.ExpiryWarningDays, options.ExpiryCheckInterval, options.PkiLimits, loggerFactory, cancellationToken).ConfigureAwait(false);
        }

        // One resolver for MX, DKIM and the checks: the system's, or the one --dns-server names.
        var dnsOptions = options.DnsServer is { } dnsServer ? new DnsClient.LookupClientOptions(dnsServer) : new DnsClient.LookupClientOptions();
        dnsOptions.UseCache = true;
        dnsOptions.Timeout = TimeSpan.FromSeconds(3);
        dnsOptions.Retries = 1;
        var dns = new DnsClient.LookupClient(dnsOptions);
        var context = new ServerContext
        {
            Store = store,
            Certificates = certificates.Selector,
            HostName = hostName,
            LoggerFactory = loggerFactory,
            PortOffset = options.PortOffset,
            MessageMemory = new MessageMemoryBudget(options.MaxMessageMemory),
            AuthThrottle = AuthenticationThrottle.WithLimits(options.AuthLimits, out var refusal) ?? throw new InvalidOperationException("--auth-limit: " + refusal),
            ClientCertificateAccounts = certificates.ResolveClientCertificateAsync,
            Dkim = new DkimKeys(store),
            InboundDkim = new DkimVerification(dns, hostName),
            Dns = dns,
        };

        // Outbound SMTP and news feeds verify peers against the system roots plus the organization's
        // trusted roots, read at each use so a root imported later counts at once.
        async Task<IReadOnlyList<X509Certificate2>> TrustedRootsAsync(CancellationToken ct) =>
            [.. (await certificates.Pki.ListTrustedRootPemsAsync(ct).ConfigureAwait(false)).Select(pem => X509Certificate2.CreateFromPem(pem))];

        async Task<IReadOnlyCollection<X509Certificate2>> OutboundRootsAsync(CancellationToken ct) => await TrustedRootsAsync(ct).ConfigureAwait(false);

        var newsFeeds = new NewsFeedService(context, new NewsFeedOptions { TrustedRootsProvider = TrustedRootsAsync });
        var host = new VirtualServerHost(context, ProtocolModules.Handlers(context, newsFeeds.Nudge));
        await host.ReloadAsync(cancellationToken).ConfigureAwait(false);
        var server = new PosternServer(options, store, context, host, certificates) { NewsFeeds = newsFeeds };
        server.Own(certificates);

        server.Outbound = new OutboundDeliveryService(store, hostName, new OutboundDeliveryOptions
        {
            HostName = hostName,
            RetryPeriod = options.QueueLifetime,
            MaxConcurrentDeliveries = options.MaxDeliveries,
            Timeout = options.DeliveryTimeout,
            // The lease outlasts any one attempt (every MX host, the data within four timeouts), also with a long timeout.
            DeliveryLease = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(15).Ticks, options.DeliveryTimeout.Ticks * 8)),
            TrustedRoots = OutboundRootsAsync,
            Resolver = new DnsMailExchangerResolver(dns),
            MtaSts = new MtaStsPolicies(dns, OutboundRootsAsync),
        }, loggerFactory);
        await server.Outbound.StartAsync(cancellationToken).ConfigureAwait(false);
        server.Own(new AsyncDisposer(() => server.Outbound.StopAsync(CancellationToken.None)));

        newsFeeds.Start();
        server.Own(newsFeeds);

        // Nodes sharing a PostgreSQL store apply each other's configuration changes.
        if (store.Database.Engine == "postgresql")
        {
            // No version seen yet: the first look reloads once, which covers a change made while this node started.
            server.Own(new SharedConfigurationWatch(store.Configuration, host, certificates.Pki, version: -1, logger));
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        // Stop accepting first, then the background services, then close the store they write to.
        await Host.DisposeAsync().ConfigureAwait(false);
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }

        await Store.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// First start lays down the article's configuration: the organization, its administrative group,
    /// this server and its default virtual servers. Later starts change nothing but an explicitly new host name.
    /// </summary>
    private static async Task<string> FirstStartAsync(IPosternStore store, ServeOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var configuration = store.Configuration;
        var storedHostName = await configuration.GetSettingAsync(SettingKeys.HostName, cancellationToken).ConfigureAwait(false);
        var hostName = options.HostName ?? storedHostName ?? HostNames.Default();
        if (!AddressSyntax.IsValidDomain(hostName))
        {
            throw new InvalidOperationException($"--host-name '{hostName}' is not a valid domain name");
        }

        if (storedHostName != hostName)
        {
            await configuration.SetSettingAsync(SettingKeys.HostName, hostName, cancellationToken).ConfigureAwait(false);
        }

        if (await configuration.GetSettingAsync(SettingKeys.OrganizationName, cancellationToken).ConfigureAwait(false) is null)
        {
            logger.FirstStart(options.Organization, hostName);
            await configuration.SetSettingAsync(SettingKeys.OrganizationName, options.Organization, cancellationToken).ConfigureAwait(false);
            await configuration.SetSettingAsync(SettingKeys.AdministrativeGroup, "First Administrative Group", cancellationToken).ConfigureAwait(false);
            await store.Directory.AddDomainAsync(hostName, cancellationToken).ConfigureAwait(false);
            foreach (var virtualServer in ProtocolModules.Defaults(hostName))
            {
                await configuration.SaveVirtualServerAsync(virtualServer, cancellationToken).ConfigureAwait(false);
            }
        }

        return hostName;
    }

    public void Own(IAsyncDisposable disposable) => _owned.Add(disposable);

    /// <summary>The HTTP virtual server's listeners, which Kestrel owns.</summary>
    public IReadOnlyList<ListenerStatus> HttpListeners { get; set; } = [];

    public IReadOnlyList<ListenerStatus> ListenerStatus => [.. Host.Status, .. HttpListeners];

    private sealed class AsyncDisposer(Func<Task> dispose) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await dispose().ConfigureAwait(false);
    }
}
