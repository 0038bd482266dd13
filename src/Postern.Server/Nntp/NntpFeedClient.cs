using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Postern.Protocols;
using Postern.Protocols.Nntp;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>The client side of a newsfeed: connects to a peer over TLS (verified) — or in clear text when the peer is configured with TLS none — optionally logs in, and speaks IHAVE, streaming and reader commands.</summary>
internal sealed class NntpFeedClient : IAsyncDisposable
{
    private const int MaxReplyLine = 4096;

    private readonly TcpClient _tcp;
    private readonly TimeSpan _timeout;
    private Stream _stream;
    private PipeReader _reader;

    private NntpFeedClient(TcpClient tcp, Stream stream, TimeSpan timeout)
    {
        _tcp = tcp;
        _stream = stream;
        _timeout = timeout;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
    }

    public HashSet<string> Capabilities { get; } = new(StringComparer.OrdinalIgnoreCase);

    public bool CanStream => Capabilities.Contains("STREAMING");

    /// <summary>Connects, secures and logs in; returns null with an error text when the peer cannot be used now.</summary>
    public static async Task<(NntpFeedClient? Client, string? Error)> ConnectAsync(NewsPeer peer, IReadOnlyList<X509Certificate2> trustedRoots, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        NntpFeedClient? client = null;
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(timeout);
                await tcp.ConnectAsync(peer.Host, peer.Port, connectTimeout.Token).ConfigureAwait(false);
            }

            Stream stream = tcp.GetStream();
            if (peer.Tls == NewsPeerTls.Implicit)
            {
                stream = await SecureAsync(stream, peer, trustedRoots, timeout, cancellationToken).ConfigureAwait(false);
            }

            client = new NntpFeedClient(tcp, stream, timeout);
            var greeting = await client.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (!greeting.StartsWith("200", StringComparison.Ordinal) && !greeting.StartsWith("201", StringComparison.Ordinal))
            {
                return await FailAsync(client, "greeting: " + greeting).ConfigureAwait(false);
            }

            await client.LoadCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
            if (peer.Tls == NewsPeerTls.StartTls)
            {
                // RFC 4642: with starttls the feed never continues in clear text.
                var reply = await client.CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false);
                if (!reply.StartsWith("382", StringComparison.Ordinal))
                {
                    return await FailAsync(client, "STARTTLS: " + reply).ConfigureAwait(false);
                }

