using System.CommandLine;
using Postern.Host.Admin;
using Postern.Store;

namespace Postern.Host.Cli;

internal static class DirectoryCommands
{
    public static Command User()
    {
        var user = new Command("user", "Mail users (accounts) and their passwords");

        var address = new Argument<string>("address") { Description = "The user's mail address, e.g. alice@example.com" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input (never from the command line)" };
        var add = new Command("add", "Add a user with a password read from standard input") { address, passwordStdin };
        add.SetAdminAction(async (parse, client, ct) =>
        {
            if (!parse.GetValue(passwordStdin))
            {
                throw new CliException("give the password on standard input with --password-stdin");
            }

            var password = await CliSupport.ReadPasswordFromStdinAsync();
            var created = await client.PostAsync<UserView>("users", new UserRequest(parse.GetValue(address)!, password), ct);
            CliSupport.Print(parse, created, u => [[$"added {u.Address}"]]);
        });

        var list = new Command("list", "List users");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var users = await client.GetAsync<List<UserView>>("users", ct);
            CliSupport.Print(parse, users, us => us.Select(u => new[]
            {
                u.Address, u.Enabled ? "enabled" : "disabled", u.UsedBytes is > 0 and var used ? CliSupport.FormatSize(used) : "0", CliSupport.FormatSize(u.QuotaBytes), u.Created.ToString("yyyy-MM-dd"),
            }), ["ADDRESS", "STATE", "USED", "QUOTA", "CREATED"]);
        });

