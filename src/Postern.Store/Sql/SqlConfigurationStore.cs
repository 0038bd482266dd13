using System.Data.Common;
using System.Text.Json;

namespace Postern.Store.Sql;

internal sealed class SqlConfigurationStore(IDatabase database) : IConfigurationStore
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public Task<IReadOnlyList<VirtualServer>> ListVirtualServersAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<VirtualServer>>(c => c.CreateCommand("SELECT id, definition FROM virtual_servers ORDER BY protocol, id").Query(Map), cancellationToken);

    public Task<VirtualServer?> GetVirtualServerAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT id, definition FROM virtual_servers WHERE id = @id", ("@id", id)).QuerySingle(Map), cancellationToken);

    public Task<VirtualServer?> FindVirtualServerAsync(string name, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT id, definition FROM virtual_servers WHERE name = @n ORDER BY id LIMIT 1", ("@n", name)).QuerySingle(Map), cancellationToken);

    public Task<StoreResult<VirtualServer>> SaveVirtualServerAsync(VirtualServer virtualServer, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var clash = w.Command("SELECT id FROM virtual_servers WHERE server_name = @s AND name = @n AND id <> @id",
                ("@s", virtualServer.ServerName), ("@n", virtualServer.Name), ("@id", virtualServer.Id)).Scalar<long?>();
            if (clash is not null)
            {
                return StoreResult<VirtualServer>.Fail(StoreStatus.AlreadyExists, "a virtual server with that name exists");
            }

            var saved = virtualServer;
            if (virtualServer.Id == 0)
            {
                var id = w.Command("INSERT INTO virtual_servers (server_name, name, protocol, enabled, definition) VALUES (@s, @n, @p, @e, '{}') RETURNING id",
                    ("@s", virtualServer.ServerName), ("@n", virtualServer.Name), ("@p", virtualServer.Protocol.ToString()), ("@e", virtualServer.Enabled ? 1 : 0)).Scalar<long>();
                saved = virtualServer with { Id = id };
            }

            var changed = w.Command("UPDATE virtual_servers SET server_name = @s, name = @n, protocol = @p, enabled = @e, definition = @d WHERE id = @id",
                ("@s", saved.ServerName), ("@n", saved.Name), ("@p", saved.Protocol.ToString()), ("@e", saved.Enabled ? 1 : 0),
                ("@d", JsonSerializer.Serialize(saved, JsonOptions)), ("@id", saved.Id)).Execute();
            if (changed == 0)
            {
                return StoreResult<VirtualServer>.Fail(StoreStatus.NotFound, "no such virtual server");
            }

            ConfigurationVersion.Bump(w);
            return StoreResult<VirtualServer>.Ok(saved);
        }, cancellationToken);

    public Task<bool> DeleteVirtualServerAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            var deleted = w.Command("DELETE FROM virtual_servers WHERE id = @id", ("@id", id)).Execute() > 0;
            ConfigurationVersion.Bump(w);
            return deleted;
        }, cancellationToken);

    public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT value FROM settings WHERE key = @k", ("@k", key)).Scalar<string>(), cancellationToken);

    public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken) =>
        database.WriteAsync(w =>
        {
            w.Command("INSERT INTO settings (key, value) VALUES (@k, @v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", ("@k", key), ("@v", value)).Execute();
            ConfigurationVersion.Bump(w);
            return true;
        }, cancellationToken);

    public Task<long> GetVersionAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT value FROM counters WHERE name = 'config_version'").Scalar<long>(), cancellationToken);


    private static VirtualServer Map(DbDataReader r) =>
        (JsonSerializer.Deserialize<VirtualServer>(r.GetString(1), JsonOptions) ?? throw new InvalidDataException("bad virtual server row")) with { Id = r.GetInt64(0) };
}
