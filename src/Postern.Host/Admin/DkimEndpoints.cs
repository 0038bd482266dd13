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

            var selector = request?.Selector ?? DkimKeys.DefaultSelector(DateTimeOffset.UtcNow);
            if (!DkimKeys.IsValidSelector(selector))
            {
                return AdminApi.Error($"'{selector}' is not a selector (letters, digits and hyphens, dot-separated labels)");
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