        var removeAddress = new Argument<string>("address");
        var remove = new Command("remove", "Remove a user and their mailboxes") { removeAddress };
        remove.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("users/" + AdminClient.Escape(parse.GetValue(removeAddress)!), ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(removeAddress) }, r => [[$"removed {r.removed}"]]);
        });

        var passwdAddress = new Argument<string>("address");
        var passwd = new Command("passwd", "Set a user's password, read from standard input") { passwdAddress, passwordStdin };
        passwd.SetAdminAction(async (parse, client, ct) =>
        {
            var password = await CliSupport.ReadPasswordFromStdinAsync();
            await client.PutAsync<object>("users/" + AdminClient.Escape(parse.GetValue(passwdAddress)!) + "/password", new PasswordRequest(password), ct);
            CliSupport.Print(parse, new { changed = parse.GetValue(passwdAddress) }, r => [[$"password changed for {r.changed}"]]);
        });

        var quotaAddress = new Argument<string>("address");
        var quotaSize = new Argument<string>("size") { Description = "The storage limit: 500M, 2G, a number of octets, or none" };
        var quota = new Command("quota", "Set a user's storage limit (IMAP QUOTA; APPEND, COPY and SMTP delivery stop at it)") { quotaAddress, quotaSize };
        quota.SetAdminAction(async (parse, client, ct) =>
        {
            var octets = CliSupport.ParseSize(parse.GetValue(quotaSize)!, "size");
            await client.PutAsync<object>("users/" + AdminClient.Escape(parse.GetValue(quotaAddress)!) + "/quota", new QuotaRequest(octets), ct);
            CliSupport.Print(parse, new { user = parse.GetValue(quotaAddress), quotaBytes = octets }, r => [[$"quota of {r.user}: {CliSupport.FormatSize(r.quotaBytes)}"]]);
        });

        user.Subcommands.Add(add);
        user.Subcommands.Add(list);
        user.Subcommands.Add(remove);
        user.Subcommands.Add(passwd);
        user.Subcommands.Add(quota);
        user.Subcommands.Add(EnableCommand("enable", "Let a disabled user log on and receive mail again", enabled: true));
        user.Subcommands.Add(EnableCommand("disable", "Stop a user from logging on and receiving mail; their mail is kept", enabled: false));
        user.Subcommands.Add(CertificateCommands.UserCertificates());
        return user;
    }

    private static Command EnableCommand(string name, string description, bool enabled)
    {
        var address = new Argument<string>("address");
        var command = new Command(name, description) { address };
        command.SetAdminAction(async (parse, client, ct) =>
        {
            await client.PutAsync<object>("users/" + AdminClient.Escape(parse.GetValue(address)!) + "/enabled", new EnabledRequest(enabled), ct);
            CliSupport.Print(parse, new { user = parse.GetValue(address), enabled }, r => [[$"{r.user} {(r.enabled ? "enabled" : "disabled")}"]]);
        });
        return command;
    }

    public static Command Domain()
    {
        var domain = new Command("domain", "Local mail domains (mail for them is delivered here)");
        var name = new Argument<string>("name");
        var add = new Command("add", "Add a local domain") { name };
        add.SetAdminAction(async (parse, client, ct) =>
        {
            var added = await client.PostAsync<Domain>("domains", new DomainRequest(parse.GetValue(name)!), ct);
            CliSupport.Print(parse, added, d => [[$"added {d.Name}"]]);
        });

        var list = new Command("list", "List local domains");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var domains = await client.GetAsync<List<Domain>>("domains", ct);
            CliSupport.Print(parse, domains, ds => ds.Select(d => new[] { d.Name }), ["DOMAIN"]);
        });

        var removeName = new Argument<string>("name");
        var remove = new Command("remove", "Remove a local domain") { removeName };
        remove.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("domains/" + AdminClient.Escape(parse.GetValue(removeName)!), ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(removeName) }, r => [[$"removed {r.removed}"]]);
        });

        domain.Subcommands.Add(add);
        domain.Subcommands.Add(list);
        domain.Subcommands.Add(remove);
        return domain;
    }

    public static Command Alias()
    {
        var alias = new Command("alias", "Addresses that deliver to another address");
        var from = new Argument<string>("alias");
        var to = new Argument<string>("target");
        var add = new Command("add", "Add or change an alias") { from, to };
        add.SetAdminAction(async (parse, client, ct) =>
        {
            await client.PostAsync<object>("aliases", new AliasRequest(parse.GetValue(from)!, parse.GetValue(to)!), ct);
            CliSupport.Print(parse, new { alias = parse.GetValue(from), target = parse.GetValue(to) }, r => [[$"{r.alias} → {r.target}"]]);
        });

        var list = new Command("list", "List aliases");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var aliases = await client.GetAsync<List<MailAlias>>("aliases", ct);
            CliSupport.Print(parse, aliases, all => all.Select(a => new[] { a.Alias, a.Target }), ["ALIAS", "TARGET"]);
        });

        var removeAlias = new Argument<string>("alias");
        var remove = new Command("remove", "Remove an alias") { removeAlias };
        remove.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("aliases/" + AdminClient.Escape(parse.GetValue(removeAlias)!), ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(removeAlias) }, r => [[$"removed {r.removed}"]]);
        });

        alias.Subcommands.Add(add);
        alias.Subcommands.Add(list);
        alias.Subcommands.Add(remove);
        return alias;
    }

    public static Command Queue()
    {
        var queue = new Command("queue", "The outbound mail queue");
        var list = new Command("list", "List queued messages");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var items = await client.GetAsync<List<QueuedMessage>>("queue", ct);
            CliSupport.Print(parse, items, qs => qs.Select(q => new[]
            {
                q.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), q.Sender.Length == 0 ? "<>" : q.Sender,
                string.Join(",", q.Recipients.Where(r => r.State == RecipientState.Pending).Select(r => r.Address)),
                q.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), q.NextAttempt.ToString("u"), string.Join(" ", (q.LastError ?? "").Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
            }), ["ID", "SENDER", "RECIPIENTS", "ATTEMPTS", "NEXT", "LAST ERROR"]);
        });

        var retryId = new Argument<long>("id");
        var retry = new Command("retry", "Try a queued message again now") { retryId };
        retry.SetAdminAction(async (parse, client, ct) =>
        {
            await client.PostAsync<object>($"queue/{parse.GetValue(retryId)}/retry", null, ct);
            CliSupport.Print(parse, new { retrying = parse.GetValue(retryId) }, r => [[$"message {r.retrying} will be tried now"]]);
        });

        var flush = new Command("flush", "Try every queued message again now (postqueue -f)");
        flush.SetAdminAction(async (parse, client, ct) =>
        {
            var flushed = await client.PostAsync<QueueFlushView>("queue/flush", null, ct);
            CliSupport.Print(parse, flushed, f => [[$"{f.Retried} queued message(s) will be tried now"]]);
        });

        var deleteId = new Argument<long>("id");
        var delete = new Command("delete", "Delete a queued message without delivering it") { deleteId };
        delete.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync($"queue/{parse.GetValue(deleteId)}", ct);
            CliSupport.Print(parse, new { deleted = parse.GetValue(deleteId) }, r => [[$"deleted message {r.deleted}"]]);
        });

        queue.Subcommands.Add(list);
        queue.Subcommands.Add(retry);
        queue.Subcommands.Add(flush);
        queue.Subcommands.Add(delete);
        return queue;
    }
}
