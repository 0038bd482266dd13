using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pop3;

/// <summary>A byte-exact POP3 client for tests of bad input, pipelining and exact replies.</summary>
internal sealed class Pop3RawClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly byte[] _buffer = new byte[65536];
    private Stream _stream;
    private int _start;
    private int _end;

    private Pop3RawClient(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    public SslStream? Tls => _stream as SslStream;

    public static async Task<Pop3RawClient> ConnectAsync(int port, bool implicitTls = false, bool readGreeting = true, X509Certificate2? clientCertificate = null)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        Stream stream = tcp.GetStream();
        if (implicitTls)
        {
            var ssl = new SslStream(stream, false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = TestCertificates.Shared.Validate,
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            });
            stream = ssl;
        }

        var client = new Pop3RawClient(tcp, stream);
        if (readGreeting)
        {
            Assert.StartsWith("+OK", await client.ReadLineAsync());
        }

        return client;
    }

    public async Task SendAsync(string text)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await _stream.FlushAsync();
    }

    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadLineAsync() ?? throw new IOException("connection closed after " + line);
    }

    /// <summary>One reply line without CRLF; null when the server closed the connection.</summary>
    public async Task<string?> ReadLineAsync(int timeoutSeconds = 15)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        var line = new List<byte>();
        while (true)
        {
            while (_start < _end)
            {
                var b = _buffer[_start++];
                if (b == (byte)'\n')
                {
                    if (line.Count > 0 && line[^1] == (byte)'\r')
                    {
                        line.RemoveAt(line.Count - 1);
                    }

                    return Encoding.UTF8.GetString([.. line]);
                }

                line.Add(b);
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer, timeout.Token);
            }
            catch (IOException)
            {
                return null;
            }

            if (read == 0)
            {
                return null;
            }

            _start = 0;
            _end = read;
        }
    }

    /// <summary>The body of a multi-line reply, dot-unstuffed, without the terminator.</summary>
    public async Task<List<string>> ReadMultiLineAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new IOException("connection closed inside a multi-line reply");
            if (line == ".")
            {
                return lines;
            }

            lines.Add(line.StartsWith('.') ? line[1..] : line);
        }
    }

    /// <summary>The raw (still stuffed) bytes of a multi-line reply up to and including ".CRLF".</summary>
    public async Task<string> ReadRawMultiLineAsync()
    {
        var text = new StringBuilder();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new IOException("connection closed inside a multi-line reply");
            text.Append(line).Append("\r\n");
            if (line == ".")
            {
                return text.ToString();
            }
        }
    }

    public async Task LoginAsync(string user, string password = Pop3TestServer.Password)
    {
        Assert.StartsWith("+OK", await CommandAsync("USER " + user));
        var reply = await CommandAsync("PASS " + password);
        Assert.True(reply.StartsWith("+OK", StringComparison.Ordinal), reply);
    }

    /// <summary>Starts TLS on the same socket; nothing the server sent may be left unread (it would be plaintext injection).</summary>
    public async Task UpgradeAsync()
    {
        Assert.Equal(_start, _end);
        var ssl = new SslStream(_stream, false, TestCertificates.Shared.Validate);
        await ssl.AuthenticateAsClientAsync("localhost");
        _stream = ssl;
    }

    public async Task<bool> IsClosedAsync(int timeoutSeconds = 15)
    {
        while (true)
        {
            var line = await ReadLineAsync(timeoutSeconds);
            if (line is null)
            {
                return true;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
