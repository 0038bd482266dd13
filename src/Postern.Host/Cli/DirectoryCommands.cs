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
            CliSupport.Print(parse, users, us => us.Select(u => new[] { u.Address, u.Enabled ? "enabled" : "disabled", u.Created.ToString("yyyy-MM-dd") }), ["ADDRESS", "STATE", "CREATED"]);
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

        user.Subcommands.Add(add);
        user.Subcommands.Add(list);
        user.Subcommands.Add(remove);
        user.Subcommands.Add(passwd);
        user.Subcommands.Add(CertificateCommands.UserCertificates());
        return user;
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
        alias.Subcommands.Add(add);
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
                q.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), q.NextAttempt.ToString("u"), q.LastError ?? "",
            }), ["ID", "SENDER", "RECIPIENTS", "ATTEMPTS", "NEXT", "LAST ERROR"]);
        });

        var retryId = new Argument<long>("id");
        var retry = new Command("retry", "Try a queued message again now") { retryId };
        retry.SetAdminAction(async (parse, client, ct) =>
        {
            await client.PostAsync<object>($"queue/{parse.GetValue(retryId)}/retry", null, ct);
            CliSupport.Print(parse, new { retrying = parse.GetValue(retryId) }, r => [[$"message {r.retrying} will be tried now"]]);
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
        queue.Subcommands.Add(delete);
        return queue;
    }
}
