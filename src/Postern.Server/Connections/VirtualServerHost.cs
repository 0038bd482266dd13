using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Postern.Store;

namespace Postern.Server.Connections;

public sealed record ListenerStatus(long VirtualServerId, string VirtualServer, ServiceProtocol Protocol, string Address, int Port, BindingMode Mode, bool Listening, string? Error);

/// <summary>
/// Binds and unbinds the listeners of every enabled virtual server while the process runs.
/// <see cref="ApplyAsync"/> is idempotent: it diffs the wanted bindings against the open ones.
/// </summary>
public sealed class VirtualServerHost : IAsyncDisposable
{
    private readonly ServerContext _context;
    private readonly IReadOnlyDictionary<ServiceProtocol, IProtocolHandler> _handlers;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(long VsId, string Address, int Port, BindingMode Mode), Listener> _listeners = new();
    private readonly ConcurrentDictionary<(long VsId, string Address, int Port, BindingMode Mode), ListenerStatus> _failed = new();
    private readonly ConcurrentDictionary<long, VirtualServer> _current = new();

    // Per virtual server, shared by all its bindings: maxConnections and maxConnectionsPerAddress are the virtual server's.
    private readonly ConcurrentDictionary<long, ConnectionCounts> _counts = new();

    private readonly SemaphoreSlim _applyLock = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private int _disposed;

    // When connections last met the descriptor budget (Environment.TickCount64): one warning a minute is enough.
    private long _descriptorWarningAt = -60_000;

    /// <summary>
    /// The connection counts of a virtual server: those this host listens for, and the HTTP one, which Kestrel serves
    /// and the console's connection middleware counts here.
    /// </summary>
    public ConnectionCounts CountsOf(long virtualServerId) => _counts.GetOrAdd(virtualServerId, _ => new ConnectionCounts());

