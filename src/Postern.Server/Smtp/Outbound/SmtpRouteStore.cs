using Postern.Store;

namespace Postern.Server.Smtp.Outbound;

/// <summary>How an outbound connection uses TLS.</summary>
public enum SmtpRouteTls
{
    /// <summary>STARTTLS when offered, certificate not checked (RFC 7435 opportunistic security).</summary>
    Opportunistic = 0,

    /// <summary>STARTTLS must succeed; with Verify, the certificate must chain to a trusted root and match the host.</summary>
    Required = 1,

    /// <summary>Clear text only.</summary>
    None = 2,
}

/// <summary>A per-domain route (the article's SMTP connector); Domain "*" is the smart host for every other domain.</summary>
public sealed record SmtpRoute(string Domain, string Host, int Port = 25, SmtpRouteTls Tls = SmtpRouteTls.Opportunistic, bool Verify = false, string? Username = null, string? Password = null)
{
    public const string AnyDomain = "*";
}

/// <summary>The smtp_routes table; the admin API's list/add/remove for routes.</summary>
public sealed class SmtpRouteStore(IDatabase database)
{
    public Task<IReadOnlyList<SmtpRoute>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<SmtpRoute>>(c => c.CreateCommand("SELECT domain, host, port, tls_mode, verify, username, password FROM smtp_routes ORDER BY domain").Query(Map), cancellationToken);

    /// <summary>The route for a domain: its own, else the "*" smart host, else null (deliver by MX).</summary>
    public Task<SmtpRoute?> FindAsync(string domain, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
            c.CreateCommand("SELECT domain, host, port, tls_mode, verify, username, password FROM smtp_routes WHERE domain = @d COLLATE NOCASE OR domain = '*' ORDER BY domain = '*' LIMIT 1", ("@d", domain)).QuerySingle(Map),
            cancellationToken);

    /// <summary>Adds or replaces the route for a domain.</summary>
    public Task<StoreResult<SmtpRoute>> SetAsync(SmtpRoute route, CancellationToken cancellationToken)
    {
        var domain = route.Domain.Trim().TrimEnd('.').ToLowerInvariant();
        if (domain != SmtpRoute.AnyDomain && !AddressSyntax.IsValidDomain(domain))
        {
            return Task.FromResult(StoreResult<SmtpRoute>.Fail(StoreStatus.Invalid, "invalid domain"));
        }

        if (string.IsNullOrWhiteSpace(route.Host) || route.Port is < 1 or > 65535)
        {
            return Task.FromResult(StoreResult<SmtpRoute>.Fail(StoreStatus.Invalid, "invalid host or port"));
        }

        var saved = route with { Domain = domain, Host = route.Host.Trim() };
        return database.WriteAsync(w =>
        {
            w.Command(
                "INSERT INTO smtp_routes (domain, host, port, tls_mode, verify, username, password) VALUES (@d, @h, @p, @t, @v, @u, @w) " +
                "ON CONFLICT (domain) DO UPDATE SET host = excluded.host, port = excluded.port, tls_mode = excluded.tls_mode, verify = excluded.verify, username = excluded.username, password = excluded.password",
                ("@d", saved.Domain), ("@h", saved.Host), ("@p", saved.Port), ("@t", TlsName(saved.Tls)), ("@v", saved.Verify ? 1 : 0), ("@u", saved.Username), ("@w", saved.Password)).Execute();
            return StoreResult<SmtpRoute>.Ok(saved);
        }, cancellationToken);
    }

    public Task<bool> RemoveAsync(string domain, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("DELETE FROM smtp_routes WHERE domain = @d COLLATE NOCASE", ("@d", domain.Trim().TrimEnd('.'))).Execute() > 0, cancellationToken);

    public static string TlsName(SmtpRouteTls tls) => tls switch
    {
        SmtpRouteTls.Required => "required",
        SmtpRouteTls.None => "none",
        _ => "opportunistic",
    };

    public static bool TryParseTls(string text, out SmtpRouteTls tls)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "opportunistic":
                tls = SmtpRouteTls.Opportunistic;
                return true;
            case "required":
                tls = SmtpRouteTls.Required;
                return true;
            case "none":
                tls = SmtpRouteTls.None;
                return true;
            default:
                tls = SmtpRouteTls.Opportunistic;
                return false;
        }
    }

    private static SmtpRoute Map(System.Data.Common.DbDataReader r)
    {
        var tls = TryParseTls(r.GetString(3), out var parsed) ? parsed : SmtpRouteTls.Opportunistic;
        return new SmtpRoute(r.GetString(0), r.GetString(1), (int)r.GetInt64(2), tls, r.GetInt64(4) != 0, r.GetNullableString(5), r.GetNullableString(6));
    }
}
