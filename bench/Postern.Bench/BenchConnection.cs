using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Postern.Bench;

/// <summary>
/// One client connection: a socket, TLS when asked (any server certificate is accepted: this is a load tool),
/// buffered line reading and raw writes. Not thread-safe; one per worker.
/// </summary>
internal sealed class BenchConnection : IAsyncDisposable
{
    // SslStream keeps one OpenSSL context (SSL_CTX) for all its client handshakes only when the client names a host, not
    // an IP address; otherwise it builds a new one per handshake (about 0.2 ms of the tool's CPU each). A kept context
    // also offers the server a stored session for the same name, so each connection names a host of its own (under the
    // reserved .invalid): every handshake stays a full one, as the STARTTLS figures mean.
    private static long s_handshakes;

    private readonly TcpClient _tcp;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly TimeSpan _timeout;
    private Stream _stream;
    private int _start;
    private int _end;

    // One timeout source per connection, reset for each read (a new linked source and timer per read cost the tool more
    // than some servers spend on a reply).
    private CancellationTokenSource? _readTimeout;

    private CancellationToken _readTimeoutLinkedTo;

    private BenchConnection(TcpClient tcp, TimeSpan timeout)
    {
        _tcp = tcp;
        _timeout = timeout;
        _stream = tcp.GetStream();
    }

    /// <summary>The negotiated TLS version, if any.</summary>
    public SslProtocols? TlsProtocol { get; private set; }

    /// <summary>Bytes read from the server so far.</summary>
    public long BytesRead { get; private set; }

    public static async Task<BenchConnection> ConnectAsync(string host, int port, bool implicitTls, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(timeout);
            await tcp.ConnectAsync(host, port, connectTimeout.Token).ConfigureAwait(false);
            var connection = new BenchConnection(tcp, timeout);
            if (implicitTls)
            {
                await connection.StartTlsAsync(cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    public async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        if (_start != _end)
        {
            throw new BenchProtocolException("server sent data after the STARTTLS go-ahead");
        }

        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        var targetHost = "c" + Interlocked.Increment(ref s_handshakes).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".bench.invalid";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        await ssl.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = targetHost,

                // A load tool measures servers with self-signed and private-CA certificates alike.
#pragma warning disable CA5359
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,

                // No AIA download of an untrusted issuer: it would add an HTTP request per handshake against servers
                // whose certificates carry AIA (Postern's) and none against self-signed ones. An empty custom trust
                // store: SslStream builds a chain before it calls the callback above, and with the system store that
                // build loaded and sorted every system root on each handshake (half the tool's CPU per STARTTLS).
                CertificateChainPolicy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
                {
                    TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
                    DisableCertificateDownloads = true,
                    RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                },
            },
            timeout.Token).ConfigureAwait(false);
        _stream = ssl;
        TlsProtocol = ssl.SslProtocol;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) => _stream.WriteAsync(bytes, cancellationToken);

    public async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), cancellationToken).ConfigureAwait(false);
    }

    public Task FlushAsync(CancellationToken cancellationToken) => _stream.FlushAsync(cancellationToken);

    /// <summary>Sends a command line and reads one reply line.</summary>
    public async Task<string> CommandAsync(string line, CancellationToken cancellationToken)
    {
        await WriteLineAsync(line, cancellationToken).ConfigureAwait(false);
        return await ReadLineAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One line without its CRLF; throws when the server closes the connection.</summary>
    public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        StringBuilder? text = null;
        while (true)
        {
            var available = _buffer.AsSpan(_start, _end - _start);
            var lf = available.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = available[..lf];
                if (!line.IsEmpty && line[^1] == (byte)'\r')
                {
                    line = line[..^1];
                }

                _start += lf + 1;
                var decoded = Encoding.UTF8.GetString(line);
                if (text is null)
                {
                    return decoded;
                }

                // A CR that ended the previous chunk belongs to this line's terminator.
                var whole = text.Append(decoded).ToString();
                return line.IsEmpty && whole.EndsWith('\r') ? whole[..^1] : whole;
            }

            if (!available.IsEmpty)
            {
                (text ??= new StringBuilder()).Append(Encoding.UTF8.GetString(available));
                _start = _end;
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes and drops them (an IMAP literal); returns the count.</summary>
    public async Task<long> SkipAsync(long count, CancellationToken cancellationToken)
    {
        var left = count;
        while (left > 0)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }

            var take = (int)Math.Min(left, _end - _start);
            _start += take;
            left -= take;
        }

        return count;
    }

    /// <summary>Reads a dot-terminated multi-line body (POP3, NNTP) and returns its size in octets.</summary>
    public async Task<long> ReadDotTerminatedAsync(CancellationToken cancellationToken)
    {
        long size = 0;
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line == ".")
            {
                return size;
            }

            size += line.Length + 2;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }

        _tcp.Dispose();
        _readTimeout?.Dispose();
    }

    /// <summary>The octets read and not yet taken (<see cref="Take"/>), for a scenario that parses replies in place.</summary>
    public ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);

    public void Take(int count) => _start += count;

    /// <summary>Reads more from the server, keeping what is buffered; fails when a single line outgrows the buffer.</summary>
    public Task ReadMoreAsync(CancellationToken cancellationToken)
    {
        if (_start == 0 && _end == _buffer.Length)
        {
            throw new BenchProtocolException("a reply line longer than " + _buffer.Length + " octets");
        }

        return FillAsync(cancellationToken);
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_readTimeout is null || _readTimeoutLinkedTo != cancellationToken || !_readTimeout.TryReset())
        {
            _readTimeout?.Dispose();
            _readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _readTimeoutLinkedTo = cancellationToken;
        }

        _readTimeout.CancelAfter(_timeout);
        int read;
        try
        {
            read = await _stream.ReadAsync(_buffer.AsMemory(_end), _readTimeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchProtocolException($"no reply within {_timeout.TotalSeconds:0} s");
        }

        if (read == 0)
        {
            throw new BenchProtocolException("connection closed by the server");
        }

        _end += read;
        BytesRead += read;
    }
}

/// <summary>An unexpected reply or a closed connection: the operation counts as an error.</summary>
internal sealed class BenchProtocolException(string message) : Exception(message);
