using System.Text.Json.Serialization;

namespace Postern.Store;

/// <summary>The article's Protocols container; persisted by name.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ServiceProtocol>))]
public enum ServiceProtocol
{
    Smtp = 0,
    Pop3 = 1,
    Imap = 2,
    Nntp = 3,
    Http = 4,
}

[JsonConverter(typeof(JsonStringEnumConverter<BindingMode>))]
public enum BindingMode
{
    /// <summary>Clear text at connect, upgraded with the protocol's STARTTLS/STLS.</summary>
    StartTls = 0,

    /// <summary>TLS from the first byte (465, 993, 995, 563, 443).</summary>
    ImplicitTls = 1,
}

[JsonConverter(typeof(JsonStringEnumConverter<ClientCertificateMode>))]
public enum ClientCertificateMode
{
    Off = 0,
    Accepted = 1,
    Required = 2,
}

public sealed record Binding(string Address, int Port, BindingMode Mode);

/// <summary>The article's Access tab.</summary>
public sealed record SecurityOptions
{
    public bool RequireSecureChannel { get; init; }

    public bool Require128BitEncryption { get; init; }

    /// <summary>
    /// Whether a password may cross a connection that is not encrypted (LOGIN, AUTH, USER/PASS, AUTHINFO before
    /// STARTTLS). Off by default, also on loopback: no password is ever sent in clear text unless the administrator
    /// says so (Dovecot's disable_plaintext_auth, Postfix's smtpd_tls_auth_only). *Require secure channel* goes further
    /// and refuses mail and news transactions in clear text too.
    /// </summary>
    public bool AllowPlaintextAuthentication { get; init; }

    /// <summary>"1.2" or "1.3"; nothing below TLS 1.2 is ever offered.</summary>
    public string MinimumTlsVersion { get; init; } = "1.2";

    public ClientCertificateMode ClientCertificates { get; init; } = ClientCertificateMode.Accepted;
}

/// <summary>Per-virtual-server limits; every one configurable (docs/limits.md).</summary>
public sealed record ConnectionLimits
{
    public int MaxConnections { get; init; } = 2000;

    public int MaxConnectionsPerAddress { get; init; } = 50;

    /// <summary>
    /// Whether <see cref="MaxConnectionsPerAddress"/> also counts loopback clients. Off by default: a webmail, proxy or
    /// test tool on the server itself brings every user from 127.0.0.1 (Postfix exempts $mynetworks the same way);
    /// loopback clients still count against <see cref="MaxConnections"/>.
    /// </summary>
    public bool LimitLoopbackPerAddress { get; init; }

    public int MaxLineLength { get; init; } = 8192;

    public int IdleTimeoutSeconds { get; init; } = 300;

    public int AuthenticatedIdleTimeoutSeconds { get; init; } = 1800;

    public int TlsHandshakeTimeoutSeconds { get; init; } = 15;

    public int MaxBadCommands { get; init; } = 20;

    public long MaxMessageSize { get; init; } = 50L * 1024 * 1024;

    public int MaxRecipients { get; init; } = 1000;

    public int MaxAuthFailures { get; init; } = 3;
}

public sealed record VirtualServer
{
    public long Id { get; init; }

    public required string Name { get; init; }

    public required ServiceProtocol Protocol { get; init; }

    public string ServerName { get; init; } = "";

    public bool Enabled { get; init; } = true;

    public IReadOnlyList<Binding> Bindings { get; init; } = [];

    public SecurityOptions Security { get; init; } = new();

    public ConnectionLimits Limits { get; init; } = new();

    /// <summary>SASL mechanisms offered, e.g. PLAIN, LOGIN, EXTERNAL.</summary>
    public IReadOnlyList<string> AuthenticationMethods { get; init; } = ["PLAIN", "LOGIN"];

    /// <summary>SMTP: whether AUTH is required before MAIL (submission).</summary>
    public bool RequireAuthentication { get; init; }

    /// <summary>SMTP: client addresses or CIDR ranges allowed to relay without AUTH.</summary>
    public IReadOnlyList<string> RelayAddresses { get; init; } = [];

    /// <summary>Protocol-specific settings that have no column of their own.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

public interface IConfigurationStore
{
    Task<IReadOnlyList<VirtualServer>> ListVirtualServersAsync(CancellationToken cancellationToken);

    Task<VirtualServer?> GetVirtualServerAsync(long id, CancellationToken cancellationToken);

    /// <summary>Finds by exact name, case-insensitive.</summary>
    Task<VirtualServer?> FindVirtualServerAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts (Id 0) or replaces; names are unique per server.</summary>
    Task<StoreResult<VirtualServer>> SaveVirtualServerAsync(VirtualServer virtualServer, CancellationToken cancellationToken);

    Task<bool> DeleteVirtualServerAsync(long id, CancellationToken cancellationToken);

    Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken);

    Task SetSettingAsync(string key, string value, CancellationToken cancellationToken);

    /// <summary>Bumped on every configuration write, so other nodes and the listener host can notice.</summary>
    Task<long> GetVersionAsync(CancellationToken cancellationToken);
}

/// <summary>A NAME=NUMBER limit as an administrator gives it on the command line (`serve --pki-limit`, `--auth-limit`).</summary>
public static class NamedLimit
{
    /// <summary>The name and its value (0 to 1,000,000), or false when the pair is not NAME=NUMBER.</summary>
    public static bool TryParse(string pair, out string name, out int value)
    {
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        name = equals < 0 ? pair.Trim() : pair[..equals].Trim();
        value = 0;
        return equals > 0
            && int.TryParse(pair[(equals + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value)
            && value <= 1_000_000;
    }
}

/// <summary>Setting keys of the article's hierarchy: Organization → Administrative Group → Servers.</summary>
public static class SettingKeys
{
    public const string OrganizationName = "organization.name";
    public const string AdministrativeGroup = "organization.administrative-group";
    public const string HostName = "server.host-name";
    public const string Postmaster = "server.postmaster";
}
