using Postern.Host.Serve;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Host.Admin;

internal static class VirtualServerEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var configuration = server.Store.Configuration;

        api.MapGet("/virtual-servers", async (CancellationToken ct) =>
        {
            var servers = await configuration.ListVirtualServersAsync(ct);
            return Results.Ok(servers.Select(s => VirtualServerView.From(s, server.ListenerStatus, server.Context.PortOffset)));
        });

        api.MapGet("/virtual-servers/{name}", async (string name, CancellationToken ct) =>
            await FindAsync(configuration, name, ct) is { } vs
                ? Results.Ok(VirtualServerView.From(vs, server.ListenerStatus, server.Context.PortOffset))
                : AdminApi.NotFound($"no such virtual server: {name}"));

        api.MapPost("/virtual-servers", async (CreateVirtualServerRequest request, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(request.Name) || request.Bindings is not { Count: > 0 })
            {
                return AdminApi.Error("a virtual server needs a name and at least one binding");
            }

            if (NameError(request.Name.Trim()) is { } nameError)
            {
                return AdminApi.Error(nameError);
            }

            var bindingError = ValidateBindings(request.Bindings, server.Context.PortOffset);
            if (bindingError is not null)
            {
                return AdminApi.Error(bindingError);
            }

            if (request.Protocol == ServiceProtocol.Http)
            {
                return AdminApi.Error(HttpIsTheConsole + ": there is one HTTP virtual server; give it more bindings instead", StatusCodes.Status409Conflict);
            }

            if (await BindingConflictAsync(configuration, null, request.Bindings, server.Context.PortOffset, ct) is { } conflict)
            {
                return AdminApi.Error(conflict, StatusCodes.Status409Conflict);
            }

            // A new virtual server starts from its protocol's defaults (line limits, SASL mechanisms), then the request.
            var template = ProtocolModules.Defaults(server.HostName).FirstOrDefault(d => d.Protocol == request.Protocol);
            var created = new VirtualServer
            {
                Limits = template?.Limits ?? new ConnectionLimits(),
                AuthenticationMethods = template?.AuthenticationMethods ?? ["PLAIN", "LOGIN"],
                Settings = template?.Settings ?? new Dictionary<string, string>(),
                Name = request.Name.Trim(),
                Protocol = request.Protocol,
                ServerName = server.HostName,
                Bindings = request.Bindings,
                Security = new SecurityOptions
                {
                    RequireSecureChannel = request.RequireSecureChannel,
                    Require128BitEncryption = request.Require128BitEncryption,
                },
                RequireAuthentication = request.RequireAuthentication,
            };
            var saved = await configuration.SaveVirtualServerAsync(created, ct);
            if (!saved.IsOk)
            {
                return AdminApi.Error(saved.Message ?? "cannot save", StatusCodes.Status409Conflict);
            }

            await server.Certificates.AssignDefaultAsync(saved.Value!.Id, ct);
            await server.Host.ReloadAsync(ct);
            return Results.Ok(VirtualServerView.From(saved.Value!, server.ListenerStatus, server.Context.PortOffset));
        });

        api.MapPatch("/virtual-servers/{name}", async (string name, ChangeVirtualServerRequest request, CancellationToken ct) =>
        {
            var vs = await FindAsync(configuration, name, ct);
            if (vs is null)
            {
                return AdminApi.NotFound($"no such virtual server: {name}");
            }

            if (vs.Protocol == ServiceProtocol.Http && request.Enabled == false)
            {
                return AdminApi.Error(HttpIsTheConsole + ": it cannot be stopped while the server runs", StatusCodes.Status409Conflict);
            }

            if (request.MinimumTlsVersion is not null and not "1.2" and not "1.3")
            {
                return AdminApi.Error("minimum TLS version must be 1.2 or 1.3");
            }

            if (request.Limits is { } limits && LimitsError(limits) is { } limitsError)
            {
                return AdminApi.Error(limitsError);
            }

            if (request.Bindings is { Count: 0 })
            {
                return AdminApi.Error("a virtual server needs at least one binding");
            }

            if (request.Bindings is not null && ValidateBindings(request.Bindings, server.Context.PortOffset) is { } bindingError)
            {
                return AdminApi.Error(bindingError);
            }

            if (ListsError(request) is { } listError)
            {
                return AdminApi.Error(listError);
            }

            if (ProtocolOptionsError(vs, request) is { } optionError)
            {
                return AdminApi.Error(optionError);
            }

            if ((request.Enabled ?? vs.Enabled) && (request.Bindings is not null || request.Enabled == true)
                && await BindingConflictAsync(configuration, vs.Id, request.Bindings ?? vs.Bindings, server.Context.PortOffset, ct) is { } conflict)
            {
                return AdminApi.Error(conflict, StatusCodes.Status409Conflict);
            }

            var security = vs.Security with
            {
                RequireSecureChannel = request.RequireSecureChannel ?? vs.Security.RequireSecureChannel,
                AllowPlaintextAuthentication = request.AllowPlaintextAuthentication ?? vs.Security.AllowPlaintextAuthentication,
                Require128BitEncryption = request.Require128BitEncryption ?? vs.Security.Require128BitEncryption,
                MinimumTlsVersion = request.MinimumTlsVersion ?? vs.Security.MinimumTlsVersion,
                ClientCertificates = request.ClientCertificates ?? vs.Security.ClientCertificates,
            };
            var changed = vs with
            {
                Security = security,
                Enabled = request.Enabled ?? vs.Enabled,
                Bindings = request.Bindings ?? vs.Bindings,
                RequireAuthentication = request.RequireAuthentication ?? vs.RequireAuthentication,
                RelayAddresses = request.RelayAddresses ?? vs.RelayAddresses,
                AuthenticationMethods = request.AuthenticationMethods ?? vs.AuthenticationMethods,
                Limits = request.Limits ?? vs.Limits,
                Settings = request.Settings ?? vs.Settings,
            };
            var saved = await configuration.SaveVirtualServerAsync(changed, ct);
            if (!saved.IsOk)
            {
                return AdminApi.Error(saved.Message ?? "cannot save");
            }

            // Applies to new connections at once; sessions in progress keep the snapshot they started with.
            await server.Host.ReloadAsync(ct);
            return Results.Ok(VirtualServerView.From(saved.Value!, server.ListenerStatus, server.Context.PortOffset));
        });

        api.MapDelete("/virtual-servers/{name}", async (string name, CancellationToken ct) =>
        {
            var vs = await FindAsync(configuration, name, ct);
            if (vs is null)
            {
                return AdminApi.NotFound($"no such virtual server: {name}");
            }

            if (vs.Protocol == ServiceProtocol.Http)
            {
                return AdminApi.Error(HttpIsTheConsole + ": it cannot be deleted", StatusCodes.Status409Conflict);
            }

            await configuration.DeleteVirtualServerAsync(vs.Id, ct);
            await server.Host.ReloadAsync(ct);
            return Results.NoContent();
        });
    }

    public static async Task<VirtualServer?> FindAsync(IConfigurationStore configuration, string nameOrId, CancellationToken ct) =>
        long.TryParse(nameOrId, out var id)
            ? await configuration.GetVirtualServerAsync(id, ct)
            : await configuration.FindVirtualServerAsync(nameOrId, ct);

    /// <summary>
    /// A name every verb can give back: a number would be taken as an id (<see cref="FindAsync"/>), and a control
    /// character (a line break) would split the listings and the log lines that name it.
    /// </summary>
    private static string? NameError(string name) =>
        name.Length > MaxNameLength || name.Any(char.IsControl) ? $"a virtual server name has at most {MaxNameLength} characters and no control characters"
        : name.All(char.IsAsciiDigit) ? "a virtual server name cannot be a number: numbers name virtual servers by id"
        : null;

    private const int MaxNameLength = 128;

    // The admin API and the web console are served by the HTTP virtual server itself (Kestrel, started with the process).
    private const string HttpIsTheConsole = "the HTTP virtual server carries the admin API and the console";

    /// <summary>
    /// Relay addresses and SASL mechanisms are read by every new session: a null entry there failed each one, and an
    /// entry that is no address or range was silently ignored (relay the administrator meant to allow, denied).
    /// </summary>
    private static string? ListsError(ChangeVirtualServerRequest request)
    {
        foreach (var entry in request.RelayAddresses ?? [])
        {
            if (entry is null || !(System.Net.IPNetwork.TryParse(entry.Trim(), out _) || System.Net.IPAddress.TryParse(entry.Trim(), out _)))
            {
                return $"relay address '{entry}' is not an IP address or a CIDR range (like 192.0.2.0/24)";
            }
        }

        // RFC 4422 §3.1: a mechanism name is 1 to 20 letters (upper-case; sessions compare ignoring case), digits, hyphens and underscores.
        foreach (var mechanism in request.AuthenticationMethods ?? [])
        {
            if (mechanism is null || mechanism.Length is 0 or > 20 || !mechanism.All(c => char.IsAsciiLetter(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
            {
                return $"'{mechanism}' is not a SASL mechanism name (like PLAIN)";
            }
        }

        return null;
    }

    private static string? LimitsError(ConnectionLimits limits) =>
        limits.MaxConnections < 1 || limits.MaxConnectionsPerAddress < 1 || limits.MaxLineLength < 64 || limits.IdleTimeoutSeconds < 1
            || limits.AuthenticatedIdleTimeoutSeconds < 1 || limits.TlsHandshakeTimeoutSeconds < 1 || limits.MaxBadCommands < 1
            || limits.MaxMessageSize < 1024 || limits.MaxRecipients < 1 || limits.MaxAuthFailures < 1
            ? "limits must be positive (line length at least 64, message size at least 1024)"
            : null;

    /// <summary>An option that the virtual server's protocol has no use for, or a setting it would not understand.</summary>
    private static string? ProtocolOptionsError(VirtualServer vs, ChangeVirtualServerRequest request)
    {
        if (request.RequireAuthentication is not null && request.RequireAuthentication != vs.RequireAuthentication && vs.Protocol is not (ServiceProtocol.Smtp or ServiceProtocol.Nntp))
        {
            return $"requiring authentication applies to SMTP and NNTP virtual servers; {Postern.Server.Connections.VirtualServerSettings.Article(vs.Protocol)} virtual server always requires a logon";
        }

        if (request.RelayAddresses is { Count: > 0 } && vs.Protocol != ServiceProtocol.Smtp)
        {
            return "relay addresses apply to SMTP virtual servers only";
        }

        foreach (var (key, value) in request.Settings ?? new Dictionary<string, string>())
        {
            // Only what changes is checked: a value stored by an earlier version must not block every other change.
            if ((!vs.Settings.TryGetValue(key, out var current) || current != value)
                && Postern.Server.Connections.VirtualServerSettings.Refusal(vs.Protocol, key, value) is { } refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    /// <summary>
    /// Another running virtual server that already holds one of these address:port pairs: as in Exchange, two virtual
    /// servers never share a binding, since the second could only fail to listen (port 0, a port of its own, never clashes).
    /// </summary>
    private static async Task<string?> BindingConflictAsync(IConfigurationStore configuration, long? self, IReadOnlyList<Binding> bindings, int portOffset, CancellationToken ct)
    {
        foreach (var other in await configuration.ListVirtualServersAsync(ct))
        {
            if (other.Id == self || !other.Enabled)
            {
                continue;
            }

            foreach (var wanted in bindings)
            {
                if (wanted.Port != 0 && other.Bindings.FirstOrDefault(b => b.Port == wanted.Port && AddressesOverlap(b.Address, wanted.Address)) is { } held)
                {
                    return $"{held.Address}:{held.Port} (port {held.Port + portOffset} with the port offset) is already bound by \"{other.Name}\"";
                }
            }
        }

        return null;
    }

    private static bool AddressesOverlap(string a, string b)
    {
        static string Canonical(string address) => address switch
        {
            "*" or "::" or "0.0.0.0" or "[::]" => "*",
            "localhost" => "127.0.0.1",
            _ => System.Net.IPAddress.TryParse(address, out var ip) ? ip.ToString() : address,
        };

        var (x, y) = (Canonical(a), Canonical(b));
        return x == "*" || y == "*" || string.Equals(x, y, StringComparison.OrdinalIgnoreCase);
    }

    private static string? ValidateBindings(IReadOnlyList<Binding> bindings, int portOffset)
    {
        foreach (var binding in bindings)
        {
            if (binding is null)
            {
                return "a binding is empty";
            }

            if (binding.Port is < 0 or > 65535)
            {
                return $"port {binding.Port} is out of range";
            }

            // The listener binds the port plus serve's --port-offset; past 65535 it could never listen.
            if (binding.Port != 0 && binding.Port + portOffset > 65535)
            {
                return $"port {binding.Port} with the port offset {portOffset} is {binding.Port + portOffset}, out of range";
            }

            if (binding.Address is not ("*" or "::" or "localhost") && !System.Net.IPAddress.TryParse(binding.Address, out _))
            {
                return $"'{binding.Address}' is not an IP address";
            }
        }

        // Within one virtual server too, an address and port can be bound once: the second could only fail to listen.
        for (var i = 0; i < bindings.Count; i++)
        {
            for (var j = i + 1; j < bindings.Count; j++)
            {
                if (bindings[i].Port != 0 && bindings[i].Port == bindings[j].Port && AddressesOverlap(bindings[i].Address, bindings[j].Address))
                {
                    return $"{bindings[j].Address}:{bindings[j].Port} is given twice (also as {bindings[i].Address}:{bindings[i].Port})";
                }
            }
        }

        return null;
    }
}

internal sealed record CreateVirtualServerRequest(
    string Name,
    ServiceProtocol Protocol,
    IReadOnlyList<Binding> Bindings,
    bool RequireSecureChannel = false,
    bool Require128BitEncryption = false,
    bool RequireAuthentication = false);

internal sealed record ChangeVirtualServerRequest(
    bool? RequireSecureChannel = null,
    bool? AllowPlaintextAuthentication = null,
    bool? Require128BitEncryption = null,
    string? MinimumTlsVersion = null,
    ClientCertificateMode? ClientCertificates = null,
    bool? Enabled = null,
    IReadOnlyList<Binding>? Bindings = null,
    bool? RequireAuthentication = null,
    IReadOnlyList<string>? RelayAddresses = null,
    IReadOnlyList<string>? AuthenticationMethods = null,
    ConnectionLimits? Limits = null,
    IReadOnlyDictionary<string, string>? Settings = null);

internal sealed record BindingView(string Address, int ConfiguredPort, int Port, BindingMode Mode, bool Listening, string? Error);

internal sealed record VirtualServerView(
    long Id,
    string Name,
    ServiceProtocol Protocol,
    string Server,
    bool Enabled,
    IReadOnlyList<BindingView> Bindings,
    SecurityOptions Security,
    bool RequireAuthentication,
    IReadOnlyList<string> AuthenticationMethods,
    IReadOnlyList<string> RelayAddresses,
    ConnectionLimits Limits,
    IReadOnlyDictionary<string, string> Settings)
{
    public static VirtualServerView From(VirtualServer vs, IReadOnlyList<ListenerStatus> status, int portOffset) => new(
        vs.Id,
        vs.Name,
        vs.Protocol,
        vs.ServerName,
        vs.Enabled,
        vs.Bindings.Select(b =>
        {
            var effective = b.Port == 0 ? 0 : b.Port + portOffset;
            var listener = status.FirstOrDefault(s => s.VirtualServerId == vs.Id && s.Address == b.Address && s.Mode == b.Mode && (effective == 0 || s.Port == effective));
            return new BindingView(b.Address, b.Port, listener?.Port ?? effective, b.Mode, listener?.Listening ?? false, listener?.Error);
        }).ToList(),
        vs.Security,
        vs.RequireAuthentication,
        vs.AuthenticationMethods,
        vs.RelayAddresses,
        vs.Limits,
        vs.Settings);
}
