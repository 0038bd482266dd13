using System.Collections.Concurrent;
using System.Net;
using Postern.Store;

namespace Postern.Server.Connections;

/// <summary>
/// The open connections of one virtual server, in total and per client address, shared by all its bindings: maxConnections
/// and maxConnectionsPerAddress are the virtual server's.
/// </summary>
public sealed class ConnectionCounts
{
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private int _total;

    /// <summary>
    /// Counts a new connection and says whether the limits admit it. Either way <see cref="Close"/> must follow. Loopback
    /// clients (a local webmail brings every user from 127.0.0.1) count only against the total unless the limits say otherwise.
    /// </summary>
    public bool Open(IPAddress remote, ConnectionLimits limits)
    {
        var total = Interlocked.Increment(ref _total);
        var fromAddress = _perAddress.AddOrUpdate(remote, 1, (_, n) => n + 1);
        var perAddressApplies = limits.LimitLoopbackPerAddress || !IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);
        return total <= limits.MaxConnections && (!perAddressApplies || fromAddress <= limits.MaxConnectionsPerAddress);
    }

    public void Close(IPAddress remote)
    {
        Interlocked.Decrement(ref _total);
        if (_perAddress.AddOrUpdate(remote, 0, (_, n) => n - 1) <= 0)
        {
            _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(remote, 0));
        }
    }
}
