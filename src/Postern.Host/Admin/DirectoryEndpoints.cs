using Postern.Host.Serve;
using Postern.Store;

namespace Postern.Host.Admin;

internal static class DirectoryEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var directory = server.Store.Directory;

        api.MapGet("/organization", async (CancellationToken ct) =>
        {
            var configuration = server.Store.Configuration;
            return Results.Ok(new OrganizationView(
                await configuration.GetSettingAsync(SettingKeys.OrganizationName, ct) ?? "",
                await configuration.GetSettingAsync(SettingKeys.AdministrativeGroup, ct) ?? "",
                server.HostName,
                await configuration.GetSettingAsync(SettingKeys.Postmaster, ct),
                server.Store.Database.Engine));
        });

        api.MapGet("/domains", async (CancellationToken ct) => Results.Ok(await directory.ListDomainsAsync(ct)));
        api.MapPost("/domains", async (DomainRequest request, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(request.Name) || !AddressSyntax.IsValidDomain(request.Name))
            {
                return AdminApi.Error($"not a valid domain name: '{request.Name}'");
            }

            return Results.Ok(await directory.AddDomainAsync(request.Name.Trim(), ct));
        });
        api.MapDelete("/domains/{name}", async (string name, CancellationToken ct) =>
            await directory.RemoveDomainAsync(name, ct) ? Results.NoContent() : AdminApi.NotFound($"no such domain: {name}"));

        api.MapGet("/users", async (CancellationToken ct) =>
        {
            var usage = await server.Store.Mail.GetUsageByAccountAsync(ct);
            return Results.Ok((await directory.ListAccountsAsync(ct)).Select(a => UserView.From(a, usage.GetValueOrDefault(a.Id))));
        });
        api.MapPost("/users", async (UserRequest request, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(request.Address))
            {
                return AdminApi.Error("an address is required");
            }

            if (string.IsNullOrEmpty(request.Password))
            {
                return AdminApi.Error("a password is required");
            }

            var added = await directory.AddAccountAsync(request.Address.Trim(), request.Password, ct);
            if (!added.IsOk)
            {
                return AdminApi.Error(added.Message ?? "cannot add user", added.Status == StoreStatus.AlreadyExists ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest);
            }

            // The first account receives postmaster@ mail until the administrator says otherwise (RFC 5321 §4.5.1).
            if (await server.Store.Configuration.GetSettingAsync(SettingKeys.Postmaster, ct) is null)
            {
                await server.Store.Configuration.SetSettingAsync(SettingKeys.Postmaster, added.Value!.Address, ct);
            }

            return Results.Ok(UserView.From(added.Value!));
        });
        api.MapPut("/users/{address}/password", async (string address, PasswordRequest request, CancellationToken ct) =>
        {
            if (string.IsNullOrEmpty(request.Password))
            {
                return AdminApi.Error("a password is required");
            }

            return await directory.SetPasswordAsync(address, request.Password, ct) ? Results.NoContent() : AdminApi.NotFound($"no such user: {address}");
        });
        api.MapDelete("/users/{address}", async (string address, CancellationToken ct) =>
            await directory.RemoveAccountAsync(address, ct) ? Results.NoContent() : AdminApi.NotFound($"no such user: {address}"));

        // The storage limit IMAP's QUOTA reports (RFC 9208) and APPEND, COPY and SMTP delivery enforce; 0 means none.
        api.MapPut("/users/{address}/quota", async (string address, QuotaRequest request, CancellationToken ct) =>
            request.QuotaBytes < 0 ? AdminApi.Error("the quota is a number of octets, 0 for none")
            : await directory.SetQuotaAsync(address, request.QuotaBytes, ct) ? Results.NoContent() : AdminApi.NotFound($"no such user: {address}"));
        api.MapPut("/users/{address}/enabled", async (string address, EnabledRequest request, CancellationToken ct) =>
            await directory.SetEnabledAsync(address, request.Enabled, ct) ? Results.NoContent() : AdminApi.NotFound($"no such user: {address}"));

        api.MapGet("/aliases", async (CancellationToken ct) => Results.Ok(await directory.ListAliasesAsync(ct)));
        api.MapDelete("/aliases/{alias}", async (string alias, CancellationToken ct) =>
            await directory.RemoveAliasAsync(alias, ct) ? Results.NoContent() : AdminApi.NotFound($"no such alias: {alias}"));
        api.MapPost("/aliases", async (AliasRequest request, CancellationToken ct) =>
        {
            if (!AddressSyntax.IsValidMailbox(request.Alias) || !AddressSyntax.IsValidMailbox(request.Target))
            {
                return AdminApi.Error("alias and target must be addresses");
            }

            // An account's own address is never looked up as an alias: such an alias would be listed and never used.
            if (await directory.FindAccountAsync(request.Alias, ct) is not null)
            {
                return AdminApi.Error($"{request.Alias} is an account: an alias needs an address of its own", StatusCodes.Status409Conflict);
            }

            // Mail for an alias goes to a mailbox here; a target that leads to none (another server's address, a loop)
            // would turn every message for the alias away with 550, so it is refused now.
            if (await directory.ResolveRecipientAsync(request.Target, ct) is null)
            {
                return AdminApi.Error($"{request.Target} is no mailbox on this server (an account, or an alias that leads to one); forwarding to other servers is not supported");
            }

            await directory.AddAliasAsync(request.Alias, request.Target, ct);
            return Results.NoContent();
        });
    }
}

internal sealed record OrganizationView(string Organization, string AdministrativeGroup, string Server, string? Postmaster, string? Store = null);

internal sealed record DomainRequest(string Name);

internal sealed record UserRequest(string Address, string Password);

internal sealed record PasswordRequest(string Password);

internal sealed record AliasRequest(string Alias, string Target);

internal sealed record QuotaRequest(long QuotaBytes);

internal sealed record EnabledRequest(bool Enabled);

/// <param name="UsedBytes">Mail stored, in octets (what the quota counts); given by the listing only.</param>
internal sealed record UserView(long Id, string Address, bool Enabled, long QuotaBytes, DateTimeOffset Created, long? UsedBytes = null)
{
    public static UserView From(Account account) => new(account.Id, account.Address, account.Enabled, account.QuotaBytes, account.Created);

    public static UserView From(Account account, long usedBytes) => From(account) with { UsedBytes = usedBytes };
}
