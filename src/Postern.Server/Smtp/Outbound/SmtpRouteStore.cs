using Postern.Pki;
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

/// <summary>
/// The smtp_routes table; the admin API's list/add/remove for routes. A route's password is kept encrypted
/// with the PKI's key-encryption key (a copied database alone does not reveal it).
/// </summary>
public sealed class SmtpRouteStore
{
    private const string Columns = "domain, host, port, tls_mode, verify, username, password, password_sealed";
    private readonly IDatabase _database;
    private readonly SecretProtector _secrets;
    private volatile bool _legacySealed;

    public SmtpRouteStore(IPosternStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _database = store.Database;
        _secrets = new SecretProtector(store.Options.DataDirectory, "smtp_routes.password");
    }

    public async Task<IReadOnlyList<SmtpRoute>> ListAsync(CancellationToken cancellationToken)
    {
        await SealLegacyPasswordsAsync(cancellationToken).ConfigureAwait(false);
        return await _database.ReadAsync<IReadOnlyList<SmtpRoute>>(c => c.CreateCommand($"SELECT {Columns} FROM smtp_routes ORDER BY domain").Query(Map), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The route for a domain: its own, else the "*" smart host, else null (deliver by MX).</summary>
    public async Task<SmtpRoute?> FindAsync(string domain, CancellationToken cancellationToken)
    {
        await SealLegacyPasswordsAsync(cancellationToken).ConfigureAwait(false);
        return await _database.ReadAsync(c =>
            c.CreateCommand($"SELECT {Columns} FROM smtp_routes WHERE domain = @d COLLATE NOCASE OR domain = '*' ORDER BY domain = '*' LIMIT 1", ("@d", domain)).QuerySingle(Map),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds or replaces the route for a domain.</summary>
    public async Task<StoreResult<SmtpRoute>> SetAsync(SmtpRoute route, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(route);
        var domain = route.Domain.Trim().TrimEnd('.').ToLowerInvariant();
        if (domain != SmtpRoute.AnyDomain && !AddressSyntax.IsValidDomain(domain))
        {
            return StoreResult<SmtpRoute>.Fail(StoreStatus.Invalid, "invalid domain");
        }

        var host = route.Host?.Trim().TrimEnd('.') ?? "";
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        // A next hop is a host name or an IP address; anything else (a stray port, a space) would only fail at delivery.
        if (!(AddressSyntax.IsValidDomain(host) || System.Net.IPAddress.TryParse(host, out _)))
        {
            return StoreResult<SmtpRoute>.Fail(StoreStatus.Invalid, $"'{route.Host}' is not a host name or an IP address");
        }

        if (route.Port is < 1 or > 65535)
        {
            return StoreResult<SmtpRoute>.Fail(StoreStatus.Invalid, "invalid host or port");
        }

        if (route.Verify && route.Tls != SmtpRouteTls.Required)
        {
            return StoreResult<SmtpRoute>.Fail(StoreStatus.Invalid, "verifying the peer's certificate needs TLS required (--tls required --verify)");
        }

        var saved = route with { Domain = domain, Host = host };
        var sealedPassword = saved.Password is null ? null : _secrets.Protect(saved.Password);
        return await _database.WriteAsync(w =>
        {
            w.Command(
                "INSERT INTO smtp_routes (domain, host, port, tls_mode, verify, username, password, password_sealed) VALUES (@d, @h, @p, @t, @v, @u, NULL, @w) " +
                "ON CONFLICT (domain) DO UPDATE SET host = excluded.host, port = excluded.port, tls_mode = excluded.tls_mode, verify = excluded.verify, username = excluded.username, password = NULL, password_sealed = excluded.password_sealed",
                ("@d", saved.Domain), ("@h", saved.Host), ("@p", saved.Port), ("@t", TlsName(saved.Tls)), ("@v", saved.Verify ? 1 : 0), ("@u", saved.Username), ("@w", sealedPassword)).Execute();
            return StoreResult<SmtpRoute>.Ok(saved);
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> RemoveAsync(string domain, CancellationToken cancellationToken) =>
        _database.WriteAsync(w => w.Command("DELETE FROM smtp_routes WHERE domain = @d COLLATE NOCASE", ("@d", domain.Trim().TrimEnd('.'))).Execute() > 0, cancellationToken);

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

    /// <summary>
    /// Routes saved before passwords were encrypted (smtp migration 003) still hold them in clear: seal them once.
    /// Until then they are read as they are, so an upgrade never loses a route's credentials.
    /// </summary>
    private async Task SealLegacyPasswordsAsync(CancellationToken cancellationToken)
    {
        if (_legacySealed)
        {
            return;
        }

        var clear = await _database.ReadAsync(c => c.CreateCommand("SELECT domain, password FROM smtp_routes WHERE password IS NOT NULL")
            .Query(r => (Domain: r.GetString(0), Password: r.GetString(1))), cancellationToken).ConfigureAwait(false);
        if (clear.Count > 0)
        {
            var sealedRows = clear.Select(row => (row.Domain, row.Password, Sealed: _secrets.Protect(row.Password))).ToList();
            await _database.WriteAsync(w =>
            {
                foreach (var (domain, password, sealedPassword) in sealedRows)
                {
                    // Only if unchanged meanwhile: a concurrent SetAsync already wrote a sealed value.
                    w.Command("UPDATE smtp_routes SET password_sealed = @s, password = NULL WHERE domain = @d AND password = @p",
                        ("@s", sealedPassword), ("@d", domain), ("@p", password)).Execute();
                }

                return sealedRows.Count;
            }, cancellationToken).ConfigureAwait(false);
        }

        _legacySealed = true;
    }

    private SmtpRoute Map(System.Data.Common.DbDataReader r)
    {
        var tls = TryParseTls(r.GetString(3), out var parsed) ? parsed : SmtpRouteTls.Opportunistic;
        var password = r.IsDBNull(7) ? r.GetNullableString(6) : _secrets.Unprotect((byte[])r.GetValue(7));
        return new SmtpRoute(r.GetString(0), r.GetString(1), (int)r.GetInt64(2), tls, r.GetInt64(4) != 0, r.GetNullableString(5), password);
    }
}
