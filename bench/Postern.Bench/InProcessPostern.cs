using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Postern.Pki;
using Postern.Server.Connections;
using Postern.Server.Pop3;
using Postern.Store;

namespace Postern.Bench;

/// <summary>
/// A throwaway Postern server in this process (temporary store, self-signed certificate, ephemeral ports)
/// with the protocol handlers this build has, seeded with accounts and mail: a smoke target for the tool.
/// </summary>
internal sealed class InProcessPostern : IAsyncDisposable
{
    public const string DefaultPassword = "bench";

    private readonly string _dataDirectory;
    private readonly IPosternStore _store;
    private readonly VirtualServerHost _host;

    private InProcessPostern(string dataDirectory, IPosternStore store, VirtualServerHost host)
    {
        _dataDirectory = dataDirectory;
        _store = store;
        _host = host;
    }

    public static async Task<(InProcessPostern Server, BenchOptions Options)> StartAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        if (options.Scenario != "pop3-session")
        {
            throw new NotSupportedException("--inprocess serves POP3 only in this build; use --scenario pop3-session");
        }

        var dataDirectory = Path.Combine(Path.GetTempPath(), "postern-bench-" + Guid.NewGuid().ToString("N"));
        var store = PosternStoreFactory.Open(new StoreOptions { DataDirectory = dataDirectory, PasswordIterations = 1000 });
        var context = new ServerContext
        {
            Store = store,
            Certificates = new SelfSignedCertificate(),
            HostName = "localhost",
            LoggerFactory = NullLoggerFactory.Instance,
        };
        var server = Pop3Defaults.Create("localhost")[0] with
        {
            Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls), new Binding("127.0.0.1", 0, BindingMode.ImplicitTls)],
        };
        server = server with { Limits = server.Limits with { MaxConnectionsPerAddress = options.Connections + 100, MaxConnections = options.Connections + 100 } };
        var saved = await store.Configuration.SaveVirtualServerAsync(server, cancellationToken).ConfigureAwait(false);
        if (!saved.IsOk)
        {
            throw new InvalidOperationException(saved.Message);
        }

        var user = options.User ?? "bench{n}@example.test";
        var password = options.Password ?? DefaultPassword;
        var seeded = options with { User = user, Password = password };
        var users = user.Contains("{n}", StringComparison.Ordinal) ? Enumerable.Range(0, options.Connections).Select(i => seeded.UserFor(i)!).ToList() : [user];
        foreach (var address in users)
        {
            var account = await store.Directory.AddAccountAsync(address, password, cancellationToken).ConfigureAwait(false);
            var inbox = await store.Mail.GetMailboxAsync(account.Value!.Id, "INBOX", cancellationToken).ConfigureAwait(false);
            var message = MessageFactory.Create(options.SizeKb, "bench@example.test", address, null, 1);
            await store.Mail.AppendAsync(inbox!.Id, message, MessageFlags.None, [], DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
        }

        var host = new VirtualServerHost(context, [new Pop3ProtocolHandler(context)]);
        await host.ReloadAsync(cancellationToken).ConfigureAwait(false);
        var mode = options.Tls == TlsMode.Implicit ? BindingMode.ImplicitTls : BindingMode.StartTls;
        var port = host.Status.Single(s => s.Mode == mode && s.Listening).Port;
        return (new InProcessPostern(dataDirectory, store, host), seeded with { Host = "127.0.0.1", Port = port });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class SelfSignedCertificate : IServerCertificateSelector
    {
        private readonly SslStreamCertificateContext _context;

        public SelfSignedCertificate()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));

            // SslStream on Linux needs the key in a form OpenSSL can use: round-trip through PKCS#12.
            var loaded = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
            _context = SslStreamCertificateContext.Create(loaded, null, offline: true);
        }

        public SslStreamCertificateContext? Select(long virtualServerId, string? serverName) => _context;
    }
}
