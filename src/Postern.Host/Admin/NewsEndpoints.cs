using Postern.Host.Serve;
using Postern.Store;

namespace Postern.Host.Admin;

/// <summary>Public folders (newsgroups over NNTP, a shared namespace over IMAP), moderation, and news peers.</summary>
internal static class NewsEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var folders = server.Store.PublicFolders;

        api.MapGet("/public-folders", async (CancellationToken ct) => Results.Ok((await folders.ListFoldersAsync(ct)).Select(FolderView.From)));
        api.MapPost("/public-folders", async (FolderRequest request, CancellationToken ct) =>
        {
            var added = await folders.AddFolderAsync(request.Path, request.Newsgroup, request.Description, ct);
            return added.IsOk ? Results.Ok(FolderView.From(added.Value!)) : AdminApi.Error(added.Message ?? "cannot add folder", added.Status == StoreStatus.AlreadyExists ? 409 : 400);
        });
        api.MapPatch("/public-folders", async (string path, FolderChange request, CancellationToken ct) =>
        {
            var folder = await folders.GetFolderAsync(path, ct);
            if (folder is null)
            {
                return AdminApi.NotFound($"no such public folder: {path}");
            }

            foreach (var (principal, rightsText) in request.Permissions ?? new Dictionary<string, string>())
            {
                if (!PublicFolderPrincipals.TryParseRights(rightsText, out var rights))
                {
                    return AdminApi.Error($"unknown rights '{rightsText}' (read, post, create, moderate, all, none)");
                }

                if (await folders.SetPermissionAsync(folder.Id, principal, rights, ct) != StoreStatus.Ok)
                {
                    return AdminApi.Error($"cannot set rights for '{principal}' (anonymous, authenticated, or a user's address)");
                }
            }

            if (request.Moderated is not null || request.Moderator is not null)
            {
                var status = await folders.SetModerationAsync(folder.Id, request.Moderated ?? folder.Moderated, request.Moderator ?? folder.Moderator, ct);
                if (status != StoreStatus.Ok)
                {
                    return AdminApi.Error("invalid moderation settings (the moderator must be a mail address)");
                }
            }

            if (request.Newsgroup is not null && await folders.SetNewsgroupAsync(folder.Id, request.Newsgroup.Length == 0 ? null : request.Newsgroup, ct) is var newsgroupStatus and not StoreStatus.Ok)
            {
                return AdminApi.Error(newsgroupStatus == StoreStatus.AlreadyExists ? $"newsgroup {request.Newsgroup} is taken" : $"invalid newsgroup name '{request.Newsgroup}'");
            }

            if (request.Description is not null)
            {
                await folders.SetDescriptionAsync(folder.Id, request.Description, ct);
            }

            // 0 removes the limit.
            if (request.AgeLimitDays is { } days && await folders.SetAgeLimitAsync(folder.Id, days == 0 ? null : days, ct) != StoreStatus.Ok)
            {
                return AdminApi.Error($"invalid age limit {days} (days, 1 to {PublicFolderAgeLimit.MaxDays}, or 0 for none)");
            }

            return Results.Ok(FolderView.From((await folders.GetFolderByIdAsync(folder.Id, ct))!));
        });
        api.MapDelete("/public-folders", async (string path, CancellationToken ct) =>
            await folders.RemoveFolderAsync(path, ct) == StoreStatus.Ok ? Results.NoContent() : AdminApi.NotFound($"no such public folder: {path}"));

        api.MapGet("/public-folders/pending", async (CancellationToken ct) => Results.Ok(await folders.ListPendingAsync(null, ct)));
        api.MapPost("/public-folders/pending/{id:long}/approve", async (long id, CancellationToken ct) =>
        {
            var approved = await folders.ApprovePendingAsync(id, ct);
            if (approved is null)
            {
                return AdminApi.NotFound($"no pending article {id}");
            }

            server.NewsFeeds.Nudge();
            return Results.Ok(approved);
        });
        api.MapPost("/public-folders/pending/{id:long}/reject", async (long id, CancellationToken ct) =>
            await folders.RejectPendingAsync(id, ct) ? Results.NoContent() : AdminApi.NotFound($"no pending article {id}"));

        var news = new Postern.Server.Nntp.NewsAdministration(server.Store);
        api.MapGet("/news/peers", async (CancellationToken ct) => Results.Ok(await news.ListPeersAsync(ct)));
        api.MapPost("/news/peers", async (NewsPeer peer, CancellationToken ct) =>
        {
            var added = await news.AddPeerAsync(peer with { Id = 0 }, ct);
            if (!added.IsOk)
            {
                return AdminApi.Error(added.Message ?? "cannot add peer");
            }

            server.NewsFeeds.PeersChanged();
            return Results.Ok(added.Value! with { Password = null });
        });
        api.MapDelete("/news/peers/{name}", async (string name, CancellationToken ct) =>
            await folders.RemovePeerAsync(name, ct) ? Results.NoContent() : AdminApi.NotFound($"no such peer: {name}"));
    }
}

internal sealed record FolderRequest(string Path, string? Newsgroup = null, string? Description = null);

internal sealed record FolderChange(IReadOnlyDictionary<string, string>? Permissions = null, bool? Moderated = null, string? Moderator = null, string? Newsgroup = null, string? Description = null, int? AgeLimitDays = null);

internal sealed record FolderView(long Id, string Path, string? Newsgroup, string? Description, bool Moderated, string? Moderator, IReadOnlyDictionary<string, string> Permissions, int? AgeLimitDays = null)
{
    public static FolderView From(PublicFolder folder) => new(folder.Id, folder.Path, folder.Newsgroup, folder.Description, folder.Moderated, folder.Moderator,
        folder.Permissions.ToDictionary(p => p.Principal, p => PublicFolderPrincipals.FormatRights(p.Rights)), folder.AgeLimitDays);
}
