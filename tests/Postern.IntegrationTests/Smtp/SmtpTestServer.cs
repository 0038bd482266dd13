using System.Net.Sockets;
using System.Text;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Connections;
using Postern.Server.Smtp;
using Postern.Store;

namespace Postern.IntegrationTests.Smtp;

/// <summary>An in-process server with a receiving ("Inbound") and a submission ("Submission") SMTP virtual server.</summary>
internal static class SmtpTestServer
{
    public const string Inbound = "Inbound";
    public const string Submission = "Submission";
    public const string Password = "correct horse battery";

    public static VirtualServer InboundServer(ConnectionLimits? limits = null, IReadOnlyList<string>? relay = null, IReadOnlyDictionary<string, string>? settings = null) => new()
    {
        Name = Inbound,
        Protocol = ServiceProtocol.Smtp,
        ServerName = "mx.example.test",
        Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls)],
        Limits = limits ?? new ConnectionLimits(),
        RelayAddresses = relay ?? [],
        Settings = settings ?? new Dictionary<string, string>(),
    };

    public static VirtualServer SubmissionServer(ConnectionLimits? limits = null) => new()
    {
        Name = Submission,
        Protocol = ServiceProtocol.Smtp,
        ServerName = "smtp.example.test",
        Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls), new Binding("127.0.0.1", 0, BindingMode.ImplicitTls)],
        Security = new SecurityOptions { RequireSecureChannel = true },
        RequireAuthentication = true,
        Limits = limits ?? new ConnectionLimits(),
    };

    public static Task<InProcessServer> StartAsync(string domain = "example.test", params VirtualServer[] servers) => StartAsync(null, domain, servers);

    /// <summary>A server whose SMTP sessions share the given message memory.</summary>
    public static async Task<InProcessServer> StartAsync(MessageMemoryBudget? messageMemory, string domain, params VirtualServer[] servers)
    {
        var server = await InProcessServer.StartAsync(_ => [new SmtpProtocolHandler("mail.example.test")], servers.Length > 0 ? servers : [InboundServer(), SubmissionServer()], messageMemory: messageMemory);
        await server.Store.Directory.AddDomainAsync(domain, CancellationToken.None);
        Assert.True((await server.Store.Directory.AddAccountAsync("alice@" + domain, Password, CancellationToken.None)).IsOk);
        Assert.True((await server.Store.Directory.AddAccountAsync("bob@" + domain, Password, CancellationToken.None)).IsOk);
        return server;
    }

    public static async Task<IReadOnlyList<byte[]>> InboxAsync(InProcessServer server, string address)
    {
        var account = await server.Store.Directory.FindAccountAsync(address, CancellationToken.None);
        Assert.NotNull(account);
        var inbox = await server.Store.Mail.GetMailboxAsync(account.Id, "INBOX", CancellationToken.None);
        if (inbox is null)
        {
            return [];
        }

        var result = new List<byte[]>();
        foreach (var message in await server.Store.Mail.ListMessagesAsync(inbox.Id, CancellationToken.None))
        {
            result.Add(await server.Store.Mail.ReadContentAsync(message.BlobId, CancellationToken.None));
        }

        return result;
    }

    public static async Task<IReadOnlyList<byte[]>> WaitForInboxAsync(InProcessServer server, string address, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var messages = await InboxAsync(server, address);
            if (messages.Count >= count || DateTime.UtcNow > deadline)
            {
                return messages;
            }

            await Task.Delay(100);
        }
    }
}

/// <summary>A raw SMTP client for bad input: writes exact bytes, reads whole (multi-line) replies.</summary>
internal sealed class RawSmtpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly List<byte> _pending = [];

    private RawSmtpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public Stream Stream => _stream;

    public static async Task<RawSmtpClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new RawSmtpClient(tcp);
        var greeting = await client.ReadReplyAsync();
        Assert.StartsWith("220 ", greeting);
        return client;
    }

    /// <summary>Connects to an implicit-TLS port and reads the greeting over TLS.</summary>
    public static async Task<RawSmtpClient> ConnectTlsAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new RawSmtpClient(tcp);
        await client.StartTlsAsync();
        Assert.StartsWith("220 ", await client.ReadReplyAsync());
        return client;
    }

    public async Task StartTlsAsync()
    {
        var ssl = new System.Net.Security.SslStream(_stream, false, TestCertificates.Shared.Validate);
        await ssl.AuthenticateAsClientAsync("localhost");
        _stream = ssl;
        _pending.Clear();
    }

    public Task WriteAsync(string text) => WriteAsync(Encoding.UTF8.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task<string> CommandAsync(string line)
    {
        await WriteAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>Reads one reply (all its lines); "" when the server closed the connection.</summary>
    public async Task<string> ReadReplyAsync(int timeoutMs = 10_000)
    {
        var reply = new StringBuilder();
        while (true)
        {
            var line = await ReadLineAsync(timeoutMs);
            if (line is null)
            {
                return reply.ToString();
            }

            reply.Append(line).Append('\n');
            if (line.Length < 4 || line[3] == ' ')
            {
                return reply.ToString().TrimEnd('\n');
            }
        }
    }

    /// <summary>True when nothing arrives within the wait (used to prove a command was never answered).</summary>
    public async Task<bool> IsSilentAsync(int waitMs)
    {
        using var cts = new CancellationTokenSource(waitMs);
        var buffer = new byte[1];
        try
        {
            var n = await _stream.ReadAsync(buffer, cts.Token);
            if (n > 0)
            {
                _pending.Add(buffer[0]);
            }

            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync(int timeoutMs)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var buffer = new byte[1];
        while (true)
        {
            var lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, lf).ToArray()).TrimEnd('\r');
                _pending.RemoveRange(0, lf + 1);
                return line;
            }

            int n;
            try
            {
                n = await _stream.ReadAsync(buffer, cts.Token);
            }
            catch (IOException)
            {
                n = 0;
            }

            if (n == 0)
            {
                return null;
            }

            _pending.Add(buffer[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
