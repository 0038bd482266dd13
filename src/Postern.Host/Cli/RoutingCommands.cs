using System.CommandLine;
using System.Globalization;
using Postern.Host.Admin;

namespace Postern.Host.Cli;

internal static class RoutingCommands
{
    public static Command Create()
    {
        var route = new Command("route", "SMTP routes to other servers (per domain, or \"*\" for a smart host); other domains go by MX");

        var domain = new Argument<string>("domain") { Description = "The recipient domain, or * for every domain without its own route" };
        var host = new Argument<string>("host") { Description = "HOST or HOST:PORT of the next server" };
        var tls = new Option<string>("--tls") { Description = "opportunistic (default), required, or none", DefaultValueFactory = _ => "opportunistic" };
        var verify = new Option<bool>("--verify") { Description = "With --tls required: the peer's certificate must chain to a trusted root and name the host" };
        var user = new Option<string?>("--user") { Description = "AUTH user name at the next hop" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the AUTH password from standard input" };
        var add = new Command("add", "Add or replace a route") { domain, host, tls, verify, user, passwordStdin };
        add.SetAdminAction(async (parse, client, ct) =>
        {
            if (!TrySplitHostPort(parse.GetValue(host)!, out var target, out var port))
            {
                throw new CliException($"'{parse.GetValue(host)}' is not HOST, HOST:PORT, an IP address or [IPv6]:PORT");
            }

            var password = parse.GetValue(passwordStdin) ? await CliSupport.ReadPasswordFromStdinAsync() : null;
            var saved = await client.PostAsync<RouteView>("routes", new RouteRequest(parse.GetValue(domain)!, target, port, parse.GetValue(tls), parse.GetValue(verify), parse.GetValue(user), password), ct);
            CliSupport.Print(parse, saved, r => [[$"mail for {r.Domain} goes to {HostPort(r.Host, r.Port)} (TLS {r.Tls}{(r.Verify ? ", verified" : "")})"]]);
        });

        var list = new Command("list", "List routes");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var routes = await client.GetAsync<List<RouteView>>("routes", ct);
            CliSupport.Print(parse, routes, rs => rs.Select(r => new[] { r.Domain, HostPort(r.Host, r.Port), r.Tls, r.Verify ? "verify" : "", r.Username ?? "" }), ["DOMAIN", "NEXT HOP", "TLS", "VERIFY", "AUTH USER"]);
        });

        var removeDomain = new Argument<string>("domain");
        var remove = new Command("remove", "Remove a route") { removeDomain };
        remove.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("routes/" + AdminClient.Escape(parse.GetValue(removeDomain)!), ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(removeDomain) }, r => [[$"route for {r.removed} removed"]]);
        });

        route.Subcommands.Add(add);
        route.Subcommands.Add(list);
        route.Subcommands.Add(remove);
        return route;
    }

    private static string HostPort(string host, int port) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>HOST, HOST:PORT, an IPv4 or a bare IPv6 address (no port), or [IPv6]:PORT, as Postfix's relayhost takes them.</summary>
    internal static bool TrySplitHostPort(string text, out string host, out int? port)
    {
        host = text.Trim();
        port = null;
        string? portText = null;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < host.Length && host[close + 1] != ':'))
            {
                return false;
            }

            portText = close + 1 < host.Length ? host[(close + 2)..] : null;
            host = host[1..close];
        }
        else if (host.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 && host.IndexOf(':', colon + 1) < 0)
        {
            portText = host[(colon + 1)..];
            host = host[..colon];
        }

        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                return false;
            }

            port = p;
        }

        return host.Length > 0;
    }
}
