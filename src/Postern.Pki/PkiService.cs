using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Postern.Store;

namespace Postern.Pki;

/// <summary>
/// The certificate lifecycle of the server, for the admin API and CLI: the organization's CA (root or subordinate;
/// issue, revoke, CRL), the per-virtual-server certificate wizard, trusted roots, user-certificate mapping, expiry.
/// Expected refusals come back as <see cref="PkiResult"/> values with a message for the administrator.
/// </summary>
public sealed partial class PkiService
{
    internal const string BaseUrlSetting = "pki.base-url";
    private const string RootKind = "root";
    private const string SubordinateKind = "subordinate";

    private readonly IPosternStore _store;
    private readonly PkiOptions _options;
    private readonly ILogger? _logger;
    private readonly PkiRepository _repository;
    private readonly KeyProtector _keys;
    private readonly TimeProvider _clock;
    private readonly ServerCertificateSelector _selector;

    // Mutations are rare administrator actions; one at a time keeps wizard state, serials and CRL numbers simple.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The limits and defaults this service runs with.</summary>
    public PkiOptions Options => _options;

    public PkiService(IPosternStore store, PkiOptions options, ILogger<PkiService>? logger = null)
    {
        _store = store;
        _options = options;
        _logger = logger;
        _repository = new PkiRepository(store.Database);
        _keys = new KeyProtector(store.Options.DataDirectory);
        _clock = options.TimeProvider;
        _selector = new ServerCertificateSelector(_repository, _keys, _clock, logger);
    }

    /// <summary>What the TLS layer asks; call <see cref="ReloadAsync"/> (or EnsureInitializedAsync) once at start.</summary>
    public ServerCertificateSelector Selector => _selector;

    public Task ReloadAsync(CancellationToken cancellationToken) => _selector.ReloadAsync(cancellationToken);

    public static bool TryParseKeyAlgorithm(string? text, out KeyAlgorithm algorithm) => KeyAlgorithms.TryParse(text, out algorithm);

    public static IReadOnlyCollection<string> CountryCodes => CertificateNames.CountryCodes;

    // ------------------------------------------------------------------ first start

