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
            var target = parse.GetValue(host)!;
            int? port = null;
            var colon = target.LastIndexOf(':');
            if (colon > 0 && int.TryParse(target[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                port = p;
                target = target[..colon];
            }

            var password = parse.GetValue(passwordStdin) ? await CliSupport.ReadPasswordFromStdinAsync() : null;
            var saved = await client.PostAsync<RouteView>("routes", new RouteRequest(parse.GetValue(domain)!, target, port, parse.GetValue(tls), parse.GetValue(verify), parse.GetValue(user), password), ct);
            CliSupport.Print(parse, saved, r => [[$"mail for {r.Domain} goes to {r.Host}:{r.Port} (TLS {r.Tls}{(r.Verify ? ", verified" : "")})"]]);
        });

        var list = new Command("list", "List routes");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var routes = await client.GetAsync<List<RouteView>>("routes", ct);
            CliSupport.Print(parse, routes, rs => rs.Select(r => new[] { r.Domain, $"{r.Host}:{r.Port}", r.Tls, r.Verify ? "verify" : "", r.Username ?? "" }), ["DOMAIN", "NEXT HOP", "TLS", "VERIFY", "AUTH USER"]);
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
}
