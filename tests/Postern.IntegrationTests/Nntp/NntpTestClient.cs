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

    /// <summary>RFC 8054: after 206, both directions are raw DEFLATE (sync-flushed per write).</summary>
    public void StartCompression()
    {
        var inflate = new System.IO.Compression.DeflateStream(_stream, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true);
        var deflate = new System.IO.Compression.DeflateStream(_stream, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true);
        _stream = new DuplexStream(inflate, deflate);
        _reader = new StreamReader(_stream, Encoding.UTF8, false, 1024, leaveOpen: true);
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}

/// <summary>Reads from one stream and writes to another (the two halves of a compressed connection).</summary>
internal sealed class DuplexStream(Stream input, Stream output) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => output.WriteAsync(buffer, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Dispose();
            output.Dispose();
        }

        base.Dispose(disposing);
    }
}