    /// <summary>
    /// Creates the organization's root CA if there is none, and a server certificate for <paramref name="hostName"/>
    /// (DNS hostName and localhost, IP 127.0.0.1 and ::1) assigned as default to every virtual server that has none.
    /// Safe to call at every start.
    /// </summary>
    public async Task<PkiResult<BootstrapSummary>> EnsureInitializedAsync(string hostName, string organization, CancellationToken cancellationToken)
    {
        hostName = hostName.Trim().TrimEnd('.').ToLowerInvariant();
        if (!CertificateNames.IsFqdn(hostName, allowWildcard: false) && hostName != "localhost")
        {
            return PkiResult<BootstrapSummary>.Fail($"'{hostName}' is not a valid host name for the server certificate");
        }

        if (string.IsNullOrWhiteSpace(organization) || organization.Length > 64)
        {
            return PkiResult<BootstrapSummary>.Fail("the organization name must be 1 to 64 characters");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _clock.GetUtcNow();
            var createdCa = false;
            var ca = await _repository.GetCaAsync(cancellationToken);
            if (ca is null)
            {
                await CreateRootCaAsync(organization.Trim(), hostName, now, cancellationToken);
                createdCa = true;
            }
            else if (await _store.Configuration.GetSettingAsync(BaseUrlSetting, cancellationToken) is null)
            {
                await _store.Configuration.SetSettingAsync(BaseUrlSetting, ResolveBaseUrl(hostName), cancellationToken);
            }

            using var caKeys = await LoadCaAsync(cancellationToken);
            var caSubject = caKeys?.Certificate.Subject ?? "(subordinate CA awaiting its certificate)";
            var servers = await _store.Configuration.ListVirtualServersAsync(cancellationToken);
            var assigned = (await _repository.ListAssignmentsAsync(cancellationToken)).Select(a => a.VirtualServerId).ToHashSet();
            var bare = servers.Where(s => !assigned.Contains(s.Id)).Select(s => s.Id).ToList();
            string? thumbprint = null;
            if (bare.Count > 0)
            {
                if (caKeys is null)
                {
                    return PkiResult<BootstrapSummary>.Fail("the CA has no certificate yet (subordinate request pending), so no server certificate can be issued");
                }

                var names = new List<string> { "dns:" + hostName, "dns:localhost", "ip:127.0.0.1", "ip:::1" }.Distinct().ToList();

                // A server added later shares the host's certificate rather than getting one more of its own.
                var renewalLimit = now.AddDays(_options.RenewalWindowDays);
                var reusable = (await _repository.ListCertificatesAsync(CertificateKind.Server, cancellationToken))
                    .Where(c => c.ProtectedKey is not null && c.NotBefore <= now && c.NotAfter > renewalLimit && names.All(c.Sans.Contains))
                    .OrderByDescending(c => c.NotAfter)
                    .FirstOrDefault();
                long certificateId;
                if (reusable is not null)
                {
                    certificateId = reusable.Id;
                    thumbprint = reusable.Thumbprint;
                }
                else
                {
                    var subject = CertificateNames.Subject((CertificateNames.OrganizationOid, organization), (CertificateNames.CommonNameOid, hostName));
                    var issued = await IssueWithNewKeyAsync(caKeys, subject, IssueProfile.Server, names, _options.DefaultKeyAlgorithm,
                        TimeSpan.FromDays(_options.ServerCertificateValidityDays), CertificateKind.Server, hostName, "bootstrap", cancellationToken);
                    certificateId = issued.CertificateId!.Value;
                    thumbprint = issued.Thumbprint;
                }

                await _store.Database.WriteAsync(w =>
                {
                    foreach (var server in bare)
                    {
                        PkiRepository.Assign(w, server, certificateId, makeDefault: true, now);
                        PkiRepository.Audit(w, server, "bootstrap", nameof(CertificateWizardState.NoPendingRequest), nameof(CertificateWizardState.Installed), "ok", "host certificate " + thumbprint, now);
                    }

                    return true;
                }, cancellationToken);
                _logger?.HostCertificateAssigned(thumbprint, hostName, bare.Count);
            }

            await _selector.ReloadAsync(cancellationToken);
            return PkiResult<BootstrapSummary>.Ok(new BootstrapSummary(createdCa, caSubject, thumbprint, bare));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CreateRootCaAsync(string organization, string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var subject = CertificateNames.Subject((CertificateNames.OrganizationOid, organization), (CertificateNames.CommonNameOid, TrimTo(organization + " Root CA", 64)));
        using var key = KeyAlgorithms.Generate(_options.DefaultKeyAlgorithm);
        using var root = CaSigner.CreateRoot(subject, key, now, _options.CaValidityYears);
        var protectedKey = _keys.ProtectKey(key);
        await _store.Database.WriteAsync(w =>
        {
            var id = PkiRepository.UpsertCertificate(w, root, CertificateKind.Ca, organization + " Root CA", protectedKey, now);
            PkiRepository.InsertCa(w, id, RootKind, _options.InitialCaMode, now);
            return id;
        }, cancellationToken);
        await _store.Configuration.SetSettingAsync(BaseUrlSetting, ResolveBaseUrl(hostName), cancellationToken);
        _logger?.RootCreated(root.Subject, CertificateFacts.Thumbprint(root));
    }

    private string ResolveBaseUrl(string hostName)
    {
        var url = _options.PublicBaseUrl.Replace("{hostName}", hostName, StringComparison.Ordinal);
        return url.Length == 0 || url.EndsWith('/') ? url : url + "/";
    }

    // ------------------------------------------------------------------ the CA

    public async Task<CaInfo?> GetCaInfoAsync(CancellationToken cancellationToken)
    {
        var ca = await _repository.GetCaAsync(cancellationToken);
        if (ca is null)
        {
            return null;
        }

        var certificate = ca.CertificateId is { } id ? await _repository.GetCertificateAsync(id, cancellationToken) : null;
        return new CaInfo(ca.Kind, ca.Mode, certificate?.Subject, certificate?.Thumbprint, certificate?.NotAfter, ca.PendingRequest is not null, ca.CrlNumber);
    }

    public async Task<PkiResult> SetCaModeAsync(CaMode mode, CancellationToken cancellationToken)
    {
        var changed = await _store.Database.WriteAsync(w => w.Command("UPDATE pki_ca SET mode = @m WHERE id = 1", ("@m", CertificateKinds.ModeName(mode))).Execute() > 0, cancellationToken);
        return changed ? PkiResult.Ok() : PkiResult.Fail("there is no CA yet");
    }

    /// <summary>The CA certificate (the organization's root, or the subordinate CA certificate) in PEM, for clients to trust.</summary>
    public async Task<string?> ExportRootPemAsync(CancellationToken cancellationToken)
    {
        var ca = await _repository.GetCaAsync(cancellationToken);
        if (ca?.CertificateId is not { } id || await _repository.GetCertificateAsync(id, cancellationToken) is not { } row)
        {
            return null;
        }

        using var certificate = row.Load();
        return CertificateFacts.ToPem(certificate);
    }

    /// <summary>The CA certificate in DER, as served at the AIA URL (…/ca.crt).</summary>
    public async Task<byte[]?> ExportCaCertificateDerAsync(CancellationToken cancellationToken)
    {
        var ca = await _repository.GetCaAsync(cancellationToken);
        return ca?.CertificateId is { } id ? (await _repository.GetCertificateAsync(id, cancellationToken))?.Der : null;
    }

    /// <summary>The CA certificate and the chain above it (subordinate CA) up to the trusted root, PEM, leaf first.</summary>
    public async Task<string?> ExportCaChainPemAsync(CancellationToken cancellationToken)
    {
        var ca = await _repository.GetCaAsync(cancellationToken);
        if (ca?.CertificateId is not { } id || await _repository.GetCertificateAsync(id, cancellationToken) is not { } row)
        {
            return null;
        }

        var all = await _repository.ListIssuerCertificatesAsync(cancellationToken);
        using var certificate = row.Load();
        using var chain = NewChain(all, []);
        chain.Build(certificate);
        return string.Concat(chain.ChainElements.Select(e => CertificateFacts.ToPem(e.Certificate)));
    }

    /// <summary>Issues a server certificate with a key made here, stored (encrypted) so it can be assigned or exported.</summary>
    public async Task<PkiResult<IssuedCertificate>> IssueServerCertificateAsync(IReadOnlyList<string> names, string? friendlyName, KeyAlgorithm? keyAlgorithm, CancellationToken cancellationToken)
    {
        var normalized = new List<string>();
        foreach (var name in names)
        {
            if (CertificateNames.NormalizeServerName(name) is not { } n)
            {
                return PkiResult<IssuedCertificate>.Fail($"'{name}' is neither a fully qualified domain name nor an IP address");
            }

            normalized.Add(n);
        }

        normalized = normalized.Distinct().ToList();
        if (normalized.Count == 0 || normalized.Count > _options.MaxNamesPerCertificate)
        {
            return PkiResult<IssuedCertificate>.Fail($"give 1 to {_options.MaxNamesPerCertificate} names");
        }

        var commonName = normalized.FirstOrDefault(n => n.StartsWith("dns:", StringComparison.Ordinal))?[4..] ?? normalized[0][3..];
        var subject = CertificateNames.Subject((CertificateNames.CommonNameOid, TrimTo(commonName, 64)));
        return await WithCaAsync(ca => IssueWithNewKeyAsync(ca, subject, IssueProfile.Server, normalized, keyAlgorithm ?? _options.DefaultKeyAlgorithm,
            TimeSpan.FromDays(_options.ServerCertificateValidityDays), CertificateKind.Server, friendlyName ?? commonName, "admin", cancellationToken), cancellationToken);
    }

    /// <summary>Issues a user certificate (clientAuth + emailProtection, rfc822Name SAN) with a key made here; export it with ExportPfxAsync.</summary>
    public async Task<PkiResult<IssuedCertificate>> IssueClientCertificateAsync(string emailAddress, string? displayName, KeyAlgorithm? keyAlgorithm, CancellationToken cancellationToken)
    {
        emailAddress = emailAddress.Trim();
        if (!CertificateNames.IsEmailAddress(emailAddress))
        {
            return PkiResult<IssuedCertificate>.Fail($"'{emailAddress}' is not an e-mail address");
        }

        var subject = CertificateNames.Subject((CertificateNames.CommonNameOid, TrimTo(string.IsNullOrWhiteSpace(displayName) ? emailAddress : displayName.Trim(), 64)), (CertificateNames.EmailOid, emailAddress));
        return await WithCaAsync(ca => IssueWithNewKeyAsync(ca, subject, IssueProfile.Client, ["email:" + emailAddress], keyAlgorithm ?? _options.DefaultKeyAlgorithm,
            TimeSpan.FromDays(_options.ClientCertificateValidityDays), CertificateKind.Client, emailAddress, emailAddress, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Signs an external PKCS#10 request (server or client profile). Enterprise mode issues at once; standalone mode
    /// holds it for <see cref="ApproveCaRequestAsync"/>. The CA decides the extensions; only the requested names are taken.
    /// </summary>
    public async Task<PkiResult<CaSubmission>> SubmitRequestAsync(string csrPem, bool clientProfile, string? requester, CancellationToken cancellationToken)
    {
        var parsed = ParseRequest(csrPem, clientProfile ? IssueProfile.Client : IssueProfile.Server);
        if (!parsed.Succeeded)
        {
            return PkiResult<CaSubmission>.Fail(parsed.Error!);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var ca = await _repository.GetCaAsync(cancellationToken);
            if (ca is null)
            {
                return PkiResult<CaSubmission>.Fail("there is no CA yet");
            }

            var now = _clock.GetUtcNow();
            var profile = clientProfile ? "client" : "server";
            if (ca.Mode == CaMode.Standalone)
            {
                var id = await _store.Database.WriteAsync(w => PkiRepository.InsertCaRequest(w, csrPem, profile, parsed.Value!.Subject.Name, requester, now), cancellationToken);
                return PkiResult<CaSubmission>.Ok(new CaSubmission(id, "pending", null));
            }

            var issued = await IssueFromRequestCoreAsync(parsed.Value!, requester, cancellationToken);
            return issued.Succeeded
                ? PkiResult<CaSubmission>.Ok(new CaSubmission(null, "issued", ToIssued(issued.Value!, null)))
                : PkiResult<CaSubmission>.Fail(issued.Error!);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<CaRequestInfo>> ListCaRequestsAsync(CancellationToken cancellationToken) =>
        (await _repository.ListCaRequestsAsync(cancellationToken))
            .Select(r => new CaRequestInfo(r.Id, r.Profile, r.Subject, r.Requester, r.Status, r.Submitted, r.Decided, r.Serial, r.Reason)).ToList();

    /// <summary>
    /// certsrv's "view the status of a pending certificate request": the request as listed, and the certificate in PEM
    /// once it is issued, so whoever submitted it can fetch what another administrator approved.
    /// </summary>
    public async Task<CaRequestStatus?> GetCaRequestStatusAsync(long requestId, CancellationToken cancellationToken)
    {
        if (await _repository.GetCaRequestAsync(requestId, cancellationToken) is not { } r)
        {
            return null;
        }

        var info = new CaRequestInfo(r.Id, r.Profile, r.Subject, r.Requester, r.Status, r.Submitted, r.Decided, r.Serial, r.Reason);
        var issued = r.Serial is null ? null : await _repository.GetIssuedAsync(r.Serial, cancellationToken);
        return new CaRequestStatus(info, issued is null ? null : PemEncoding.WriteString("CERTIFICATE", issued.Der) + "\n");
    }

    /// <summary>Standalone CA: issues a held request; one that came from a virtual server's wizard is installed there too.</summary>
    public async Task<PkiResult<IssuedCertificate>> ApproveCaRequestAsync(long requestId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var request = await _repository.GetCaRequestAsync(requestId, cancellationToken);
            if (request is null || request.Status != "pending")
            {
                return PkiResult<IssuedCertificate>.Fail(request is null ? $"no CA request {requestId}" : $"request {requestId} is already {request.Status}");
            }

            var parsed = ParseRequest(request.CsrPem, request.Profile == "client" ? IssueProfile.Client : IssueProfile.Server);
            if (!parsed.Succeeded)
            {
                return PkiResult<IssuedCertificate>.Fail(parsed.Error!);
            }

            var issued = await IssueFromRequestCoreAsync(parsed.Value!, request.Requester, cancellationToken);
            if (!issued.Succeeded)
            {
                return PkiResult<IssuedCertificate>.Fail(issued.Error!);
            }

            using var certificate = issued.Value!;
            var now = _clock.GetUtcNow();
            await _store.Database.WriteAsync(w => PkiRepository.DecideCaRequest(w, requestId, "issued", certificate.SerialNumber, null, now), cancellationToken);
            if (await _repository.FindWizardRequestByCaRequestAsync(requestId, cancellationToken) is { } wizard)
            {
                var installed = await InstallPendingAsync(wizard, certificate, [], "approve-at-ca", cancellationToken);
                if (!installed.Succeeded)
                {
                    return PkiResult<IssuedCertificate>.Fail("issued serial " + certificate.SerialNumber + " but could not install it: " + installed.Error);
                }
            }

            return PkiResult<IssuedCertificate>.Ok(ToIssued(certificate, null));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<PkiResult> DenyCaRequestAsync(long requestId, string reason, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var denied = await _store.Database.WriteAsync(w => PkiRepository.DecideCaRequest(w, requestId, "denied", null, reason, now), cancellationToken);
        return denied ? PkiResult.Ok() : PkiResult.Fail($"request {requestId} does not exist or was already decided");
    }

    /// <summary>Revokes a certificate the CA issued (RFC 5280 §5.3.1 reason) and publishes a new CRL.</summary>
    public async Task<PkiResult> RevokeAsync(string serialNumber, X509RevocationReason reason, CancellationToken cancellationToken)
    {
        var serial = CertificateFacts.NormalizeSerial(serialNumber);
        if (reason is X509RevocationReason.RemoveFromCrl or (X509RevocationReason)7)
        {
            return PkiResult.Fail("that reason cannot be used to revoke (RFC 5280 §5.3.1)");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var issued = await _repository.GetIssuedAsync(serial, cancellationToken);
            if (issued is null)
            {
                return PkiResult.Fail($"the CA never issued serial {serial}");
            }

            if (issued.Revoked is not null)
            {
                return PkiResult.Fail($"serial {serial} was already revoked on {CertificateFacts.Utc(issued.Revoked.Value)}");
            }

            var now = _clock.GetUtcNow();
            await _store.Database.WriteAsync(w => PkiRepository.InsertRevocation(w, serial, (int)reason, now), cancellationToken);
            _logger?.Revoked(serial, issued.Subject, reason);
            var inService = await _repository.FindCertificateAsync(Convert.ToHexString(SHA256.HashData(issued.Der)), cancellationToken);
            if (inService is not null && (await _repository.ListAssignmentsAsync(cancellationToken)).Any(a => a.CertificateId == inService.Id))
            {
                // The selector now prefers any valid certificate to it, but still presents it when it is the only one:
                // dropping it silently could leave a virtual server without TLS.
                _logger?.RevokedStillAssigned(inService.Thumbprint);
                await _selector.ReloadAsync(cancellationToken);
            }

            // The CA that issued it signs the CRL: after a subordinate CA replaced it, still the former CA.
            var crl = await BuildCrlCoreAsync(issued.CaCertificateId, cancellationToken);
            return crl.Succeeded ? PkiResult.Ok() : PkiResult.Fail("revoked, but the CRL could not be published: " + crl.Error);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Builds, stores and returns (DER) a new CRL signed by the CA, with the next CRL number.</summary>
    public async Task<PkiResult<byte[]>> BuildCrlAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return (await _repository.GetCaAsync(cancellationToken))?.CertificateId is { } id
                ? await BuildCrlCoreAsync(id, cancellationToken)
                : PkiResult<byte[]>.Fail("there is no CA certificate to sign a CRL");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The CA's CRL as served at …/ca.crl: the latest one while it is fresh (less than half its life used), else a new one.</summary>
    public async Task<PkiResult<byte[]>> GetCurrentCrlAsync(CancellationToken cancellationToken) =>
        (await _repository.GetCaAsync(cancellationToken))?.CertificateId is { } id
            ? await GetCrlAsync(id, cancellationToken)
            : PkiResult<byte[]>.Fail("there is no CA certificate to sign a CRL");

    /// <summary>
    /// The CRL at a CA's own distribution point (…/ca-XXXXXXXXXXXXXXXX.crl, <see cref="CaSigner.PublicationName"/>),
    /// also for a CA that a subordinate CA has replaced: what it issued can still be revoked. Null for no such CA.
    /// </summary>
    public async Task<PkiResult<byte[]>?> GetPublishedCrlAsync(string name, CancellationToken cancellationToken) =>
        await FindPublishedCaAsync(name, cancellationToken) is { } ca ? await GetCrlAsync(ca.Id, cancellationToken) : null;

    /// <summary>The certificate (DER) at a CA's own AIA URL (…/ca-XXXXXXXXXXXXXXXX.crt); null for no such CA.</summary>
    public async Task<byte[]?> GetPublishedCaCertificateAsync(string name, CancellationToken cancellationToken) =>
        (await FindPublishedCaAsync(name, cancellationToken))?.Der;

    private async Task<StoredCertificate?> FindPublishedCaAsync(string name, CancellationToken cancellationToken)
    {
        if (!CaSigner.IsPublicationName(name))
        {
            return null;
        }

        // The name is hashed from the stored DER: a public URL parses no certificate to find its CA.
        return (await _repository.ListCertificatesAsync(CertificateKind.Ca, cancellationToken)).FirstOrDefault(row => CaSigner.PublicationName(row.Der) == name);
    }

    private async Task<PkiResult<byte[]>> GetCrlAsync(long caCertificateId, CancellationToken cancellationToken)
    {
        if (await FreshCrlAsync(caCertificateId, cancellationToken) is { } fresh)
        {
            return PkiResult<byte[]>.Ok(fresh);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Asked again under the gate: relying parties that arrive together at a stale CRL (the URL is public) get
            // the one the first of them had built, not one CRL each.
            return await FreshCrlAsync(caCertificateId, cancellationToken) is { } built
                ? PkiResult<byte[]>.Ok(built)
                : await BuildCrlCoreAsync(caCertificateId, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A CA's latest CRL while less than half its life is used, else null.</summary>
    private async Task<byte[]?> FreshCrlAsync(long caCertificateId, CancellationToken cancellationToken) =>
        await _repository.GetLatestCrlAsync(caCertificateId, cancellationToken) is { } crl && crl.NextUpdate - _clock.GetUtcNow() > _options.CrlValidity / 2
            ? crl.Der
            : null;

    /// <summary>A new CRL signed by the given CA certificate's key.</summary>
    private async Task<PkiResult<byte[]>> BuildCrlCoreAsync(long caCertificateId, CancellationToken cancellationToken)
    {
        using var ca = await LoadCaAsync(caCertificateId, cancellationToken);
        if (ca is null)
        {
            return PkiResult<byte[]>.Fail("there is no CA certificate to sign a CRL");
        }

        var revocations = await _repository.ListRevocationsAsync(ca.CertificateId, cancellationToken);
        var now = _clock.GetUtcNow();
        var next = now + _options.CrlValidity;
        var number = await _store.Database.WriteAsync(PkiRepository.AllocateCrlNumber, cancellationToken);
        var der = CaSigner.BuildCrl(ca, revocations, number, now, next);
        await _store.Database.WriteAsync(w =>
        {
            PkiRepository.InsertCrl(w, number, ca.CertificateId, now, next, der);
            return true;
        }, cancellationToken);
        return PkiResult<byte[]>.Ok(der);
    }

    public async Task<IReadOnlyList<IssuedCertificateInfo>> ListIssuedAsync(CancellationToken cancellationToken) =>
        (await _repository.ListIssuedAsync(cancellationToken)).Select(r => new IssuedCertificateInfo(
            r.Serial, r.Profile, r.Subject, r.Sans, r.NotBefore, r.NotAfter, r.Issued, r.Requester, r.RevocationReason is not null,
            r.RevocationReason is { } reason ? (X509RevocationReason)reason : null, r.Revoked)).ToList();

    public async Task<IReadOnlyList<CertificateInfo>> ListCertificatesAsync(CancellationToken cancellationToken)
    {
        var assignments = await _repository.ListAssignmentsAsync(cancellationToken);
        return (await _repository.ListCertificatesAsync(cancellationToken)).Select(c => ToInfo(c, assignments)).ToList();
    }

    /// <summary>Deletes a stored certificate that no virtual server uses and that is not the CA's.</summary>
    public async Task<PkiResult> DeleteCertificateAsync(string thumbprint, CancellationToken cancellationToken)
    {
        var row = await _repository.FindCertificateAsync(thumbprint, cancellationToken);
        if (row is null)
        {
            return PkiResult.Fail("no certificate with that thumbprint");
        }

        if ((await _repository.ListAssignmentsAsync(cancellationToken)).Any(a => a.CertificateId == row.Id))
        {
            return PkiResult.Fail("the certificate is assigned to a virtual server; remove it there first");
        }

        var deleted = await _store.Database.WriteAsync(w => PkiRepository.DeleteCertificate(w, row.Id), cancellationToken);
        return deleted ? PkiResult.Ok() : PkiResult.Fail("the CA's own certificates cannot be deleted");
    }

    // ------------------------------------------------------------------ helpers

    internal KeyProtector Keys => _keys;

    private async Task<PkiResult<IssuedCertificate>> WithCaAsync(Func<CaKeyPair, Task<IssuedCertificate>> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var ca = await LoadCaAsync(cancellationToken);
            if (ca is null)
            {
                return PkiResult<IssuedCertificate>.Fail("there is no CA certificate yet: run the first-start initialization or install the subordinate CA certificate");
            }

            if (!IsValidNow(ca.Certificate, out var why))
            {
                return PkiResult<IssuedCertificate>.Fail("the CA certificate " + why);
            }

            return PkiResult<IssuedCertificate>.Ok(await work(ca));
        }
        finally
        {
            _gate.Release();
        }
    }

    internal async Task<CaKeyPair?> LoadCaAsync(CancellationToken cancellationToken) =>
        (await _repository.GetCaAsync(cancellationToken))?.CertificateId is { } id ? await LoadCaAsync(id, cancellationToken) : null;

    /// <summary>A CA certificate of this server with its key: the current CA or one a subordinate CA replaced.</summary>
    private async Task<CaKeyPair?> LoadCaAsync(long certificateId, CancellationToken cancellationToken) =>
        await _repository.GetCertificateAsync(certificateId, cancellationToken) is { Kind: CertificateKind.Ca, ProtectedKey: { } key } row
            ? new CaKeyPair(certificateId, row.Load(), _keys.UnprotectKey(key))
            : null;

    private async Task<string?> BaseUrlAsync(CancellationToken cancellationToken) =>
        await _store.Configuration.GetSettingAsync(BaseUrlSetting, cancellationToken);

    /// <summary>Signs with the CA and records the issuance; the caller stores the certificate itself if it keeps it.</summary>
    private async Task<X509Certificate2> SignAsync(CaKeyPair ca, PublicKey publicKey, X500DistinguishedName subject, IssueProfile profile, IReadOnlyList<string> names, TimeSpan validity, string? requester, CancellationToken cancellationToken)
    {
        var counter = await _store.Database.WriteAsync(PkiRepository.AllocateSerial, cancellationToken);
        var now = _clock.GetUtcNow();
        var certificate = CaSigner.Issue(ca, publicKey, subject, profile, names, now, validity, CaSigner.MakeSerial(counter), await BaseUrlAsync(cancellationToken));
        var profileName = profile switch
        {
            IssueProfile.Client => "client",
            IssueProfile.SubordinateCa => "subordinate",
            _ => "server",
        };
        await _store.Database.WriteAsync(w =>
        {
            PkiRepository.InsertIssued(w, certificate, ca.CertificateId, profileName, requester, now);
            return true;
        }, cancellationToken);
        _logger?.Issued(profileName, certificate.SerialNumber, certificate.Subject);
        return certificate;
    }

    private async Task<IssuedCertificate> IssueWithNewKeyAsync(CaKeyPair ca, X500DistinguishedName subject, IssueProfile profile, IReadOnlyList<string> names, KeyAlgorithm algorithm, TimeSpan validity, CertificateKind kind, string friendlyName, string? requester, CancellationToken cancellationToken)
    {
        using var key = KeyAlgorithms.Generate(algorithm);
        var publicKey = KeyAlgorithms.NewRequest(subject, key).PublicKey;
        using var certificate = await SignAsync(ca, publicKey, subject, profile, names, validity, requester, cancellationToken);
        var protectedKey = _keys.ProtectKey(key);
        var now = _clock.GetUtcNow();
        var id = await _store.Database.WriteAsync(w => PkiRepository.UpsertCertificate(w, certificate, kind, friendlyName, protectedKey, now), cancellationToken);
        return ToIssued(certificate, id);
    }

    internal sealed record ParsedRequest(CertificateRequest Request, X500DistinguishedName Subject, IssueProfile Profile, List<string> Names);

    /// <summary>Loads a PKCS#10 request (signature verified) and takes only its subject, key and acceptable names.</summary>
    private PkiResult<ParsedRequest> ParseRequest(string csrPem, IssueProfile profile)
    {
        if (csrPem.Length > _options.MaxRequestChars)
        {
            return PkiResult<ParsedRequest>.Fail($"the request is longer than {_options.MaxRequestChars} characters");
        }

        if (PemEncoding.TryFind(csrPem, out var pem) && TryDecodeBase64(csrPem.AsSpan()[pem.Base64Data]) is { } der
            && KeyAlgorithms.UnsupportedRequestSignatureReason(der) is { } signatureReason)
        {
            return PkiResult<ParsedRequest>.Fail(signatureReason);
        }

        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions, RSASignaturePadding.Pkcs1);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or NotSupportedException)
        {
            return PkiResult<ParsedRequest>.Fail("the text is not a valid, correctly signed PKCS#10 certificate request: " + ex.Message);
        }

        if (KeyAlgorithms.UnacceptableKeyReason(request.PublicKey) is { } keyReason)
        {
            return PkiResult<ParsedRequest>.Fail(keyReason);
        }

        var requested = request.CertificateExtensions.FirstOrDefault(e => e.Oid?.Value == CertificateFacts.SubjectAltNameOid);
        var names = requested is null ? [] : CertificateFacts.ReadGeneralNames(requested.RawData);
        var commonName = request.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(r => !r.HasMultipleElements && r.GetSingleElementType().Value == "2.5.4.3")
            .Select(r => r.GetSingleElementValue()).LastOrDefault();
        List<string> accepted;
        if (profile == IssueProfile.Client)
        {
            accepted = CertificateFacts.EmailAddresses(names).Where(CertificateNames.IsEmailAddress).Select(e => "email:" + e).ToList();
        }
        else
        {
            accepted = names.Where(n => n.StartsWith("ip:", StringComparison.Ordinal) || n.StartsWith("dns:", StringComparison.Ordinal))
                .Select(n => CertificateNames.NormalizeServerName(n)).OfType<string>().ToList();
            if (commonName is not null && CertificateNames.NormalizeServerName(commonName) is { } cn && cn.StartsWith("dns:", StringComparison.Ordinal))
            {
                // RFC 6125 §6.4.4: clients look only at the SAN when there is one, so the CN must be in it too.
                accepted.Insert(0, cn);
            }
        }

        accepted = accepted.Distinct().ToList();
        if (accepted.Count == 0)
        {
            return PkiResult<ParsedRequest>.Fail(profile == IssueProfile.Client
                ? "the request names no e-mail address (rfc822Name subject alternative name)"
                : "the request names no valid DNS name or IP address (common name or subject alternative name)");
        }

        if (accepted.Count > _options.MaxNamesPerCertificate)
        {
            return PkiResult<ParsedRequest>.Fail($"the request names more than {_options.MaxNamesPerCertificate} names");
        }

        return PkiResult<ParsedRequest>.Ok(new ParsedRequest(request, request.SubjectName, profile, accepted));
    }

    private static byte[]? TryDecodeBase64(ReadOnlySpan<char> base64)
    {
        var bytes = new byte[base64.Length * 3 / 4 + 3];
        return Convert.TryFromBase64Chars(base64, bytes, out var written) ? bytes[..written] : null;
    }

    private async Task<PkiResult<X509Certificate2>> IssueFromRequestCoreAsync(ParsedRequest request, string? requester, CancellationToken cancellationToken)
    {
        using var ca = await LoadCaAsync(cancellationToken);
        if (ca is null)
        {
            return PkiResult<X509Certificate2>.Fail("there is no CA certificate yet");
        }

        if (!IsValidNow(ca.Certificate, out var why))
        {
            return PkiResult<X509Certificate2>.Fail("the CA certificate " + why);
        }

        var validity = TimeSpan.FromDays(request.Profile == IssueProfile.Client ? _options.ClientCertificateValidityDays : _options.ServerCertificateValidityDays);
        var certificate = await SignAsync(ca, request.Request.PublicKey, request.Subject, request.Profile, request.Names, validity, requester, cancellationToken);
        return PkiResult<X509Certificate2>.Ok(certificate);
    }

    private bool IsValidNow(X509Certificate2 certificate, out string why)
    {
        var now = _clock.GetUtcNow();
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        why = now < notBefore ? "is not valid until " + CertificateFacts.Utc(notBefore)
            : now > notAfter ? "expired on " + CertificateFacts.Utc(notAfter)
            : "";
        return why.Length == 0;
    }

    /// <summary>A chain engine trusting exactly the roots this server trusts: its own CA roots and imported external roots.</summary>
    private X509Chain NewChain(IEnumerable<StoredCertificate> stored, IEnumerable<X509Certificate2> extra, bool systemTrust = false)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = _clock.GetUtcNow().UtcDateTime;
        if (!systemTrust)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        }

        foreach (var row in stored)
        {
            if (row.Kind is not (CertificateKind.Ca or CertificateKind.TrustedRoot or CertificateKind.Intermediate))
            {
                continue;
            }

            var certificate = row.Load();
            if (!systemTrust && (row.Kind == CertificateKind.TrustedRoot || (row.Kind == CertificateKind.Ca && CertificateFacts.IsSelfIssued(certificate))))
            {
                chain.ChainPolicy.CustomTrustStore.Add(certificate);
            }
            else
            {
                chain.ChainPolicy.ExtraStore.Add(certificate);
            }
        }

        chain.ChainPolicy.ExtraStore.AddRange(extra.ToArray());
        return chain;
    }

    private static string ChainProblems(X509Chain chain) =>
        string.Join("; ", chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError).Select(s => s.StatusInformation.Trim()).Distinct());

    private static IssuedCertificate ToIssued(X509Certificate2 certificate, long? id) =>
        new(certificate.SerialNumber, CertificateFacts.Thumbprint(certificate), id, CertificateFacts.ToPem(certificate), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()));

    private static CertificateInfo ToInfo(StoredCertificate c, IEnumerable<Assignment> assignments) => new(
        c.Id, c.Thumbprint, c.Kind, c.FriendlyName, c.Subject, c.Issuer, c.Serial, c.Sans, c.Ekus, c.NotBefore, c.NotAfter, c.ProtectedKey is not null,
        assignments.Where(a => a.CertificateId == c.Id).Select(a => a.VirtualServerId).ToList());

    private static string TrimTo(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>What happened to a submitted request: issued now (enterprise) or held with an id (standalone).</summary>
public sealed record CaSubmission(long? RequestId, string Status, IssuedCertificate? Certificate);

public sealed record CaRequestStatus(CaRequestInfo Request, string? CertificatePem);
