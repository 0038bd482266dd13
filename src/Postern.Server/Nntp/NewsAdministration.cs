using Postern.Protocols.Nntp;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>A change to a public folder as `postern public-folder set` expresses it; null fields stay as they are.</summary>
public sealed record PublicFolderChange
{
    /// <summary>With <see cref="Rights"/>: "anonymous", "authenticated" or an account address.</summary>
    public string? Principal { get; init; }

    /// <summary>"read,post,create,moderate", "all" or "none" (none removes the principal's entry).</summary>
    public string? Rights { get; init; }

    public bool? Moderated { get; init; }

    public string? Moderator { get; init; }

    /// <summary>A newsgroup name to enable the newsgroup view, "" to disable it.</summary>
    public string? Newsgroup { get; init; }

    public string? Description { get; init; }
}

/// <summary>What the admin API and CLI call for public folders, moderation and news peers (validation in one place).</summary>
public sealed class NewsAdministration(IPosternStore store)
{
    private IPublicFolderStore Folders => store.PublicFolders;

    /// <summary>`public-folder add PATH [--newsgroup NAME] [--description TEXT]`.</summary>
    public Task<StoreResult<PublicFolder>> AddFolderAsync(string path, string? newsgroup, string? description, CancellationToken cancellationToken) =>
        Folders.AddFolderAsync(path, string.IsNullOrWhiteSpace(newsgroup) ? null : newsgroup.Trim(), description, cancellationToken);

    /// <summary>`public-folder list`.</summary>
    public Task<IReadOnlyList<PublicFolder>> ListFoldersAsync(CancellationToken cancellationToken) => Folders.ListFoldersAsync(cancellationToken);

    /// <summary>`public-folder remove PATH` (with its subfolders and messages).</summary>
    public Task<StoreStatus> RemoveFolderAsync(string path, CancellationToken cancellationToken) => Folders.RemoveFolderAsync(path, cancellationToken);

    /// <summary>`public-folder set PATH [--principal P --rights R] [--moderated true|false] [--moderator ADDR] [--newsgroup NAME|""] [--description TEXT]`.</summary>
    public async Task<StoreResult<PublicFolder>> SetFolderAsync(string path, PublicFolderChange change, CancellationToken cancellationToken)
    {
        var folder = await Folders.GetFolderAsync(path, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            return StoreResult<PublicFolder>.Fail(StoreStatus.NotFound, "no such public folder");
        }

        if ((change.Principal is null) != (change.Rights is null))
        {
            return StoreResult<PublicFolder>.Fail(StoreStatus.Invalid, "principal and rights go together");
        }

        var rights = PublicFolderRights.None;
        if (change.Rights is not null && !PublicFolderPrincipals.TryParseRights(change.Rights, out rights))
        {
            return StoreResult<PublicFolder>.Fail(StoreStatus.Invalid, "rights are read, post, create, moderate, all or none");
        }

        if (change.Newsgroup is { Length: > 0 } name && !PublicFolderNames.IsValidNewsgroup(name))
        {
            return StoreResult<PublicFolder>.Fail(StoreStatus.Invalid, "invalid newsgroup name");
        }

        var statuses = new List<StoreStatus>();
        if (change.Principal is not null)
        {
            statuses.Add(await Folders.SetPermissionAsync(folder.Id, change.Principal, rights, cancellationToken).ConfigureAwait(false));
        }

        if (change.Moderated is not null || change.Moderator is not null)
        {
            statuses.Add(await Folders.SetModerationAsync(folder.Id, change.Moderated ?? folder.Moderated, change.Moderator ?? folder.Moderator, cancellationToken).ConfigureAwait(false));
        }

        if (change.Newsgroup is not null)
        {
            statuses.Add(await Folders.SetNewsgroupAsync(folder.Id, change.Newsgroup.Length == 0 ? null : change.Newsgroup, cancellationToken).ConfigureAwait(false));
        }

        if (change.Description is not null)
        {
            statuses.Add(await Folders.SetDescriptionAsync(folder.Id, change.Description.Length == 0 ? null : change.Description, cancellationToken).ConfigureAwait(false));
        }

        var failed = statuses.FirstOrDefault(s => s != StoreStatus.Ok);
        return failed != StoreStatus.Ok
            ? StoreResult<PublicFolder>.Fail(failed, failed == StoreStatus.AlreadyExists ? "newsgroup name in use" : "update failed")
            : StoreResult<PublicFolder>.Ok((await Folders.GetFolderByIdAsync(folder.Id, cancellationToken).ConfigureAwait(false))!);
    }