                await client._reader.CompleteAsync().ConfigureAwait(false);
                client._stream = await SecureAsync(client._stream, peer, trustedRoots, timeout, cancellationToken).ConfigureAwait(false);
                client._reader = PipeReader.Create(client._stream, new StreamPipeReaderOptions(leaveOpen: true));
                await client.LoadCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
            }

            if (!string.IsNullOrEmpty(peer.UserName))
            {
                var reply = await client.CommandAsync("AUTHINFO USER " + peer.UserName, cancellationToken).ConfigureAwait(false);
                if (reply.StartsWith("381", StringComparison.Ordinal))
                {
                    reply = await client.CommandAsync("AUTHINFO PASS " + peer.Password, cancellationToken).ConfigureAwait(false);
                }

                if (!reply.StartsWith("281", StringComparison.Ordinal))
                {
                    return await FailAsync(client, "AUTHINFO: " + reply).ConfigureAwait(false);
                }

                await client.LoadCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
            }

            return (client, null);
        }
        catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                tcp.Dispose();
            }

            return (null, ex.Message);
        }
    }

    public async Task<string> CommandAsync(string line, CancellationToken cancellationToken)
    {
        await WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), cancellationToken).ConfigureAwait(false);
        return await ReadLineAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a command line and a dot-stuffed article in one write (TAKETHIS) or the article alone (after 335).</summary>
    public async Task<string> SendArticleAsync(string? commandLine, byte[] content, CancellationToken cancellationToken)
    {
        var output = new ArrayBufferWriter<byte>(content.Length + 256);
        AppendArticle(output, commandLine, content);
        await WriteAsync(output.WrittenMemory, cancellationToken).ConfigureAwait(false);
        return await ReadLineAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends command lines in one write without waiting for their replies, which the caller then reads in order
    /// (RFC 4644 §1: CHECK and TAKETHIS may be pipelined in streaming mode).
    /// </summary>
    public Task SendPipelinedAsync(IEnumerable<string> lines, CancellationToken cancellationToken)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var line in lines)
        {
            output.Write(Encoding.UTF8.GetBytes(line + "\r\n"));
        }

        return WriteAsync(output.WrittenMemory, cancellationToken);
    }

    /// <summary>Sends commands each followed by its dot-stuffed article (TAKETHIS) in one write, without waiting for replies.</summary>
    public Task SendArticlesPipelinedAsync(IEnumerable<(string CommandLine, byte[] Content)> articles, CancellationToken cancellationToken)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var (commandLine, content) in articles)
        {
            AppendArticle(output, commandLine, content);
        }

        return WriteAsync(output.WrittenMemory, cancellationToken);
    }

    private static void AppendArticle(ArrayBufferWriter<byte> output, string? commandLine, byte[] content)
    {
        if (commandLine is not null)
        {
            output.Write(Encoding.UTF8.GetBytes(commandLine + "\r\n"));
        }

        NntpDotStuffing.WriteBlock(output, content);
    }

    public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        while (true)
        {
            var result = await _reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = LineReader.TryReadLine(ref buffer, MaxReplyLine, out var line);
            if (status == LineReadStatus.Line)
            {
                var text = Encoding.UTF8.GetString(line);
                _reader.AdvanceTo(buffer.Start);
                return text;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (status == LineReadStatus.TooLong)
            {
                throw new IOException("reply line too long");
            }

            if (result.IsCompleted)
            {
                throw new IOException("connection closed by the peer");
            }
        }
    }

    /// <summary>Reads a multi-line block (un-stuffed), refusing more than <paramref name="maxSize"/> octets.</summary>
    public async Task<byte[]> ReadBlockAsync(long maxSize, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout * 4);
        var decoder = new NntpDotDecoder();
        var output = new ArrayBufferWriter<byte>();
        var octetsOnThisThread = 0L;
        while (true)
        {
            var result = await _reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            var buffer = result.Buffer;

            // A peer streaming a large block must not hold the socket's event thread (EventThread) for all of it.
            octetsOnThisThread += buffer.Length;
            if (octetsOnThisThread > MailConnection.MaxBytesWithoutWait)
            {
                octetsOnThisThread = 0;
                await EventThread.ToThreadPool();
            }

            var status = decoder.Decode(ref buffer, output);
            if (decoder.Length > maxSize)
            {
                throw new IOException("block larger than " + maxSize);
            }

            if (status == DotDecodeStatus.Complete)
            {
                _reader.AdvanceTo(buffer.Start);
                return output.WrittenSpan.ToArray();
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new IOException("connection closed by the peer");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await WriteAsync("QUIT\r\n"u8.ToArray(), quick.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        await _reader.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }

    private static async Task<(NntpFeedClient?, string?)> FailAsync(NntpFeedClient client, string error)
    {
        await client.DisposeAsync().ConfigureAwait(false);
        return (null, error);
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task LoadCapabilitiesAsync(CancellationToken cancellationToken)
    {
        Capabilities.Clear();
        var reply = await CommandAsync("CAPABILITIES", cancellationToken).ConfigureAwait(false);
        if (!reply.StartsWith("101", StringComparison.Ordinal))
        {
            return;
        }

        var block = Encoding.UTF8.GetString(await ReadBlockAsync(64 * 1024, cancellationToken).ConfigureAwait(false));
        foreach (var line in block.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Capabilities.Add(line.Split(' ')[0]);
        }
    }

    private static async Task<Stream> SecureAsync(Stream inner, NewsPeer peer, IReadOnlyList<X509Certificate2> trustedRoots, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handshakeTimeout.CancelAfter(timeout);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = peer.Host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidatePeerCertificate(peer, trustedRoots, certificate, errors),
        }, handshakeTimeout.Token).ConfigureAwait(false);
        return ssl;
    }

    /// <summary>
    /// The peer's certificate must name the configured host and chain to the system roots or to one of the
    /// extra trusted roots (a private CA such as Postern's own); "verify off" is an explicit per-peer choice.
    /// </summary>
    internal static bool ValidatePeerCertificate(NewsPeer peer, IReadOnlyList<X509Certificate2> trustedRoots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (!peer.Verify)
        {
            return true;
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || trustedRoots.Count == 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedRoots.ToArray());
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
