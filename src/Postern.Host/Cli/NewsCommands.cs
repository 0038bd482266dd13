using System.CommandLine;
using System.Globalization;
using Postern.Host.Admin;
using Postern.Store;

namespace Postern.Host.Cli;

internal static class NewsCommands
{
    public static Command PublicFolder()
    {
        var folder = new Command("public-folder", "Public folders: newsgroups over NNTP and a shared namespace over IMAP");

        var path = new Argument<string>("path") { Description = "Folder path under Public Folders, e.g. \"Example/General\"" };
        var newsgroup = new Option<string?>("--newsgroup") { Description = "Newsgroup name, e.g. example.general (omit: not a newsgroup)" };
        var description = new Option<string?>("--description");
        var add = new Command("add", "Add a public folder") { path, newsgroup, description };
        add.SetAdminAction(async (parse, client, ct) =>
        {
            var added = await client.PostAsync<FolderView>("public-folders", new FolderRequest(parse.GetValue(path)!, parse.GetValue(newsgroup), parse.GetValue(description)), ct);
            CliSupport.Print(parse, added, f => [[$"added {f.Path}{(f.Newsgroup is null ? "" : " as newsgroup " + f.Newsgroup)}"]]);
        });

        var list = new Command("list", "List public folders");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var folders = await client.GetAsync<List<FolderView>>("public-folders", ct);
            CliSupport.Print(parse, folders, fs => fs.Select(f => new[]
            {
                f.Path, f.Newsgroup ?? "-", f.Moderated ? "moderated by " + f.Moderator : "", string.Join(" ", f.Permissions.Select(p => $"{p.Key}={p.Value}")),
            }), ["PATH", "NEWSGROUP", "MODERATION", "PERMISSIONS"]);
        });

        var setPath = new Argument<string>("path");
        var permission = new Option<string[]>("--permission") { Description = "PRINCIPAL=RIGHTS, e.g. anonymous=read authenticated=read,post alice@example.com=all", AllowMultipleArgumentsPerToken = true };
        var moderated = new Option<string?>("--moderated") { Description = "on|off" };
        var moderator = new Option<string?>("--moderator") { Description = "Address that approves posts" };
        var setNewsgroup = new Option<string?>("--newsgroup") { Description = "Newsgroup name (\"\" to stop publishing as a newsgroup)" };
        var setDescription = new Option<string?>("--description");
        var ageLimit = new Option<string?>("--age-limit") { Description = "Remove messages older than DAYS (checked hourly; INN's expire), or off" };
        var set = new Command("set", "Change permissions, moderation, the newsgroup name or the age limit") { setPath, permission, moderated, moderator, setNewsgroup, setDescription, ageLimit };
        set.SetAdminAction(async (parse, client, ct) =>
        {
            var permissions = new Dictionary<string, string>();
            foreach (var entry in parse.GetValue(permission) ?? [])
            {
                var eq = entry.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new CliException($"--permission takes PRINCIPAL=RIGHTS, not '{entry}'");
                }

                permissions[entry[..eq]] = entry[(eq + 1)..];
            }

            int? ageLimitDays = parse.GetValue(ageLimit) switch
            {
                null => null,
                "off" => 0,
                var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days > 0 => days,
                var text => throw new CliException($"--age-limit takes a number of days or off, not '{text}'"),
            };
            var change = new FolderChange(permissions.Count > 0 ? permissions : null, parse.GetValue(moderated) is { } m ? CliSupport.ParseOnOff(m, "--moderated") : null,
                parse.GetValue(moderator), parse.GetValue(setNewsgroup), parse.GetValue(setDescription), ageLimitDays);
            var changed = await client.PatchAsync<FolderView>("public-folders?path=" + AdminClient.Escape(parse.GetValue(setPath)!), change, ct);
            CliSupport.Print(parse, changed, f => [[$"{f.Path}: {string.Join(" ", f.Permissions.Select(p => $"{p.Key}={p.Value}"))}{(f.Moderated ? ", moderated by " + f.Moderator : "")}{(f.AgeLimitDays is { } d ? $", age limit {d} days" : "")}"]]);
        });

        var removePath = new Argument<string>("path");
        var remove = new Command("remove", "Remove a public folder and its messages") { removePath };
        remove.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("public-folders?path=" + AdminClient.Escape(parse.GetValue(removePath)!), ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(removePath) }, r => [[$"removed {r.removed}"]]);
        });

        var pending = new Command("pending", "Posts waiting for a moderator");
        pending.SetAdminAction(async (parse, client, ct) =>
        {
            var items = await client.GetAsync<List<PendingArticle>>("public-folders/pending", ct);
            CliSupport.Print(parse, items, ps => ps.Select(p => new[] { p.Id.ToString(CultureInfo.InvariantCulture), p.MessageId, p.Submitter ?? "", p.Received.ToString("u", CultureInfo.InvariantCulture) }), ["ID", "MESSAGE-ID", "FROM", "RECEIVED"]);
        });
        var approveId = new Argument<long>("id");
        var approve = new Command("approve", "Approve a held post") { approveId };
        approve.SetAdminAction(async (parse, client, ct) =>
        {
            await client.PostAsync<object>($"public-folders/pending/{parse.GetValue(approveId)}/approve", null, ct);
            CliSupport.Print(parse, new { approved = parse.GetValue(approveId) }, r => [[$"post {r.approved} approved"]]);
        });
        var rejectId = new Argument<long>("id");
        var reject = new Command("reject", "Reject a held post") { rejectId };
        reject.SetAdminAction(async (parse, client, ct) =>
        {
            await client.PostAsync<object>($"public-folders/pending/{parse.GetValue(rejectId)}/reject", null, ct);
            CliSupport.Print(parse, new { rejected = parse.GetValue(rejectId) }, r => [[$"post {r.rejected} rejected"]]);
        });

        folder.Subcommands.Add(add);
        folder.Subcommands.Add(list);
        folder.Subcommands.Add(set);
        folder.Subcommands.Add(remove);
        folder.Subcommands.Add(pending);
        folder.Subcommands.Add(approve);
        folder.Subcommands.Add(reject);
        return folder;
    }

    public static Command News()
    {
        var news = new Command("news", "Newsfeeds between organizations");
        var peer = new Command("peer", "Feed peers (push with IHAVE or CHECK/TAKETHIS, pull with NEWNEWS)");

        var name = new Argument<string>("name") { Description = "The peer's Path identity, e.g. news.partner.example" };
        var host = new Option<string>("--host") { Required = true };
        var port = new Option<int>("--port") { DefaultValueFactory = _ => 563 };
        var tls = new Option<NewsPeerTls>("--tls") { Description = "implicit (563), starttls (119), or none (clear text, for peers without TLS such as INN's innd; not recommended)", DefaultValueFactory = _ => NewsPeerTls.Implicit };
        var noVerify = new Option<bool>("--no-verify") { Description = "Do not verify the peer's certificate (not recommended)" };
        var groups = new Option<string>("--groups") { Description = "Wildmat of newsgroups to exchange", DefaultValueFactory = _ => "*" };
        var direction = new Option<NewsFeedDirection>("--direction") { Description = "push (we feed it), pull (we fetch from it; it may also feed us from its address) or both", DefaultValueFactory = _ => NewsFeedDirection.Both };
        var user = new Option<string?>("--user") { Description = "AUTHINFO user at the peer" };
        var passwordStdin = new Option<bool>("--password-stdin");
        var add = new Command("add", "Add a feed peer") { name, host, port, tls, noVerify, groups, direction, user, passwordStdin };
        add.SetAdminAction(async (parse, client, ct) =>
        {
            var password = parse.GetValue(passwordStdin) ? await CliSupport.ReadPasswordFromStdinAsync() : null;
            var added = await client.PostAsync<NewsPeer>("news/peers", new NewsPeer
            {
                Name = parse.GetValue(name)!,
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                Tls = parse.GetValue(tls),
                Verify = !parse.GetValue(noVerify),
                Groups = parse.GetValue(groups)!,
                Direction = parse.GetValue(direction),
                UserName = parse.GetValue(user),
                Password = password,
            }, ct);
            CliSupport.Print(parse, added, p => [[$"peer {p.Name} at {p.Host}:{p.Port} ({p.Tls}, {p.Direction}, groups {p.Groups})"]]);
        });

        var list = new Command("list", "List feed peers");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var peers = await client.GetAsync<List<NewsPeer>>("news/peers", ct);
            CliSupport.Print(parse, peers, ps => ps.Select(p => new[] { p.Name, $"{p.Host}:{p.Port}", p.Tls.ToString(), p.Direction.ToString(), p.Groups, p.Verify ? "verify" : "no-verify" }), ["NAME", "ADDRESS", "TLS", "DIRECTION", "GROUPS", "CERTIFICATE"]);
        });

        var removeName = new Argument<string>("name");
        var remove = new Command("remove", "Remove a feed peer") { removeName };
        remove.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("news/peers/" + AdminClient.Escape(parse.GetValue(removeName)!), ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(removeName) }, r => [[$"peer {r.removed} removed"]]);
        });

        peer.Subcommands.Add(add);
        peer.Subcommands.Add(list);
        peer.Subcommands.Add(remove);
        news.Subcommands.Add(peer);
        return news;
    }
}
