using Postern.Host.Serve;
using Postern.Server.Smtp;
using Postern.Store;

namespace Postern.Host.Admin;

/// <summary>DKIM keys per mail domain (OpenDKIM's KeyTable): list, create or rotate, remove.</summary>
internal static class DkimEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var keys = server.Context.Dkim!;
        api.MapGet("/dkim", async (CancellationToken ct) => Results.Ok((await keys.ListAsync(ct)).Select(DkimView.From)));
        api.MapPut("/dkim/{domain}", async (string domain, DkimRequest? request, CancellationToken ct) =>
        {
            domain = domain.Trim().TrimEnd('.').ToLowerInvariant();
            if (!AddressSyntax.IsValidDomain(domain))
            {
                return AdminApi.Error($"'{domain}' is not a domain name");
            }

            // RFC 6376 §3.1: a new key goes under a new selector. Under the current one, DNS (and resolvers' caches) would
            // still give the old key for mail signed with the new one, and every signature would fail.
            var now = DateTimeOffset.UtcNow;
            var current = (await keys.ListAsync(ct)).FirstOrDefault(k => k.Domain.Equals(domain, StringComparison.OrdinalIgnoreCase));
            var selector = request?.Selector ?? DkimKeys.DefaultSelector(now);
            if (request?.Selector is null && string.Equals(current?.Selector, selector, StringComparison.OrdinalIgnoreCase))
            {
                selector = "postern" + now.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            }

            if (!DkimKeys.IsValidSelector(selector))
            {
                return AdminApi.Error($"'{selector}' is not a selector (letters, digits and hyphens, dot-separated labels)");
            }

            if (string.Equals(current?.Selector, selector, StringComparison.OrdinalIgnoreCase))
            {
                return AdminApi.Error($"{domain}'s current key already has the selector '{selector}': a new key needs a new selector, since DNS still gives the old key under this one", StatusCodes.Status409Conflict);
            }

            return Results.Ok(DkimView.From(await keys.CreateAsync(domain, selector, ct)));
        });
        api.MapGet("/dkim/{domain}/check", async (string domain, CancellationToken ct) =>
        {
            var key = (await keys.ListAsync(ct)).FirstOrDefault(k => k.Domain.Equals(domain.Trim().TrimEnd('.'), StringComparison.OrdinalIgnoreCase));
            return key is null
                ? AdminApi.NotFound($"no DKIM key for {domain}")
                : Results.Ok(await DkimKeys.CheckPublishedAsync(server.Context.Dns ?? new DnsClient.LookupClient(), key, ct));
        });
        api.MapDelete("/dkim/{domain}", async (string domain, CancellationToken ct) =>
            await keys.RemoveAsync(domain.Trim().TrimEnd('.').ToLowerInvariant(), ct) ? Results.NoContent() : AdminApi.NotFound($"no DKIM key for {domain}"));
    }
}

internal sealed record DkimRequest(string? Selector = null);

/// <summary>A DKIM key as the administrator publishes it: the TXT record's name and text.</summary>
internal sealed record DkimView(string Domain, string Selector, string Algorithm, DateTimeOffset Created, string DnsName, string DnsText)
{
    public static DkimView From(DkimKeyInfo key) => new(key.Domain, key.Selector, key.Algorithm, key.Created, key.DnsName, key.DnsText);
}
