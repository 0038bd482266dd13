using System.Globalization;
using System.Text;
using Postern.Host.Serve;
using Postern.Server.Connections;

namespace Postern.Host.Admin;

/// <summary>
/// GET /api/v1/stats: what this node's virtual servers have done since it started (Dovecot's `doveadm stats dump`,
/// Exchange's performance counters). JSON by default; `?format=prometheus` gives Prometheus' text format for a scraper,
/// which sends the admin token as a bearer credential like every API call.
/// </summary>
internal static class StatsEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server) =>
        api.MapGet("/stats", (string? format) =>
        {
            var stats = Snapshot(server);
            return format switch
            {
                null or "json" => Results.Ok(stats),
                "prometheus" => Results.Text(Prometheus(stats), "text/plain; version=0.0.4; charset=utf-8"),
                _ => AdminApi.Error("format is json or prometheus"),
            };
        });

    internal static StatsView Snapshot(PosternServer server)
    {
        var started = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var protocols = ServerMetrics.All.Select(m => new ProtocolStatsView(
            m.Protocol.ToString().ToLowerInvariant(), m.ConnectionsAccepted, m.ConnectionsActive, m.ConnectionsRefused,
            m.TlsHandshakes, m.TlsFailures, m.LogonsSucceeded, m.LogonsFailed, m.ItemsName, m.Items)).ToList();
        var outbound = ServerMetrics.Outbound;
        return new StatsView(server.HostName, new DateTimeOffset(started), protocols, new OutboundStatsView(outbound.Delivered, outbound.Deferred, outbound.Bounced));
    }

    /// <summary>Prometheus' text exposition format 0.0.4: one family per counter, the protocol as a label.</summary>
    internal static string Prometheus(StatsView stats)
    {
        var text = new StringBuilder();
        void Family(string name, string type, string help, IEnumerable<(string Labels, long Value)> samples)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in samples)
            {
                text.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        static string Protocol(ProtocolStatsView p) => $"protocol=\"{p.Protocol}\"";
        var p = stats.Protocols;
        Family("postern_connections_accepted_total", "counter", "Connections accepted.", p.Select(x => (Protocol(x), x.ConnectionsAccepted)));
        Family("postern_connections_active", "gauge", "Connections open now.", p.Select(x => (Protocol(x), x.ConnectionsActive)));
        Family("postern_connections_refused_total", "counter", "Connections refused by a connection limit.", p.Select(x => (Protocol(x), x.ConnectionsRefused)));
        Family("postern_tls_handshakes_total", "counter", "TLS handshakes, implicit and STARTTLS.",
            p.SelectMany(x => new[] { (Protocol(x) + ",result=\"ok\"", x.TlsHandshakes), (Protocol(x) + ",result=\"failed\"", x.TlsFailures) }));
        Family("postern_logons_total", "counter", "Password and certificate logons.",
            p.SelectMany(x => new[] { (Protocol(x) + ",result=\"ok\"", x.LogonsSucceeded), (Protocol(x) + ",result=\"failed\"", x.LogonsFailed) }));
        Family("postern_items_total", "counter", "Each protocol's unit of work: SMTP messages accepted, POP3 messages retrieved, IMAP messages appended, NNTP articles accepted.",
            p.Select(x => ($"{Protocol(x)},item=\"{x.Items}\"", x.ItemCount)));
        Family("postern_smtp_outbound_recipients_total", "counter", "Outbound delivery attempts per recipient.",
        [
            ("result=\"delivered\"", stats.Outbound.Delivered),
            ("result=\"deferred\"", stats.Outbound.Deferred),
            ("result=\"bounced\"", stats.Outbound.Bounced),
        ]);
        text.Append("# HELP postern_start_time_seconds When this node started, in seconds since the Unix epoch.\n# TYPE postern_start_time_seconds gauge\n")
            .Append("postern_start_time_seconds ").Append(stats.Started.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }
}

internal sealed record StatsView(string Node, DateTimeOffset Started, IReadOnlyList<ProtocolStatsView> Protocols, OutboundStatsView Outbound);

/// <param name="Items">What <paramref name="ItemCount"/> counts, e.g. "messages.accepted".</param>
internal sealed record ProtocolStatsView(string Protocol, long ConnectionsAccepted, long ConnectionsActive, long ConnectionsRefused,
    long TlsHandshakes, long TlsFailures, long LogonsSucceeded, long LogonsFailed, string Items, long ItemCount);

internal sealed record OutboundStatsView(long Delivered, long Deferred, long Bounced);
