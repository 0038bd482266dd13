using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MimeKit;
using MimeKit.Cryptography;
using Postern.Pki;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>A domain's DKIM key as the administrator publishes it.</summary>
/// <param name="PublicKey">Base64 of the SubjectPublicKeyInfo, the TXT record's p= tag (RFC 6376 §3.6.1).</param>
public sealed record DkimKeyInfo(string Domain, string Selector, string Algorithm, string PublicKey, DateTimeOffset Created)
{
    /// <summary>Where the public key is published: selector._domainkey.domain (RFC 6376 §3.6.2.1).</summary>
    public string DnsName => $"{Selector}._domainkey.{Domain}";

    public string DnsText => $"v=DKIM1; k=rsa; p={PublicKey}";
}

/// <summary>What DNS says about a domain's DKIM key.</summary>
/// <param name="Status">published, different, missing or dns-error.</param>
/// <param name="Found">The TXT record found, or the DNS error.</param>
public sealed record DkimPublication(string Domain, string DnsName, string Status, string? Found);

/// <summary>
/// DKIM signing (RFC 6376), as OpenDKIM does it for Postfix: one RSA key per mail domain; mail that an authenticated user
/// submits with a From address in that domain gets a DKIM-Signature (relaxed/relaxed, rsa-sha256), so receivers can tell
/// it really comes from the domain. Private keys are sealed with the PKI's master key, never stored in clear. The keys
/// are few and read again at most every 30 s, so a domain without DKIM costs a submission no database read.
/// </summary>
public sealed class DkimKeys
{
    private const string Purpose = "dkim_keys.private_key";
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    // RFC 6376 §5.4.1: From MUST be signed; these are the recommended others. Signing a header that is absent also
    // protects against its later addition.
    private static readonly HeaderId[] SignedHeaders =
    [
        HeaderId.From, HeaderId.Sender, HeaderId.ReplyTo, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.To, HeaderId.Cc,
        HeaderId.MimeVersion, HeaderId.ContentType, HeaderId.ContentTransferEncoding, HeaderId.InReplyTo, HeaderId.References,
    ];

    private readonly IPosternStore _store;
    private readonly SecretProtector _secrets;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile Snapshot? _snapshot;

    public DkimKeys(IPosternStore store, TimeProvider? time = null)
    {
        _store = store;
        _secrets = new SecretProtector(store.Options.DataDirectory, Purpose);
        _time = time ?? TimeProvider.System;
    }

