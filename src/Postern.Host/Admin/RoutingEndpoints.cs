using Postern.Host.Serve;
using Postern.Server.Smtp.Outbound;

namespace Postern.Host.Admin;

/// <summary>SMTP routes (the article's SMTP connectors): per-domain next hops and the smart host "*".</summary>
internal static class RoutingEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var routes = new SmtpRouteStore(server.Store);
        api.MapGet("/routes", async (CancellationToken ct) => Results.Ok((await routes.ListAsync(ct)).Select(RouteView.From)));
        api.MapPost("/routes", async (RouteRequest request, CancellationToken ct) =>
        {
            if (!SmtpRouteStore.TryParseTls(request.Tls ?? "opportunistic", out var tls))
            {
                return AdminApi.Error($"unknown TLS mode '{request.Tls}' (opportunistic, required, none)");
            }

            var saved = await routes.SetAsync(new SmtpRoute(request.Domain, request.Host, request.Port ?? 25, tls, request.Verify, request.Username, request.Password), ct);
            if (!saved.IsOk)
            {
                return AdminApi.Error(saved.Message ?? "invalid route");
            }

            server.Outbound.Wake();
            return Results.Ok(RouteView.From(saved.Value!));
        });
        api.MapDelete("/routes/{domain}", async (string domain, CancellationToken ct) =>
            await routes.RemoveAsync(domain, ct) ? Results.NoContent() : AdminApi.NotFound($"no route for {domain}"));
    }
}

internal sealed record RouteRequest(string Domain, string Host, int? Port = null, string? Tls = null, bool Verify = false, string? Username = null, string? Password = null);

/// <summary>A route as listed: the relay password is never shown.</summary>
internal sealed record RouteView(string Domain, string Host, int Port, string Tls, bool Verify, string? Username)
{
    public static RouteView From(SmtpRoute route) => new(route.Domain, route.Host, route.Port, SmtpRouteStore.TlsName(route.Tls), route.Verify, route.Username);
}
