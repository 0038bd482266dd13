using System.CommandLine;
using System.Globalization;
using Postern.Host.Admin;
using Postern.Store;

namespace Postern.Host.Cli;

internal static class VirtualServerCommands
{
    public static Command Create()
    {
        var vs = new Command("vs", "Virtual servers: the SMTP, POP3, IMAP4, NNTP and HTTP services and their security options");

        var list = new Command("list", "List virtual servers with their bindings and security options");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var servers = await client.GetAsync<List<VirtualServerView>>("virtual-servers", ct);
            CliSupport.Print(parse, servers, ss => ss.Select(s => new[]
            {
                s.Id.ToString(CultureInfo.InvariantCulture), s.Protocol.ToString().ToUpperInvariant(), s.Name, s.Enabled ? "started" : "stopped",
                string.Join(" ", s.Bindings.Select(b => $"{b.Address}:{b.Port}{(b.Mode == BindingMode.ImplicitTls ? "/tls" : "")}{(b.Listening || !s.Enabled ? "" : "(down)")}")),
                (s.Security.RequireSecureChannel ? "secure-channel " : "") + (s.Security.Require128BitEncryption ? "128-bit" : ""),
            }), ["ID", "PROTOCOL", "NAME", "STATE", "BINDINGS", "REQUIRES"]);
        });

        var showName = new Argument<string>("virtual-server") { Description = "Name (quote it) or id" };
        var show = new Command("show", "Show one virtual server") { showName };
        show.SetAdminAction(async (parse, client, ct) =>
            CliSupport.Print(parse, await client.GetAsync<VirtualServerView>("virtual-servers/" + AdminClient.Escape(parse.GetValue(showName)!), ct)));

        var setName = new Argument<string>("virtual-server") { Description = "Name (quote it) or id" };
        var secure = new Option<string?>("--require-secure-channel") { Description = "on|off: refuse credentials and mail/news transactions in clear text" };
        var plaintextAuth = new Option<string?>("--allow-plaintext-auth") { Description = "on|off: accept passwords on connections that are not encrypted (off by default)" };
        var strong = new Option<string?>("--require-128bit") { Description = "on|off: only 128-bit-or-better AEAD ciphers" };
        var minTls = new Option<string?>("--min-tls") { Description = "1.2 or 1.3" };
        var clientCerts = new Option<ClientCertificateMode?>("--client-certificates") { Description = "off|accepted|required" };
        var requireAuth = new Option<string?>("--require-auth") { Description = "on|off (SMTP): AUTH required before MAIL" };
        var relay = new Option<string[]?>("--relay-from") { Description = "(SMTP) client addresses/CIDR ranges allowed to relay", AllowMultipleArgumentsPerToken = true };
        var bind = new Option<string[]?>("--bind") { Description = "replace bindings: ADDRESS:PORT[/tls], e.g. 127.0.0.1:587 0.0.0.0:465/tls", AllowMultipleArgumentsPerToken = true };
        var limit = new Option<string[]?>("--limit") { Description = "NAME=VALUE, e.g. maxConnections=500 maxLineLength=1000 idleTimeoutSeconds=120 maxMessageSize=10485760 limitLoopbackPerAddress=on (see docs/limits.md)", AllowMultipleArgumentsPerToken = true };
        var setting = new Option<string[]?>("--setting") { Description = "KEY=VALUE protocol setting, e.g. smtp.max-text-line=2000 (empty VALUE removes it)", AllowMultipleArgumentsPerToken = true };
        var set = new Command("set", "Change a virtual server; applies to new connections at once") { setName, secure, plaintextAuth, strong, minTls, clientCerts, requireAuth, relay, bind, limit, setting };
        set.SetAdminAction(async (parse, client, ct) =>
        {
            ConnectionLimits? limits = null;
            Dictionary<string, string>? settings = null;
            if (parse.GetValue(limit) is { Length: > 0 } || parse.GetValue(setting) is { Length: > 0 })
            {
                var current = await client.GetAsync<VirtualServerView>("virtual-servers/" + AdminClient.Escape(parse.GetValue(setName)!), ct);
                limits = parse.GetValue(limit) is { Length: > 0 } pairs ? ApplyLimits(current.Limits, pairs) : null;
                if (parse.GetValue(setting) is { Length: > 0 } settingPairs)
                {
                    settings = new Dictionary<string, string>(current.Settings);
                    foreach (var (key, value) in settingPairs.Select(SplitPair))
                    {
                        if (value.Length == 0)
                        {
                            settings.Remove(key);
                        }
                        else
                        {
                            settings[key] = value;
                        }
                    }
                }
            }

            var request = new ChangeVirtualServerRequest(
                RequireSecureChannel: parse.GetValue(secure) is { } s ? CliSupport.ParseOnOff(s, "--require-secure-channel") : null,
                Require128BitEncryption: parse.GetValue(strong) is { } b ? CliSupport.ParseOnOff(b, "--require-128bit") : null,
                AllowPlaintextAuthentication: parse.GetValue(plaintextAuth) is { } p ? CliSupport.ParseOnOff(p, "--allow-plaintext-auth") : null,
                MinimumTlsVersion: parse.GetValue(minTls),
                ClientCertificates: parse.GetValue(clientCerts),
                RequireAuthentication: parse.GetValue(requireAuth) is { } a ? CliSupport.ParseOnOff(a, "--require-auth") : null,
                RelayAddresses: parse.GetValue(relay) is { Length: > 0 } relays ? relays : null,
                Bindings: parse.GetValue(bind) is { Length: > 0 } binds ? binds.Select(ParseBinding).ToList() : null,
                Limits: limits,
                Settings: settings);
            var changed = await client.PatchAsync<VirtualServerView>("virtual-servers/" + AdminClient.Escape(parse.GetValue(setName)!), request, ct);
            CliSupport.Print(parse, changed, v => [[$"{v.Name}: secure channel {(v.Security.RequireSecureChannel ? "required" : "not required")}, 128-bit {(v.Security.Require128BitEncryption ? "required" : "not required")}, TLS {v.Security.MinimumTlsVersion}+"]]);
            if (request.Bindings is not null)
            {
                RefuseBindingsDown(changed);
            }
        });

        vs.Subcommands.Add(list);
        vs.Subcommands.Add(show);
        vs.Subcommands.Add(set);
        vs.Subcommands.Add(StartStop("start", true));
        vs.Subcommands.Add(StartStop("stop", false));
        vs.Subcommands.Add(CreateCommand());
        vs.Subcommands.Add(DeleteCommand());
        return vs;
    }

    /// <summary>
    /// The change is saved, but a binding that cannot listen (a port another process holds) must not pass as done: the
    /// error and a non-zero exit, as `postern check` would give.
    /// </summary>
    private static void RefuseBindingsDown(VirtualServerView view)
    {
        if (view.Enabled && view.Bindings.FirstOrDefault(b => !b.Listening) is { } down)
        {
            throw new CliException($"saved, but {down.Address}:{down.Port} is not listening: {down.Error ?? "down"}");
        }
    }

    private static (string Key, string Value) SplitPair(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        return eq <= 0 ? throw new CliException($"expected NAME=VALUE, not '{text}'") : (text[..eq].Trim(), text[(eq + 1)..].Trim());
    }

    /// <summary>Changes named limits of the current set, by their JSON names (camelCase, as `vs show --json` prints them).</summary>
    private static ConnectionLimits ApplyLimits(ConnectionLimits current, IEnumerable<string> pairs)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(current, AdminClient.JsonOptions))!.AsObject();
        foreach (var (key, value) in pairs.Select(SplitPair))
        {
            var name = node.Select(p => p.Key).FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase))
                ?? throw new CliException($"unknown limit '{key}' (one of {string.Join(", ", node.Select(p => p.Key))})");
            if (node[name] is { } existing && existing.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
            {
                node[name] = value.ToLowerInvariant() switch
                {
                    "true" or "on" or "yes" => true,
                    "false" or "off" or "no" => false,
                    _ => throw new CliException($"limit {name} is on or off, not '{value}'"),
                };
                continue;
            }

            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                throw new CliException($"limit {name} takes a whole number, not '{value}'");
            }

            node[name] = number;
        }

        return System.Text.Json.JsonSerializer.Deserialize<ConnectionLimits>(node.ToJsonString(), AdminClient.JsonOptions)!;
    }

    public static Binding ParseBinding(string text)
    {
        var tls = text.EndsWith("/tls", StringComparison.OrdinalIgnoreCase);
        var hostPort = tls ? text[..^4] : text;
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new CliException($"binding '{text}' is not ADDRESS:PORT[/tls]");
        }

        return new Binding(hostPort[..colon].Trim('[', ']'), port, tls ? BindingMode.ImplicitTls : BindingMode.StartTls);
    }

    private static Command StartStop(string verb, bool enabled)
    {
        var name = new Argument<string>("virtual-server");
        var command = new Command(verb, enabled ? "Start a virtual server (bind its listeners)" : "Stop a virtual server (close its listeners)") { name };
        command.SetAdminAction(async (parse, client, ct) =>
        {
            var changed = await client.PatchAsync<VirtualServerView>("virtual-servers/" + AdminClient.Escape(parse.GetValue(name)!), new ChangeVirtualServerRequest(Enabled: enabled), ct);
            CliSupport.Print(parse, changed, v => [[$"{v.Name} {(v.Enabled ? "started" : "stopped")}"]]);
        });
        return command;
    }

    private static Command CreateCommand()
    {
        var name = new Option<string>("--name") { Required = true, Description = "e.g. \"Client Submission 2\"" };
        var protocol = new Option<ServiceProtocol>("--protocol") { Required = true, Description = "smtp|pop3|imap|nntp" };
        var bind = new Option<string[]>("--bind") { Required = true, AllowMultipleArgumentsPerToken = true, Description = "ADDRESS:PORT[/tls] (standard ports; --port-offset of serve applies)" };
        var secure = new Option<bool>("--require-secure-channel");
        var strong = new Option<bool>("--require-128bit");
        var auth = new Option<bool>("--require-auth");
        var command = new Command("create", "Create another virtual server, e.g. a second NNTP server for encrypted, authenticated use") { name, protocol, bind, secure, strong, auth };
        command.SetAdminAction(async (parse, client, ct) =>
        {
            var request = new CreateVirtualServerRequest(parse.GetValue(name)!, parse.GetValue(protocol), parse.GetValue(bind)!.Select(ParseBinding).ToList(), parse.GetValue(secure), parse.GetValue(strong), parse.GetValue(auth));
            var created = await client.PostAsync<VirtualServerView>("virtual-servers", request, ct);
            CliSupport.Print(parse, created, v => [[$"created {v.Name} ({v.Id}) on {string.Join(" ", v.Bindings.Select(b => $"{b.Address}:{b.Port}"))}"]]);
            RefuseBindingsDown(created);
        });
        return command;
    }

    private static Command DeleteCommand()
    {
        var name = new Argument<string>("virtual-server");
        var command = new Command("delete", "Delete a virtual server") { name };
        command.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("virtual-servers/" + AdminClient.Escape(parse.GetValue(name)!), ct);
            CliSupport.Print(parse, new { deleted = parse.GetValue(name) }, r => [[$"deleted {r.deleted}"]]);
        });
        return command;
    }
}
