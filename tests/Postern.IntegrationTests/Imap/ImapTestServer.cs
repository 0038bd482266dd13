using System.Net.Sockets;
using System.Text;
using MailKit.Net.Imap;
using MailKit.Security;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Imap;
using Postern.Store;

namespace Postern.IntegrationTests.Imap;

/// <summary>An in-process server with one IMAP virtual server (clear text + STARTTLS, and implicit TLS) and one account.</summary>
internal sealed class ImapTestServer : IAsyncDisposable
{
    public const string VirtualServerName = "IMAP";
    public const string User = "alice@example.test";
    public const string Password = "correct horse";

    private ImapTestServer(InProcessServer server, Account account)
    {
        Server = server;
        Account = account;
    }

    public InProcessServer Server { get; }

    public Account Account { get; }

    public int PlainPort => Server.PortOf(VirtualServerName, BindingMode.StartTls);

    public int TlsPort => Server.PortOf(VirtualServerName, BindingMode.ImplicitTls);

    public static async Task<ImapTestServer> StartAsync(bool requireSecureChannel = false, int maxBadCommands = 20, int idleTimeoutSeconds = 300,
        IReadOnlyDictionary<string, string>? settings = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var server = await InProcessServer.StartAsync(context => [new ImapProtocolHandler(context)],
        [
            new VirtualServer
            {
                Name = VirtualServerName,
                Protocol = ServiceProtocol.Imap,
                Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls), new Binding("127.0.0.1", 0, BindingMode.ImplicitTls)],
                // Transcripts log in over clear text for readability; the default (refused) has its own tests.
                Security = new SecurityOptions { RequireSecureChannel = requireSecureChannel, AllowPlaintextAuthentication = true },
                Limits = new ConnectionLimits { MaxBadCommands = maxBadCommands, MaxMessageSize = 1024 * 1024, IdleTimeoutSeconds = idleTimeoutSeconds },
                Settings = settings ?? new Dictionary<string, string>(),
            },
        ], loggerFactory: loggerFactory);
        await server.Store.Directory.AddDomainAsync("example.test", CancellationToken.None);
        var account = await server.Store.Directory.AddAccountAsync(User, Password, CancellationToken.None);
        Assert.True(account.IsOk, account.Message);
        return new ImapTestServer(server, account.Value!);
    }

    public async Task<ImapClient> ConnectAsync(bool login = true)
    {
        var client = new ImapClient { ServerCertificateValidationCallback = TestCertificates.Shared.Validate };
        await client.ConnectAsync("127.0.0.1", PlainPort, SecureSocketOptions.None);
        if (login)
        {
            await client.AuthenticateAsync(User, Password);
        }

        return client;
    }

    /// <summary>A raw connection for transcript tests: send lines, read lines.</summary>
    public async Task<RawImapClient> ConnectRawAsync()
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", PlainPort);
        var raw = new RawImapClient(tcp);
        Assert.StartsWith("* OK", await raw.ReadLineAsync(), StringComparison.Ordinal);
        return raw;
    }

    public async Task<long> DeliverAsync(string mailbox, string message, MessageFlags flags = MessageFlags.None)
    {
        var box = await Server.Store.Mail.GetMailboxAsync(Account.Id, mailbox, CancellationToken.None);
        if (box is null)
        {
            await Server.Store.Mail.EnsureDefaultMailboxesAsync(Account.Id, CancellationToken.None);
            box = await Server.Store.Mail.GetMailboxAsync(Account.Id, mailbox, CancellationToken.None);
        }

        var result = await Server.Store.Mail.AppendAsync(box!.Id, Encoding.UTF8.GetBytes(message.ReplaceLineEndings("\r\n")), flags, [], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.True(result.IsOk, result.Message);
        return result.Value!.Uid;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

internal sealed class RawImapClient(TcpClient tcp) : IDisposable
{
    private readonly NetworkStream _stream = tcp.GetStream();
    private readonly StreamReader _reader = new(tcp.GetStream(), Encoding.UTF8);

    public async Task SendAsync(string text) => await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] octets) => await _stream.WriteAsync(octets);

    public Task<string?> ReadLineAsync() => ReadLineAsync(TimeSpan.FromSeconds(10));

    public async Task<string?> ReadLineAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        return await _reader.ReadLineAsync(timeout.Token);
    }

    /// <summary>Reads lines up to and including the one that starts with <paramref name="tag"/>.</summary>
    public async Task<List<string>> ReadUntilTaggedAsync(string tag)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new IOException("connection closed; got: " + string.Join(" | ", lines));
            lines.Add(line);
            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                return lines;
            }
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        tcp.Dispose();
    }
}
