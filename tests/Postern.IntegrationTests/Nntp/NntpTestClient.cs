using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Nntp;

/// <summary>A tiny raw-socket NNTP client for tests (Python's nntplib is gone from 3.13).</summary>
internal sealed class NntpTestClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private StreamReader _reader;

    private NntpTestClient(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
        _reader = new StreamReader(stream, Encoding.UTF8, false, 1024, leaveOpen: true);
    }

    public string Greeting { get; private set; } = "";

    public Stream Stream => _stream;

    public static async Task<NntpTestClient> ConnectAsync(int port, bool implicitTls = false)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        Stream stream = tcp.GetStream();
        if (implicitTls)
        {
            var ssl = new SslStream(stream, false, TestCertificates.Shared.Validate);
            await ssl.AuthenticateAsClientAsync("localhost");
            stream = ssl;
        }

        var client = new NntpTestClient(tcp, stream);
        client.Greeting = await client.ReadLineAsync();
        return client;
    }

    public async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await _reader.ReadLineAsync(timeout.Token) ?? "<closed>";
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public Task SendAsync(string text) => SendRawAsync(Encoding.UTF8.GetBytes(text));

    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadLineAsync();
    }

    /// <summary>Reads a multi-line block up to the "." line, un-stuffing.</summary>
    public async Task<List<string>> ReadBlockAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (line == "." || line == "<closed>")
            {
                return lines;
            }

            lines.Add(line.StartsWith("..", StringComparison.Ordinal) ? line[1..] : line);
        }
    }

    public async Task<string> LoginAsync(string user, string password)
    {
        var reply = await CommandAsync("AUTHINFO USER " + user);
        return reply.StartsWith("381", StringComparison.Ordinal) ? await CommandAsync("AUTHINFO PASS " + password) : reply;
    }

    /// <summary>POST (or IHAVE/TAKETHIS body) with dot-stuffing; returns the final reply.</summary>
    public async Task<string> SendArticleAsync(string article)
    {
        var builder = new StringBuilder();
        foreach (var line in article.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'))
        {
            builder.Append(line.StartsWith('.') ? "." + line : line).Append("\r\n");
        }

        builder.Append(".\r\n");
        await SendAsync(builder.ToString());
        return await ReadLineAsync();
    }

    public async Task<string> PostAsync(string article)
    {
        var reply = await CommandAsync("POST");
        return reply.StartsWith("340", StringComparison.Ordinal) ? await SendArticleAsync(article) : reply;
    }

    public async Task StartTlsAsync()
    {
        var ssl = new SslStream(_stream, false, TestCertificates.Shared.Validate);
        await ssl.AuthenticateAsClientAsync("localhost");
        _stream = ssl;
        _reader = new StreamReader(ssl, Encoding.UTF8, false, 1024, leaveOpen: true);
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
