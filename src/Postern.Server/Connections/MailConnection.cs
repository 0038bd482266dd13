using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Postern.Store;

namespace Postern.Server.Connections;

/// <summary>What a session knows about the TLS layer once it is up.</summary>
public sealed record TlsInfo(SslProtocols Protocol, TlsCipherSuite CipherSuite, int CipherStrengthBits, X509Certificate2? ClientCertificate, string? ServerName);

/// <summary>
/// One client connection: input and output pipes over the socket, swapped for pipes over an SslStream
/// by <see cref="UpgradeToTlsAsync"/>, the one routine used by implicit TLS and STARTTLS alike.
/// </summary>
public sealed class MailConnection : IAsyncDisposable
{
    /// <summary>Commands a session may take from input already queued before it moves off the socket's event thread.</summary>
    public const int MaxCommandsWithoutWait = 64;

    /// <summary>Octets of message data a session may take from input already queued before it moves off the event thread.</summary>
    public const int MaxBytesWithoutWait = 1024 * 1024;

    private static long s_nextId;
    private readonly Socket _socket;
    private long _commandsWithoutWait;
    private long _bytesWithoutWait;
    private readonly NetworkStream _networkStream;
    private SslStream? _sslStream;

    public MailConnection(Socket socket, VirtualServerRuntime virtualServer, Binding binding)
    {
        _socket = socket;
        _networkStream = new NetworkStream(socket, ownsSocket: true);
        VirtualServer = virtualServer;
        Binding = binding;
        Id = Interlocked.Increment(ref s_nextId);
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        LocalEndPoint = socket.LocalEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        // Zero-byte reads: an idle connection waits for data without holding a pooled buffer (IMAP IDLE at scale).
        Input = PipeReader.Create(_networkStream, new StreamPipeReaderOptions(leaveOpen: true, bufferSize: 4096, minimumReadSize: 1024, useZeroByteReads: true));
        Output = PipeWriter.Create(_networkStream, WriterOptions);
    }

    // The pipe writes each buffered segment to the stream on its own: with the default 4 KB segments a 40 KB FETCH
    // answer went out as ten TLS records and ten send calls. 16 KB is one full TLS record; segments go back to the pool
    // after each flush, so an idle connection holds none.
    private static readonly StreamPipeWriterOptions WriterOptions = new(minimumBufferSize: 16 * 1024, leaveOpen: true);

    public long Id { get; }

    public VirtualServerRuntime VirtualServer { get; }

    public Binding Binding { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    public PipeReader Input { get; private set; }

    public PipeWriter Output { get; private set; }

    public bool IsSecure => Tls is not null;

    public TlsInfo? Tls { get; private set; }

    /// <summary>Whether a STARTTLS-style upgrade is possible now (a certificate exists and TLS is not on yet).</summary>
    public bool CanStartTls => !IsSecure && VirtualServer.HasCertificate;

    /// <summary>
    /// Wraps the transport in TLS. The caller has already flushed its go-ahead reply; anything the
    /// client sent after the STARTTLS command is still in the old input pipe and is discarded with it
    /// (CVE-2011-0411 class: RFC 3207 §4.2, RFC 2595 §3.1, RFC 4642 §2.2.2). The caller then resets its session state.
    /// </summary>
    public async Task<bool> UpgradeToTlsAsync(CancellationToken cancellationToken)
    {
        if (IsSecure)
        {
            return false;
        }

        if (!VirtualServer.HasCertificate)
        {
            return false;
        }

        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);

        var ssl = new SslStream(_networkStream, leaveInnerStreamOpen: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(VirtualServer.Config.Limits.TlsHandshakeTimeoutSeconds));
        try
        {
            // The certificate is chosen from the client's SNI name at ClientHello time.
            await ssl.AuthenticateAsServerAsync(
                (_, hello, _, _) => ValueTask.FromResult(VirtualServer.CreateTlsOptions(hello.ServerName) ?? throw new AuthenticationException("no certificate")),
                null,
                timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or InvalidOperationException or NotSupportedException)
        {
            // NotSupportedException: a first record that is no ClientHello (an alert, application data) reaches SslStream
            // before any certificate was chosen. Garbage from the client, a failed handshake like the others.
            ServerMetrics.For(VirtualServer.Config.Protocol)?.TlsHandshake(succeeded: false);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        // OpenSSL's defaults may allow a suite Postern's policy does not (see TlsPolicy.CipherSuites); such a
        // connection is closed before the protocol sends a byte.
        var acceptable = TlsPolicy.IsAcceptable(ssl.SslProtocol, ssl.NegotiatedCipherSuite, VirtualServer.Config.Security);
        ServerMetrics.For(VirtualServer.Config.Protocol)?.TlsHandshake(acceptable);
        if (!acceptable)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        _sslStream = ssl;
        var clientCertificate = ssl.RemoteCertificate is null ? null : new X509Certificate2(ssl.RemoteCertificate);
        Tls = new TlsInfo(ssl.SslProtocol, ssl.NegotiatedCipherSuite, TlsPolicy.CipherStrength(ssl.NegotiatedCipherSuite), clientCertificate, ssl.TargetHostName);
        // SslStream passes a zero-byte read down to the socket and returns its own record buffer while idle.
        Input = PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true, bufferSize: 16384, minimumReadSize: 2048, useZeroByteReads: true));
        Output = PipeWriter.Create(ssl, WriterOptions);
        return true;
    }

    /// <summary>
    /// Called with each command read. A client that keeps its input queued (a flood of pipelined commands) never makes
    /// the session wait for the socket; on the socket's event thread it would hold up every other connection of that
    /// thread, so after <see cref="MaxCommandsWithoutWait"/> such commands the session moves to the thread pool
    /// (<see cref="EventThread"/>): the caller then awaits <see cref="EventThread.ToThreadPool"/>. It comes back with
    /// the next read that has to wait.
    /// </summary>
    public bool MustLeaveEventThread(bool waitedForInput) => Exceeds(ref _commandsWithoutWait, waitedForInput, 1, MaxCommandsWithoutWait);

    /// <summary>The same for message data (SMTP DATA and BDAT, an NNTP article, an IMAP literal), counted in octets read.</summary>
    public bool MustLeaveEventThread(bool waitedForInput, long octets) => Exceeds(ref _bytesWithoutWait, waitedForInput, octets, MaxBytesWithoutWait);

    /// <summary>Counts what was taken since the last read that waited; true (and starts over) once it reaches the limit.</summary>
    private static bool Exceeds(ref long taken, bool waited, long amount, long limit)
    {
        taken = waited ? amount : taken + amount;
        if (taken < limit)
        {
            return false;
        }

        taken = 0;
        return true;
    }

    /// <summary>Wraps the raw transport in a stream (for COMPRESS=DEFLATE and similar layers).</summary>
    public void ReplaceTransport(PipeReader input, PipeWriter output)
    {
        Input = input;
        Output = output;
    }

    /// <summary>The current byte stream under the pipes (TLS stream once secure).</summary>
    public Stream TransportStream => (Stream?)_sslStream ?? _networkStream;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
            await Input.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The peer may already be gone; closing must not throw.
        }

        if (_sslStream is not null)
        {
            try
            {
                // A TLS close_notify, so clients see an orderly end rather than a truncation (RFC 8446 §6.1).
                await _sslStream.ShutdownAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The peer may already be gone.
            }

            try
            {
                await _sslStream.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
            }
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        await _networkStream.DisposeAsync().ConfigureAwait(false);
    }
}
