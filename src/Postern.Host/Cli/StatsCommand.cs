using System.CommandLine;
using System.Globalization;
using Postern.Host.Admin;

namespace Postern.Host.Cli;

/// <summary>`postern stats`: the running node's counters since it started (`doveadm stats dump`, `postqueue -p`'s cousin).</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var stats = new Command("stats", "What the running server has done since it started: connections, TLS handshakes, logons, messages and articles, outbound deliveries");
        stats.SetAdminAction(async (parse, client, ct) =>
        {
            var view = await client.GetAsync<StatsView>("stats", ct);
            CliSupport.Print(parse, view, v => v.Protocols.Select(p => new[]
            {
                p.Protocol, N(p.ConnectionsAccepted), N(p.ConnectionsActive), N(p.ConnectionsRefused), N(p.TlsHandshakes), N(p.TlsFailures),
                N(p.LogonsSucceeded), N(p.LogonsFailed), $"{N(p.ItemCount)} {p.Items.Replace('.', ' ')}",
            }).Append(["outbound", "", "", "", "", "", "", "", $"{N(v.Outbound.Delivered)} delivered, {N(v.Outbound.Deferred)} deferred, {N(v.Outbound.Bounced)} bounced"]),
                ["PROTOCOL", "CONNECTIONS", "ACTIVE", "REFUSED", "TLS", "TLS FAILED", "LOGONS", "LOGONS FAILED", "WORK"]);
        });
        return stats;
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
