using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;

namespace Postern.Store.Sql;

internal sealed class SqlDirectoryStore(IDatabase database, StoreOptions options) : IDirectoryStore
{
    private const string AccountColumns = "id, address, display_name, enabled, quota_bytes, created";

    // Like Dovecot's auth cache: a successful verification is remembered as a keyed MAC of
    // (stored hash, password), so repeated logins skip the deliberately slow PBKDF2 while a
    // password change (new stored hash) invalidates the entry. The key never leaves this process.
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _verified = new(StringComparer.Ordinal);
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(10);
    private const int MaxCacheEntries = 100_000;

    // A hash of a random password, verified when the account is unknown, so both paths cost the same.
    private readonly Lazy<string> _decoyHash = new(() => PasswordHasher.Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)), options.PasswordIterations));

    public Task<Domain> AddDomainAsync(string name, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            w.Command("INSERT INTO domains (name) VALUES (@n) ON CONFLICT(name) DO NOTHING", ("@n", name.ToLowerInvariant())).Execute();
            return w.Command("SELECT id, name FROM domains WHERE name = @n", ("@n", name)).QuerySingle(r => new Domain(r.GetInt64(0), r.GetString(1)))!;
        }, cancellationToken);

    public Task<bool> RemoveDomainAsync(string name, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("DELETE FROM domains WHERE name = @n", ("@n", name)).Execute() > 0, cancellationToken);

    public Task<IReadOnlyList<Domain>> ListDomainsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Domain>>(c => c.CreateCommand("SELECT id, name FROM domains ORDER BY name").Query(r => new Domain(r.GetInt64(0), r.GetString(1))), cancellationToken);

    public Task<bool> IsLocalDomainAsync(string name, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM domains WHERE name = @n", ("@n", name)).Scalar<long>() > 0, cancellationToken);

    public async Task<StoreResult<Account>> AddAccountAsync(string address, string password, CancellationToken cancellationToken)
    {
        if (!AddressSyntax.IsValidMailbox(address))
        {
            return StoreResult<Account>.Fail(StoreStatus.Invalid, "not a valid address: " + address);
        }

        var domain = address[(address.LastIndexOf('@') + 1)..];
        var hash = PasswordHasher.Hash(password, options.PasswordIterations);
        return await database.WriteAsync(w =>
        {
            if (w.Command("SELECT COUNT(*) FROM accounts WHERE address = @a", ("@a", address)).Scalar<long>() > 0)
            {
                return StoreResult<Account>.Fail(StoreStatus.AlreadyExists, "account exists: " + address);
            }

            w.Command("INSERT INTO domains (name) VALUES (@n) ON CONFLICT(name) DO NOTHING", ("@n", domain.ToLowerInvariant())).Execute();
            var id = w.Command(
                "INSERT INTO accounts (id, address, password_hash, enabled, quota_bytes, created) VALUES (" + w.Dialect.NewId("accounts") + ", @a, @h, 1, 0, @c) RETURNING id",
                ("@a", address), ("@h", hash), ("@c", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).Scalar<long>();
            SqlMailStore.CreateDefaultMailboxes(w, id);
            return StoreResult<Account>.Ok(w.Command($"SELECT {AccountColumns} FROM accounts WHERE id = @id", ("@id", id)).QuerySingle(MapAccount)!);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> SetPasswordAsync(string address, string password, CancellationToken cancellationToken)
    {
        var hash = PasswordHasher.Hash(password, options.PasswordIterations);
        return await database.WriteAsync(w => w.Command("UPDATE accounts SET password_hash = @h WHERE address = @a", ("@h", hash), ("@a", address)).Execute() > 0, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> RemoveAccountAsync(string address, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var id = w.Command("SELECT id FROM accounts WHERE address = @a", ("@a", address)).Scalar<long?>();
            if (id is null)
            {
                return false;
            }

            var blobs = w.Command("SELECT DISTINCT m.blob_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = @id", ("@id", id)).Query(r => r.GetInt64(0));
            w.Command("DELETE FROM accounts WHERE id = @id", ("@id", id)).Execute();
            BlobCollector.DeleteUnreferenced(w, blobs);

            // RFC 5321 §4.5.1: postmaster mail must still be delivered. Removing its account hands it to the oldest
            // account left, or, with none left, to the next account added.
            var postmaster = w.Command("SELECT value FROM settings WHERE key = @k", ("@k", SettingKeys.Postmaster)).Scalar<string>();
            if (postmaster is not null && postmaster.Equals(address, StringComparison.OrdinalIgnoreCase))
            {
                var next = w.Command("SELECT address FROM accounts ORDER BY id LIMIT 1").Scalar<string>();
                if (next is null)
                {
                    w.Command("DELETE FROM settings WHERE key = @k", ("@k", SettingKeys.Postmaster)).Execute();
                }
                else
                {
                    w.Command("UPDATE settings SET value = @v WHERE key = @k", ("@v", next), ("@k", SettingKeys.Postmaster)).Execute();
                }
            }

            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Account>>(c => c.CreateCommand($"SELECT {AccountColumns} FROM accounts ORDER BY address").Query(MapAccount), cancellationToken);

    public Task<Account?> FindAccountAsync(string address, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {AccountColumns} FROM accounts WHERE address = @a", ("@a", address)).QuerySingle(MapAccount), cancellationToken);

    public Task<Account?> FindAccountByIdAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {AccountColumns} FROM accounts WHERE id = @id", ("@id", id)).QuerySingle(MapAccount), cancellationToken);

    public async Task<Account?> AuthenticateAsync(string address, string password, CancellationToken cancellationToken)
    {
        var row = await database.ReadAsync(c => c.CreateCommand($"SELECT {AccountColumns}, password_hash FROM accounts WHERE address = @a", ("@a", address))
            .Query(r => (Account: MapAccount(r), Hash: r.GetString(6))).FirstOrDefault(), cancellationToken).ConfigureAwait(false);

        if (row.Account is null)
        {
            // The same hash as for a real account, so that timing does not tell which addresses exist; on the pool, as
            // every hash is, never on a socket's event thread.
            await Task.Run(() => PasswordHasher.Verify(password, _decoyHash.Value), cancellationToken).ConfigureAwait(false);
            return null;
        }

        var (account, hash) = row;
        var cacheKey = CacheKey(hash, password);
        var ok = _verified.TryGetValue(cacheKey, out var expires) && expires > DateTimeOffset.UtcNow;
        if (!ok)
        {
            ok = await Task.Run(() => PasswordHasher.Verify(password, hash), cancellationToken).ConfigureAwait(false);
            if (ok)
            {
                if (_verified.Count >= MaxCacheEntries)
                {
                    _verified.Clear();
                }

                _verified[cacheKey] = DateTimeOffset.UtcNow + CacheLifetime;
            }
        }

        return ok && account.Enabled ? account : null;
    }

    public async Task<Account?> ResolveRecipientAsync(string address, CancellationToken cancellationToken)
    {
        for (var hop = 0; hop < 8; hop++)
        {
            var account = await FindAccountAsync(address, cancellationToken).ConfigureAwait(false);
            if (account is not null)
            {
                return account;
            }

            var target = await database.ReadAsync(c => c.CreateCommand("SELECT target FROM aliases WHERE alias = @a", ("@a", address)).Scalar<string>(), cancellationToken).ConfigureAwait(false);
            if (target is null)
            {
                // RFC 5321 §4.5.1: postmaster is always accepted, case-insensitively, for every local domain.
                var at = address.LastIndexOf('@');
                if (at > 0 && address[..at].Equals("postmaster", StringComparison.OrdinalIgnoreCase))
                {
                    target = await database.ReadAsync(c => c.CreateCommand("SELECT value FROM settings WHERE key = @k", ("@k", SettingKeys.Postmaster)).Scalar<string>(), cancellationToken).ConfigureAwait(false);
                    if (target is null || target.Equals(address, StringComparison.OrdinalIgnoreCase))
                    {
                        return null;
                    }

                    address = target;
                    continue;
                }

                return null;
            }

            address = target;
        }

        return null;
    }

    public Task AddAliasAsync(string alias, string target, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("INSERT INTO aliases (alias, target) VALUES (@a, @t) ON CONFLICT(alias) DO UPDATE SET target = excluded.target", ("@a", alias), ("@t", target)).Execute(), cancellationToken);

    public Task<IReadOnlyList<MailAlias>> ListAliasesAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<MailAlias>>(c => c.CreateCommand("SELECT alias, target FROM aliases ORDER BY alias").Query(r => new MailAlias(r.GetString(0), r.GetString(1))), cancellationToken);

    public Task<bool> RemoveAliasAsync(string alias, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("DELETE FROM aliases WHERE alias = @a", ("@a", alias)).Execute() > 0, cancellationToken);

    public Task<bool> SetQuotaAsync(string address, long quotaBytes, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("UPDATE accounts SET quota_bytes = @q WHERE address = @a", ("@q", Math.Max(0, quotaBytes)), ("@a", address)).Execute() > 0, cancellationToken);

    public Task<bool> SetEnabledAsync(string address, bool enabled, CancellationToken cancellationToken) =>
        database.WriteAsync(w => w.Command("UPDATE accounts SET enabled = @e WHERE address = @a", ("@e", enabled ? 1L : 0L), ("@a", address)).Execute() > 0, cancellationToken);

    private string CacheKey(string hash, string password)
    {
        var bytes = Encoding.UTF8.GetBytes(hash + "\0" + password);
        return Convert.ToBase64String(HMACSHA256.HashData(_cacheKey, bytes));
    }

    private static Account MapAccount(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetNullableString(2), r.GetInt64(3) != 0, r.GetInt64(4), r.GetUnixMilliseconds(5));
}
