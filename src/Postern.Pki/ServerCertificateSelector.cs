using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Postern.Pki;

/// <summary>One certificate a virtual server can present, ready for SslStream.</summary>
internal sealed record SelectorEntry(
    string Thumbprint,
    IReadOnlyList<string> DnsNames,
    SslStreamCertificateContext Context,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    bool IsDefault,
    bool Revoked = false);

/// <summary>
/// Answers SNI from an immutable snapshot (virtual server id → its certificates). A reload builds a whole new
/// snapshot off to the side and publishes it with one reference assignment, so a handshake sees either the
/// old set or the new one, never a half-made change.
/// </summary>
public sealed class ServerCertificateSelector : IServerCertificateSelector
{
    private readonly PkiRepository? _repository;
    private readonly KeyProtector? _keys;
    private readonly TimeProvider _clock;
    private readonly ILogger? _logger;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private IReadOnlyDictionary<long, SelectorEntry[]> _snapshot = new Dictionary<long, SelectorEntry[]>();

    internal ServerCertificateSelector(PkiRepository? repository, KeyProtector? keys, TimeProvider clock, ILogger? logger)
    {
        _repository = repository;
        _keys = keys;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>Bumped at every published snapshot.</summary>
    public long Generation { get; private set; }

    public SslStreamCertificateContext? Select(long virtualServerId, string? serverName)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (!snapshot.TryGetValue(virtualServerId, out var entries) || entries.Length == 0)
        {
            return null;
        }

        return Choose(entries, serverName, _clock.GetUtcNow())?.Context;
    }

    /// <summary>
    /// Ranks every candidate: valid now (and not revoked) beats expired, not yet valid or revoked, whatever the names say; then an exact SNI match
    /// beats a wildcard match, which beats no match; then the default; then the later expiry.
    /// </summary>
    internal static SelectorEntry? Choose(IReadOnlyList<SelectorEntry> entries, string? serverName, DateTimeOffset now)
    {
        var name = string.IsNullOrEmpty(serverName) ? null : serverName.TrimEnd('.');
        SelectorEntry? best = null;
        var bestScore = -1;
        foreach (var entry in entries)
        {
            var match = 0;
            if (name is not null)
            {
                foreach (var pattern in entry.DnsNames)
                {
                    if (CertificateFacts.NameMatches(pattern, name, out var exact))
                    {
                        match = Math.Max(match, exact ? 2 : 1);
                    }
                }
            }

            var valid = now >= entry.NotBefore && now <= entry.NotAfter && !entry.Revoked;
            var score = (valid ? 8 : 0) + (match * 2) + (entry.IsDefault ? 1 : 0);
            if (score > bestScore || (score == bestScore && entry.NotAfter > best!.NotAfter))
            {
                best = entry;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>Rebuilds the snapshot from the store and swaps it in; a certificate that cannot be loaded is skipped and logged.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        if (_repository is null || _keys is null)
        {
            return;
        }

        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            var assignments = await _repository.ListAssignmentsAsync(cancellationToken);
            var certificates = (await _repository.ListCertificatesAsync(cancellationToken)).ToDictionary(c => c.Id);
            var extra = IssuerCertificates(certificates.Values);
            var revoked = await _repository.ListRevokedThumbprintsAsync(cancellationToken);
            var contexts = new Dictionary<long, (SslStreamCertificateContext Context, StoredCertificate Row)?>();
            var next = new Dictionary<long, List<SelectorEntry>>();
            foreach (var assignment in assignments)
            {
                if (!contexts.TryGetValue(assignment.CertificateId, out var loaded))
                {
                    loaded = certificates.TryGetValue(assignment.CertificateId, out var row) ? TryLoad(row, extra) : null;
                    contexts[assignment.CertificateId] = loaded;
                }

                if (loaded is not { } ok)
                {
                    continue;
                }

                if (!next.TryGetValue(assignment.VirtualServerId, out var list))
                {
                    next[assignment.VirtualServerId] = list = [];
                }

                list.Add(new SelectorEntry(ok.Row.Thumbprint, [.. CertificateFacts.DnsNames(ok.Row.Sans)], ok.Context, ok.Row.NotBefore, ok.Row.NotAfter, assignment.IsDefault, revoked.Contains(ok.Row.Thumbprint)));
            }

            Publish(next.ToDictionary(p => p.Key, p => p.Value.ToArray()));
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    internal void Publish(IReadOnlyDictionary<long, SelectorEntry[]> snapshot)
    {
        Volatile.Write(ref _snapshot, snapshot);
        Generation++;
    }

    internal static X509Certificate2Collection IssuerCertificates(IEnumerable<StoredCertificate> certificates)
    {
        var collection = new X509Certificate2Collection();
        foreach (var row in certificates)
        {
            if (row.Kind is CertificateKind.Ca or CertificateKind.Intermediate or CertificateKind.TrustedRoot)
            {
                collection.Add(row.Load());
            }
        }

        return collection;
    }

    private (SslStreamCertificateContext, StoredCertificate)? TryLoad(StoredCertificate row, X509Certificate2Collection extra)
    {
        if (row.ProtectedKey is null)
        {
            _logger?.NoPrivateKey(row.Thumbprint, row.FriendlyName);
            return null;
        }

        try
        {
            using var certificate = row.Load();
            using var key = _keys!.UnprotectKey(row.ProtectedKey);
            return (CreateContext(certificate, key, extra), row);
        }
        catch (CryptographicException ex)
        {
            _logger?.CannotLoad(row.Thumbprint, row.FriendlyName, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// Joins certificate and key for SslStream, always through a PKCS#12 export and re-import: Windows SChannel cannot
    /// use an ephemeral CopyWithPrivateKey key, and older Linux runtimes could not either. (On .NET 10 with OpenSSL 3 the
    /// ephemeral pair was checked to work directly, for RSA and ECDSA; the round trip costs little and is portable.)
    /// </summary>
    internal static SslStreamCertificateContext CreateContext(X509Certificate2 certificate, AsymmetricAlgorithm key, X509Certificate2Collection issuers)
    {
        using var joined = KeyAlgorithms.Attach(certificate, key);
        var usable = X509CertificateLoader.LoadPkcs12(joined.Export(X509ContentType.Pkcs12), null);
        return SslStreamCertificateContext.Create(usable, issuers, offline: true);
    }
}