    /// <summary>Removes newsgroup articles older than <paramref name="age"/> (one folder, or every newsgroup when path is null).</summary>
    public async Task<StoreResult<int>> ExpireAsync(string? path, TimeSpan age, CancellationToken cancellationToken)
    {
        long? folderId = null;
        if (path is not null)
        {
            var folder = await Folders.GetFolderAsync(path, cancellationToken).ConfigureAwait(false);
            if (folder is null)
            {
                return StoreResult<int>.Fail(StoreStatus.NotFound, "no such public folder");
            }

            folderId = folder.Id;
        }

        return StoreResult<int>.Ok(await Folders.ExpireAsync(folderId, DateTimeOffset.UtcNow - age, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Articles waiting for a moderator (all folders when <paramref name="path"/> is null).</summary>
    public async Task<IReadOnlyList<PendingArticle>> ListPendingAsync(string? path, CancellationToken cancellationToken)
    {
        if (path is null)
        {
            return await Folders.ListPendingAsync(null, cancellationToken).ConfigureAwait(false);
        }

        var folder = await Folders.GetFolderAsync(path, cancellationToken).ConfigureAwait(false);
        return folder is null ? [] : await Folders.ListPendingAsync(folder.Id, cancellationToken).ConfigureAwait(false);
    }

    public Task<ArticleResult?> ApproveAsync(long pendingId, CancellationToken cancellationToken) => Folders.ApprovePendingAsync(pendingId, cancellationToken);

    public Task<bool> RejectAsync(long pendingId, CancellationToken cancellationToken) => Folders.RejectPendingAsync(pendingId, cancellationToken);

    /// <summary>`news-peer add NAME --host H [--port 563] [--tls implicit|starttls|none] [--no-verify] [--user U --password P] [--groups WILDMAT] [--direction push|pull|both]`.</summary>
    public Task<StoreResult<NewsPeer>> AddPeerAsync(NewsPeer peer, CancellationToken cancellationToken)
    {
        if (!Wildmat.IsValid(peer.Groups))
        {
            return Task.FromResult(StoreResult<NewsPeer>.Fail(StoreStatus.Invalid, "groups must be a wildmat (RFC 3977 §4), e.g. example.*,!example.local"));
        }

        if (string.IsNullOrEmpty(peer.UserName) != string.IsNullOrEmpty(peer.Password))
        {
            return Task.FromResult(StoreResult<NewsPeer>.Fail(StoreStatus.Invalid, "user name and password go together"));
        }

        if (peer.Name.Contains('!', StringComparison.Ordinal) || peer.Name.Any(char.IsWhiteSpace))
        {
            return Task.FromResult(StoreResult<NewsPeer>.Fail(StoreStatus.Invalid, "a peer name is its Path identity: no '!' or spaces"));
        }

        return Folders.AddPeerAsync(peer with { Password = NewsPeerSecrets.Seal(store.Options.DataDirectory, peer.Password) }, cancellationToken);
    }

    /// <summary>`news-peer list`; passwords are never shown.</summary>
    public async Task<IReadOnlyList<NewsPeer>> ListPeersAsync(CancellationToken cancellationToken) =>
        [.. (await Folders.ListPeersAsync(cancellationToken).ConfigureAwait(false)).Select(p => p with { Password = p.Password is null ? null : "********" })];

    /// <summary>`news-peer remove NAME` (its queued articles go with it).</summary>
    public Task<bool> RemovePeerAsync(string name, CancellationToken cancellationToken) => Folders.RemovePeerAsync(name, cancellationToken);

    /// <summary>Articles waiting in the outgoing feed, per peer id (for `news-peer list`).</summary>
    public Task<int> CountQueuedAsync(long? peerId, CancellationToken cancellationToken) => Folders.CountFeedAsync(peerId, cancellationToken);

    public static bool TryParseDirection(string text, out NewsFeedDirection direction)
    {
        direction = text.ToLowerInvariant() switch
        {
            "push" => NewsFeedDirection.Push,
            "pull" => NewsFeedDirection.Pull,
            "both" => NewsFeedDirection.Both,
            _ => 0,
        };
        return direction != 0;
    }

    public static bool TryParseTls(string text, out NewsPeerTls tls)
    {
        tls = text.ToLowerInvariant() switch
        {
            "starttls" => NewsPeerTls.StartTls,
            "none" => NewsPeerTls.None,
            _ => NewsPeerTls.Implicit,
        };
        return text.ToLowerInvariant() is "starttls" or "implicit" or "none";
    }
}