    private void WarnOutOfDescriptors()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _descriptorWarningAt);
        if (now - last >= 60_000 && Interlocked.CompareExchange(ref _descriptorWarningAt, now, last) == last)
        {
            _logger.OutOfDescriptors(FileDescriptorBudget.MaxConnections);
        }
    }

    public VirtualServerHost(ServerContext context, IEnumerable<IProtocolHandler> handlers)
    {
        _context = context;
        _handlers = handlers.ToDictionary(h => h.Protocol);
        _logger = context.LoggerFactory.CreateLogger<VirtualServerHost>();
    }

    public IReadOnlyList<ListenerStatus> Status =>
        [.. _listeners.Values.Select(l => l.Status), .. _failed.Values];

    /// <summary>
    /// A virtual server's settings as last applied, also for one this host does not listen for (the HTTP virtual
    /// server, which Kestrel serves): its TLS handshakes follow a change at once, as the listeners here do.
    /// </summary>
    public VirtualServer? Current(long virtualServerId) => _current.GetValueOrDefault(virtualServerId);

    /// <summary>Re-reads the virtual servers from the store and makes the listeners match.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var servers = await _context.Store.Configuration.ListVirtualServersAsync(cancellationToken).ConfigureAwait(false);
        await ApplyAsync(servers, cancellationToken).ConfigureAwait(false);
    }

    public async Task ApplyAsync(IReadOnlyList<VirtualServer> servers, CancellationToken cancellationToken)
    {
        await _applyLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var server in servers)
            {
                _current[server.Id] = server;
            }

            foreach (var gone in _current.Keys.Except(servers.Select(s => s.Id)).ToList())
            {
                _current.TryRemove(gone, out _);
                _counts.TryRemove(gone, out _);
            }

            var wanted = new Dictionary<(long, string, int, BindingMode), (VirtualServer Server, Binding Binding)>();
            foreach (var server in servers.Where(s => s.Enabled && _handlers.ContainsKey(s.Protocol)))
            {
                foreach (var binding in server.Bindings)
                {
                    wanted[(server.Id, binding.Address, binding.Port, binding.Mode)] = (server, binding);
                }
            }

            foreach (var key in _listeners.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
            {
                if (_listeners.TryRemove(key, out var listener))
                {
                    await listener.StopAsync().ConfigureAwait(false);
                }
            }

            _failed.Clear();
            foreach (var (key, (server, binding)) in wanted)
            {
                var runtime = new VirtualServerRuntime(server, _context);
                if (_listeners.TryGetValue(key, out var existing))
                {
                    existing.Runtime = runtime;
                    continue;
                }

                // A stored port plus a larger --port-offset than it was saved under: that binding cannot listen,
                // and must not keep the others (and every later reload) from applying.
                if (EffectivePort(binding) is var port and > IPEndPoint.MaxPort)
                {
                    var error = $"port {port} is out of range";
                    _failed[key] = new ListenerStatus(server.Id, server.Name, server.Protocol, binding.Address, port, binding.Mode, false, error);
                    _logger.CannotListen(server.Name, binding.Address, port, error);
                    continue;
                }

                var listener = new Listener(this, runtime, binding);
                try
                {
                    listener.Start();
                    _listeners[key] = listener;
                    _logger.Listening(server.Name, binding.Address, listener.Port, binding.Mode);
                }
                catch (SocketException ex)
                {
                    _failed[key] = new ListenerStatus(server.Id, server.Name, server.Protocol, binding.Address, EffectivePort(binding), binding.Mode, false, ex.Message);
                    _logger.CannotListen(server.Name, binding.Address, EffectivePort(binding), ex.Message);
                }
            }
        }
        finally
        {
            _applyLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        foreach (var listener in _listeners.Values)
        {
            await listener.StopAsync().ConfigureAwait(false);
        }

        _listeners.Clear();
        _shutdown.Dispose();
        _applyLock.Dispose();
    }

    private int EffectivePort(Binding binding) => binding.Port == 0 ? 0 : binding.Port + _context.PortOffset;

    private sealed class Listener(VirtualServerHost host, VirtualServerRuntime runtime, Binding binding)
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(host._shutdown.Token);
        private Socket? _socket;
        private Task? _acceptLoop;
        private int _refusingOverTls;

        /// <summary>Refused implicit-TLS connections that may be in their handshake at once (each to hear the busy reply).</summary>
        private const int MaxRefusingOverTls = 32;

        public VirtualServerRuntime Runtime { get; set; } = runtime;

        public Binding Binding => binding;

        public int Port { get; private set; }

        public ListenerStatus Status => new(Runtime.Config.Id, Runtime.Config.Name, Runtime.Config.Protocol, binding.Address, Port, binding.Mode, true, null);

        public void Start()
        {
            var address = binding.Address switch
            {
                "*" or "0.0.0.0" => IPAddress.Any,
                "::" => IPAddress.IPv6Any,
                "localhost" => IPAddress.Loopback,
                _ => IPAddress.Parse(binding.Address),
            };
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // No SocketOptionName.ReuseAddress: on Linux .NET maps it to SO_REUSEPORT as well, which let a second
                // virtual server (or any process of the same user) bind the same port and take half its connections.
                // .NET already sets SO_REUSEADDR on Unix, so a restart still binds while old connections are in TIME_WAIT.
                socket.Bind(new IPEndPoint(address, host.EffectivePort(binding)));
                socket.Listen(512);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _socket = socket;
            Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            _acceptLoop = Task.Run(AcceptLoopAsync);
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            _socket?.Dispose();
            if (_acceptLoop is not null)
            {
                await _acceptLoop.ConfigureAwait(false);
            }
        }

        private async Task AcceptLoopAsync()
        {
            var backoff = TimeSpan.Zero;
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _socket!.AcceptAsync(_stop.Token).ConfigureAwait(false);
                    backoff = TimeSpan.Zero;
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
                {
                    // That client gave up before it was accepted: the next one is waiting.
                    continue;
                }
                catch (SocketException ex)
                {
                    // Out of file descriptors (EMFILE, ENFILE) or of kernel memory: the connection stays queued and accept
                    // fails again at once. Retrying at once spun a core while nothing could be freed; waiting (5 ms,
                    // doubling up to 1 s, as Go's net/http does) lets sessions end and give descriptors back.
                    if (backoff == TimeSpan.Zero)
                    {
                        host._logger.CannotAccept(Runtime.Config.Name, Port, ex.Message);
                    }

                    backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(5) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.TicksPerSecond));
                    try
                    {
                        await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                // Checked here, not in the session: a burst of connections would otherwise take every descriptor before
                // the first refusal gave one back.
                if (!FileDescriptorBudget.TryAcquire())
                {
                    host.WarnOutOfDescriptors();
                    RefuseAtOnce(client);
                    continue;
                }

                client.NoDelay = true;

                // Started here, on the socket's event thread, not on the pool: the session runs until its first read
                // waits (a greeting written, a TLS handshake begun), as every later step of it does. A hop to the pool
                // per connection woke a worker that then spun idle, a good part of a short connection's cost.
                _ = HandleAndReleaseAsync(client);
            }
        }

        private async Task HandleAndReleaseAsync(Socket client)
        {
            try
            {
                await HandleAsync(client).ConfigureAwait(false);
            }
            finally
            {
                FileDescriptorBudget.Release();
            }
        }

        /// <summary>
        /// Past the descriptor budget: the busy reply, where it can be said in clear text (a few octets into an empty
        /// socket buffer, which never waits), and the connection closes at once, giving its descriptor back.
        /// </summary>
        private void RefuseAtOnce(Socket client)
        {
            try
            {
                if (binding.Mode == BindingMode.StartTls)
                {
                    client.Send(host._handlers[Runtime.Config.Protocol].BusyReply.Span, SocketFlags.None, out _);
                }
            }
            finally
            {
                client.Dispose();
            }
        }

        /// <summary>
        /// On an implicit-TLS port the busy reply can only be said inside TLS: a connection closed before the handshake
        /// looks to a mail client like a broken or intercepted server (a security error), not "try again later", and it
        /// retries at once. So a refused client still gets its handshake, but only so many at a time: past that, a flood
        /// must not cost a handshake per connection, and the connection just closes.
        /// </summary>
        private async Task<bool> HandshakeToRefuseAsync(MailConnection connection)
        {
            if (Interlocked.Increment(ref _refusingOverTls) > MaxRefusingOverTls)
            {
                Interlocked.Decrement(ref _refusingOverTls);
                return false;
            }

            try
            {
                return await connection.UpgradeToTlsAsync(_stop.Token).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _refusingOverTls);
            }
        }

        private async Task HandleAsync(Socket client)
        {
            var runtime = Runtime;
            var handler = host._handlers[runtime.Config.Protocol];
            var remote = (client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            var counts = host.CountsOf(runtime.Config.Id);
            var admitted = counts.Open(remote, runtime.Config.Limits);
            var counted = true;
            var metrics = ServerMetrics.For(runtime.Config.Protocol);
            metrics?.ConnectionOpened();
            await using var connection = new MailConnection(client, runtime, binding);
            try
            {
                if (!admitted)
                {
                    metrics?.ConnectionRefused();

                    // A refused connection no longer holds a place while it is told so (its handshake may take a while).
                    counts.Close(remote);
                    counted = false;
                    if (binding.Mode == BindingMode.StartTls || await HandshakeToRefuseAsync(connection).ConfigureAwait(false))
                    {
                        await connection.Output.WriteAsync(handler.BusyReply, _stop.Token).ConfigureAwait(false);
                    }

                    return;
                }

                if (binding.Mode == BindingMode.ImplicitTls && !await connection.UpgradeToTlsAsync(_stop.Token).ConfigureAwait(false))
                {
                    return;
                }

                await handler.RunSessionAsync(connection, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // The virtual server stops or the process shuts down: the client hears why before the connection closes
                // (SMTP 421, IMAP BYE, POP3 -ERR, NNTP 400), as from Postfix and Dovecot.
                if (connection.IsSecure || binding.Mode == BindingMode.StartTls)
                {
                    await SayGoodbyeAsync(connection, handler.ShutdownReply).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or InvalidDataException)
            {
                // The peer went away, sent a corrupt COMPRESS DEFLATE stream (nothing sensible can be answered), or the
                // server is stopping: end the session quietly.
            }
            catch (Exception ex)
            {
                host._logger.SessionFailed(ex, runtime.Config.Name, remote);
            }
            finally
            {
                metrics?.ConnectionClosed();
                if (counted)
                {
                    counts.Close(remote);
                }
            }
        }
    }

    private static async Task SayGoodbyeAsync(MailConnection connection, ReadOnlyMemory<byte> reply)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await connection.Output.WriteAsync(reply, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The peer is gone, or a write the stop cancelled left the stream unusable: the connection closes anyway.
        }
    }
}
