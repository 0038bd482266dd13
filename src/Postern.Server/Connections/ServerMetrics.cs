using System.Diagnostics.Metrics;
using Postern.Store;

namespace Postern.Server.Connections;

/// <summary>
/// What one protocol's virtual servers have done since the process started: connections, TLS handshakes, logons and
/// the protocol's own unit of work (SMTP: messages accepted; POP3: messages retrieved; IMAP: messages appended; NNTP:
/// articles taken). Plain counters that the hot paths bump with one interlocked add; a <see cref="Meter"/> per protocol
/// ("Postern.Smtp", …) reads them, so dotnet-counters and OpenTelemetry see them, and the admin API's /stats too.
/// </summary>
public sealed class ProtocolMetrics
{
    private long _connectionsAccepted;
    private long _connectionsActive;
    private long _connectionsRefused;
    private long _tlsHandshakes;
    private long _tlsFailures;
    private long _logonsSucceeded;
    private long _logonsFailed;
    private long _items;

    internal ProtocolMetrics(ServiceProtocol protocol, string itemsName, string itemsDescription)
    {
        Protocol = protocol;
        ItemsName = itemsName;
        var name = protocol.ToString().ToLowerInvariant();
        Meter = new Meter("Postern." + protocol);
        Meter.CreateObservableCounter("postern.connections.accepted", () => ConnectionsAccepted, "{connection}", "Connections accepted");
        Meter.CreateObservableUpDownCounter("postern.connections.active", () => ConnectionsActive, "{connection}", "Connections open now");
        Meter.CreateObservableCounter("postern.connections.refused", () => ConnectionsRefused, "{connection}", "Connections refused by a connection limit");
        Meter.CreateObservableCounter("postern.tls.handshakes", () => new[]
        {
            new Measurement<long>(TlsHandshakes, new KeyValuePair<string, object?>("result", "ok")),
            new Measurement<long>(TlsFailures, new KeyValuePair<string, object?>("result", "failed")),
        }, "{handshake}", "TLS handshakes (implicit TLS and STARTTLS)");
        Meter.CreateObservableCounter("postern.logons", () => new[]
        {
            new Measurement<long>(LogonsSucceeded, new KeyValuePair<string, object?>("result", "ok")),
            new Measurement<long>(LogonsFailed, new KeyValuePair<string, object?>("result", "failed")),
        }, "{logon}", "Password and certificate logons");
        Meter.CreateObservableCounter($"postern.{name}.{itemsName}", () => Items, null, itemsDescription);
    }

    public ServiceProtocol Protocol { get; }

    /// <summary>What <see cref="Items"/> counts, e.g. "messages.accepted".</summary>
    public string ItemsName { get; }

    public Meter Meter { get; }

    public long ConnectionsAccepted => Volatile.Read(ref _connectionsAccepted);

    public long ConnectionsActive => Volatile.Read(ref _connectionsActive);

    public long ConnectionsRefused => Volatile.Read(ref _connectionsRefused);

    public long TlsHandshakes => Volatile.Read(ref _tlsHandshakes);

    public long TlsFailures => Volatile.Read(ref _tlsFailures);

    public long LogonsSucceeded => Volatile.Read(ref _logonsSucceeded);

    public long LogonsFailed => Volatile.Read(ref _logonsFailed);

    public long Items => Volatile.Read(ref _items);

    internal void ConnectionOpened()
    {
        Interlocked.Increment(ref _connectionsAccepted);
        Interlocked.Increment(ref _connectionsActive);
    }

    internal void ConnectionClosed() => Interlocked.Decrement(ref _connectionsActive);

    internal void ConnectionRefused() => Interlocked.Increment(ref _connectionsRefused);

    internal void TlsHandshake(bool succeeded) => Interlocked.Increment(ref succeeded ? ref _tlsHandshakes : ref _tlsFailures);

    internal void Logon(bool succeeded) => Interlocked.Increment(ref succeeded ? ref _logonsSucceeded : ref _logonsFailed);

    internal void Item(int count = 1) => Interlocked.Add(ref _items, count);
}

/// <summary>Outbound SMTP delivery since the process started, per recipient.</summary>
public sealed class OutboundMetrics
{
    private long _delivered;
    private long _deferred;
    private long _bounced;

    internal OutboundMetrics(Meter meter)
    {
        meter.CreateObservableCounter("postern.smtp.outbound.recipients", () => new[]
        {
            new Measurement<long>(Delivered, new KeyValuePair<string, object?>("result", "delivered")),
            new Measurement<long>(Deferred, new KeyValuePair<string, object?>("result", "deferred")),
            new Measurement<long>(Bounced, new KeyValuePair<string, object?>("result", "bounced")),
        }, "{recipient}", "Outbound delivery attempts per recipient");
    }

    public long Delivered => Volatile.Read(ref _delivered);

    public long Deferred => Volatile.Read(ref _deferred);

    public long Bounced => Volatile.Read(ref _bounced);

    internal void Recipients(int delivered, int deferred, int bounced)
    {
        Interlocked.Add(ref _delivered, delivered);
        Interlocked.Add(ref _deferred, deferred);
        Interlocked.Add(ref _bounced, bounced);
    }
}

/// <summary>The process's counters, one set per protocol (a process serves each protocol's virtual servers once).</summary>
public static class ServerMetrics
{
    public static ProtocolMetrics Smtp { get; } = new(ServiceProtocol.Smtp, "messages.accepted", "Messages accepted (250 after DATA or BDAT LAST)");

    public static ProtocolMetrics Pop3 { get; } = new(ServiceProtocol.Pop3, "messages.retrieved", "Messages sent with RETR");

    public static ProtocolMetrics Imap { get; } = new(ServiceProtocol.Imap, "messages.appended", "Messages stored with APPEND");

    public static ProtocolMetrics Nntp { get; } = new(ServiceProtocol.Nntp, "articles.accepted", "Articles taken with POST, IHAVE or TAKETHIS");

    public static OutboundMetrics Outbound { get; } = new(Smtp.Meter);

    public static IReadOnlyList<ProtocolMetrics> All { get; } = [Smtp, Pop3, Imap, Nntp];

    /// <summary>The counters of a protocol; null for HTTP, which Kestrel serves.</summary>
    public static ProtocolMetrics? For(ServiceProtocol protocol) => protocol switch
    {
        ServiceProtocol.Smtp => Smtp,
        ServiceProtocol.Pop3 => Pop3,
        ServiceProtocol.Imap => Imap,
        ServiceProtocol.Nntp => Nntp,
        _ => null,
    };
}