    public Task<IReadOnlyList<DkimKeyInfo>> ListAsync(CancellationToken cancellationToken) =>
        _store.Database.ReadAsync<IReadOnlyList<DkimKeyInfo>>(c => c.CreateCommand("SELECT domain, selector, algorithm, public_key, created FROM dkim_keys ORDER BY domain")
            .Query(r => new DkimKeyInfo(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)))), cancellationToken);

    /// <summary>Makes a new key for <paramref name="domain"/> (replacing any: a rotation publishes the new selector first).</summary>
    public async Task<DkimKeyInfo> CreateAsync(string domain, string selector, CancellationToken cancellationToken)
    {
        using var rsa = RSA.Create(2048);
        var info = new DkimKeyInfo(domain.ToLowerInvariant(), selector, "rsa-sha256", Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()), _time.GetUtcNow());
        var pem = rsa.ExportRSAPrivateKeyPem();
        var sealedKey = _secrets.Protect(pem);
        await _store.Database.WriteAsync(w =>
        {
            w.Command("DELETE FROM dkim_keys WHERE domain = @d", ("@d", info.Domain)).Execute();
            return w.Command("INSERT INTO dkim_keys (domain, selector, algorithm, public_key, private_key_sealed, created) VALUES (@d, @s, @a, @p, @k, @t)",
                ("@d", info.Domain), ("@s", selector), ("@a", info.Algorithm), ("@p", info.PublicKey), ("@k", sealedKey), ("@t", info.Created.ToUnixTimeMilliseconds())).Execute();
        }, cancellationToken).ConfigureAwait(false);
        _snapshot = null;
        return info;
    }

    public async Task<bool> RemoveAsync(string domain, CancellationToken cancellationToken)
    {
        var removed = await _store.Database.WriteAsync(w => w.Command("DELETE FROM dkim_keys WHERE domain = @d", ("@d", domain)).Execute(), cancellationToken).ConfigureAwait(false) > 0;
        _snapshot = null;
        return removed;
    }

    /// <summary>
    /// The DKIM-Signature field (name, value and CRLF) for <paramref name="message"/> when its From domain has a key, else
    /// null. The message itself is not rewritten: the caller puts the field in front of it.
    /// </summary>
    public async ValueTask<byte[]?> SignAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is null || _time.GetUtcNow() - snapshot.Loaded > CacheLifetime)
        {
            snapshot = await LoadAsync(cancellationToken).ConfigureAwait(false);
        }

        if (snapshot.Signers.Count == 0)
        {
            return null;
        }

        // An RSA signature costs a millisecond or two: not on a socket's event thread.
        await Connections.EventThread.ToThreadPool();
        using var stream = MessageStreams.Open(message);
        var parsed = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
        var from = parsed.From.Mailboxes.FirstOrDefault()?.Domain;
        if (from is null || !snapshot.Signers.TryGetValue(from, out var signer))
        {
            return null;
        }

        signer.Sign(parsed, SignedHeaders);
        var field = parsed.Headers.First(h => h.Id == HeaderId.DkimSignature);

        // Relaxed header canonicalization (RFC 6376 §3.4.2) ignores how the field is folded, so its line ends can be CRLF.
        var value = Encoding.ASCII.GetString(field.RawValue).ReplaceLineEndings("\r\n");
        return Encoding.ASCII.GetBytes(field.Field + ":" + (value.EndsWith("\r\n", StringComparison.Ordinal) ? value : value + "\r\n"));
    }

    private async Task<Snapshot> LoadAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_snapshot is { } fresh && _time.GetUtcNow() - fresh.Loaded <= CacheLifetime)
            {
                return fresh;
            }

            var rows = await _store.Database.ReadAsync(c => c.CreateCommand("SELECT domain, selector, private_key_sealed FROM dkim_keys")
                .Query(r => (Domain: r.GetString(0), Selector: r.GetString(1), Sealed: (byte[])r.GetValue(2))), cancellationToken).ConfigureAwait(false);
            var signers = new Dictionary<string, DkimSigner>(StringComparer.OrdinalIgnoreCase);
            foreach (var row in rows)
            {
                // A key sealed under another master key stays unusable; the domain's mail goes unsigned rather than not at all.
                if (_secrets.Unprotect(row.Sealed) is not { } pem)
                {
                    continue;
                }

                using var key = new MemoryStream(Encoding.ASCII.GetBytes(pem));
                signers[row.Domain] = new DkimSigner(key, row.Domain, row.Selector, DkimSignatureAlgorithm.RsaSha256)
                {
                    HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                    BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                };
            }

            var snapshot = new Snapshot(signers, _time.GetUtcNow());
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>
    /// Whether DNS publishes <paramref name="key"/>: the TXT record at its name holds the same public key ("published"),
    /// another one ("different"), none ("missing"), or DNS could not say ("dns-error").
    /// </summary>
    public static async Task<DkimPublication> CheckPublishedAsync(DnsClient.ILookupClient dns, DkimKeyInfo key, CancellationToken cancellationToken)
    {
        DnsClient.IDnsQueryResponse response;
        try
        {
            response = await dns.QueryAsync(key.DnsName, DnsClient.QueryType.TXT, DnsClient.QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsClient.DnsResponseException ex)
        {
            return new DkimPublication(key.Domain, key.DnsName, "dns-error", ex.Message);
        }

        if (response.HasError && response.Header.ResponseCode != DnsClient.DnsHeaderResponseCode.NotExistentDomain)
        {
            return new DkimPublication(key.Domain, key.DnsName, "dns-error", response.ErrorMessage);
        }

        // RFC 6376 §3.6.2.2: the strings of one TXT record are joined; whitespace inside tag values is ignored.
        var records = response.Answers.OfType<DnsClient.Protocol.TxtRecord>().Select(r => string.Concat(r.Text)).ToList();
        string? PublicKey(string record) => record.Split(';').Select(t => t.Split('=', 2)).Where(p => p.Length == 2 && p[0].Trim() == "p")
            .Select(p => string.Concat(p[1].Where(c => !char.IsWhiteSpace(c)))).FirstOrDefault();
        var found = records.FirstOrDefault(r => PublicKey(r) is not null);
        var status = found is null ? "missing" : PublicKey(found) == key.PublicKey ? "published" : "different";
        return new DkimPublication(key.Domain, key.DnsName, status, found);
    }

    private sealed record Snapshot(IReadOnlyDictionary<string, DkimSigner> Signers, DateTimeOffset Loaded);

    /// <summary>A selector as RFC 6376 §3.1 allows it: sub-domain labels of letters, digits and hyphens.</summary>
    public static bool IsValidSelector(string selector) =>
        selector.Length is > 0 and <= 63 && selector.Split('.').All(label => label.Length > 0 && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));

    /// <summary>The default selector: the year and month the key was made, so a rotation gets a new one.</summary>
    public static string DefaultSelector(DateTimeOffset now) => "postern" + now.ToString("yyyyMM", CultureInfo.InvariantCulture);
}
