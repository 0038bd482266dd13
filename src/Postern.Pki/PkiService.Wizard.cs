using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Postern.Store;

namespace Postern.Pki;

/// <summary>The wizard's "Name and security settings", "Organization information", "Site common name" and "Geographical information" pages.</summary>
public sealed record CertificateRequestForm
{
    /// <summary>Defaults to "Default &lt;PROTOCOL&gt; Virtual Server".</summary>
    public string? FriendlyName { get; init; }

    /// <summary>Defaults to PkiOptions.DefaultKeyAlgorithm.</summary>
    public KeyAlgorithm? KeyAlgorithm { get; init; }

    public string? Organization { get; init; }

    public string? OrganizationalUnit { get; init; }

    /// <summary>A fully qualified domain name clients use to reach the virtual server; also put in the SAN.</summary>
    public required string CommonName { get; init; }

    /// <summary>More DNS names or IP addresses for the SAN.</summary>
    public IReadOnlyList<string> AdditionalNames { get; init; } = [];

    /// <summary>ISO 3166-1 alpha-2 code.</summary>
    public string? Country { get; init; }

    public string? State { get; init; }

    public string? City { get; init; }
}

public sealed record PreparedRequest(long VirtualServerId, string FriendlyName, string Subject, IReadOnlyList<string> Names, string RequestPem, string FileName);

public sealed record PendingRequestInfo(string FriendlyName, string Subject, IReadOnlyList<string> Names, string KeyAlgorithm, DateTimeOffset Created, string RequestPem, long? CaRequestId, string? CaStatus, string? CaReason);

public sealed record WizardStatus(long VirtualServerId, CertificateWizardState State, IReadOnlyList<CertificateWizardAction> AllowedActions, PendingRequestInfo? Pending, IReadOnlyList<CertificateInfo> Certificates);

public sealed record WizardAuditEntry(DateTimeOffset At, string Step, string FromState, string ToState, string Outcome, string? Detail);

/// <summary>After "send the request immediately": installed (enterprise CA) or held at a standalone CA as request CaRequestId.</summary>
public sealed record OnlineRequestOutcome(CertificateWizardState State, long? CaRequestId, InstalledCertificateSummary? Installed);

public sealed partial class PkiService
{
    private const int MaxNameField = 64;
    private const int MaxPlaceField = 128;

    public async Task<WizardStatus?> GetWizardStatusAsync(long virtualServerId, CancellationToken cancellationToken)
    {
        if (await _store.Configuration.GetVirtualServerAsync(virtualServerId, cancellationToken) is null)
        {
            return null;
        }

        var state = await GetWizardStateAsync(virtualServerId, cancellationToken);
        var pending = await _repository.GetWizardRequestAsync(virtualServerId, cancellationToken);
        PendingRequestInfo? pendingInfo = null;
        if (pending is not null)
        {
            var atCa = pending.CaRequestId is { } id ? await _repository.GetCaRequestAsync(id, cancellationToken) : null;
            pendingInfo = new PendingRequestInfo(pending.FriendlyName, pending.Subject, pending.Sans, pending.KeyAlgorithm, pending.Created, pending.CsrPem, pending.CaRequestId, atCa?.Status, atCa?.Reason);
        }

        var assignments = await _repository.ListAssignmentsAsync(cancellationToken);
        var mine = assignments.Where(a => a.VirtualServerId == virtualServerId).Select(a => a.CertificateId).ToHashSet();
        var certificates = (await _repository.ListCertificatesAsync(cancellationToken)).Where(c => mine.Contains(c.Id)).Select(c => ToInfo(c, assignments)).ToList();
        var allowed = Enum.GetValues<CertificateWizardAction>().Where(a => CertificateWizardStateTable.IsAllowed(state, a)).ToList();
        return new WizardStatus(virtualServerId, state, allowed, pendingInfo, certificates);
    }

    public async Task<IReadOnlyList<WizardAuditEntry>> ListWizardAuditAsync(long virtualServerId, CancellationToken cancellationToken) =>
        (await _repository.ListAuditAsync(virtualServerId, cancellationToken)).Select(a => new WizardAuditEntry(a.At, a.Step, a.FromState, a.ToState, a.Outcome, a.Detail)).ToList();

    /// <summary>"Prepare the request now, but send it later": a PKCS#10 request (certreq.txt) to send to an external CA; the key stays here, encrypted.</summary>
    public Task<PkiResult<PreparedRequest>> PrepareRequestAsync(long virtualServerId, CertificateRequestForm form, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.PrepareRequest, async (server, _) =>
        {
            var built = BuildRequest(server, form);
            if (!built.Succeeded)
            {
                return PkiResult<PreparedRequest>.Fail(built.Error!);
            }

            var row = built.Value!;
            await _store.Database.WriteAsync(w =>
            {
                PkiRepository.SaveWizardRequest(w, row);
                return true;
            }, cancellationToken);
            return PkiResult<PreparedRequest>.Ok(new PreparedRequest(virtualServerId, row.FriendlyName, row.Subject, row.Sans, row.CsrPem, "certreq.txt"));
        }, cancellationToken);

    /// <summary>"Process the pending request": installs the CA's answer (.cer DER/PEM, PEM chain, or .p7b) after checking it.</summary>
    public Task<PkiResult<InstalledCertificateSummary>> ProcessPendingRequestAsync(long virtualServerId, byte[] responseFile, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.ProcessPendingRequest, async (_, _) =>
        {
            var pending = await _repository.GetWizardRequestAsync(virtualServerId, cancellationToken);
            if (pending is null)
            {
                return PkiResult<InstalledCertificateSummary>.Fail("there is no pending request");
            }

            var read = CertificateFiles.Read(responseFile, _options.MaxFileBytes);
            if (!read.Succeeded)
            {
                return PkiResult<InstalledCertificateSummary>.Fail(read.Error!);
            }

            var certificates = read.Value!;
            try
            {
                using var key = _keys.UnprotectKey(pending.ProtectedKey);
                var leaf = certificates.FirstOrDefault(c => KeyAlgorithms.Matches(c, key))
                    ?? certificates.FirstOrDefault(c => !CertificateFacts.IsCertificateAuthority(c))
                    ?? certificates[0];
                return await InstallPendingAsync(pending, leaf, certificates.Where(c => !ReferenceEquals(c, leaf)).ToList(), null, cancellationToken);
            }
            finally
            {
                certificates.ForEach(c => c.Dispose());
            }
        }, cancellationToken);

    public Task<PkiResult<bool>> DeletePendingRequestAsync(long virtualServerId, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.DeletePendingRequest, async (_, _) =>
        {
            var deleted = await _store.Database.WriteAsync(w => PkiRepository.DeleteWizardRequest(w, virtualServerId), cancellationToken);
            return deleted ? PkiResult<bool>.Ok(true) : PkiResult<bool>.Fail("there is no pending request");
        }, cancellationToken);

    /// <summary>
    /// "Send the request immediately to an online certification authority": the built-in CA. Enterprise mode issues and
    /// installs in one step; standalone mode holds the request at the CA (state PendingRequest) until ApproveCaRequestAsync.
    /// </summary>
    public Task<PkiResult<OnlineRequestOutcome>> SubmitRequestToOnlineCaAsync(long virtualServerId, CertificateRequestForm form, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.SubmitToOnlineCa, async (server, _) =>
        {
            var ca = await _repository.GetCaAsync(cancellationToken);
            if (ca?.CertificateId is null)
            {
                return PkiResult<OnlineRequestOutcome>.Fail("the built-in CA is not available (not initialized, or a subordinate CA still awaiting its certificate)");
            }

            var built = BuildRequest(server, form);
            if (!built.Succeeded)
            {
                return PkiResult<OnlineRequestOutcome>.Fail(built.Error!);
            }

            var row = built.Value!;
            var now = _clock.GetUtcNow();
            if (ca.Mode == CaMode.Standalone)
            {
                var requestId = await _store.Database.WriteAsync(w =>
                {
                    var id = PkiRepository.InsertCaRequest(w, row.CsrPem, "server", row.Subject, $"virtual server {virtualServerId}", now);
                    PkiRepository.SaveWizardRequest(w, row with { CaRequestId = id });
                    return id;
                }, cancellationToken);
                return PkiResult<OnlineRequestOutcome>.Ok(new OnlineRequestOutcome(CertificateWizardState.PendingRequest, requestId, null));
            }

            var parsed = ParseRequest(row.CsrPem, IssueProfile.Server);
            if (!parsed.Succeeded)
            {
                return PkiResult<OnlineRequestOutcome>.Fail(parsed.Error!);
            }

            var issued = await IssueFromRequestCoreAsync(parsed.Value!, $"virtual server {virtualServerId}", cancellationToken);
            if (!issued.Succeeded)
            {
                return PkiResult<OnlineRequestOutcome>.Fail(issued.Error!);
            }

            using var certificate = issued.Value!;
            var installed = await InstallPendingAsync(row, certificate, [], null, cancellationToken);
            return installed.Succeeded
                ? PkiResult<OnlineRequestOutcome>.Ok(new OnlineRequestOutcome(CertificateWizardState.Installed, null, installed.Value))
                : PkiResult<OnlineRequestOutcome>.Fail(installed.Error!);
        }, cancellationToken);

    /// <summary>
    /// "Assign an existing certificate" (one stored here with its key). As default it replaces the current default;
    /// otherwise it is added beside it, chosen when a client's SNI names it.
    /// </summary>
    public Task<PkiResult<InstalledCertificateSummary>> AssignCertificateAsync(long virtualServerId, string thumbprint, bool makeDefault, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.AssignExisting, async (_, _) =>
        {
            var row = await _repository.FindCertificateAsync(thumbprint, cancellationToken);
            if (row is null)
            {
                return PkiResult<InstalledCertificateSummary>.Fail("no certificate with that thumbprint is stored on this server");
            }

            if (row.ProtectedKey is null)
            {
                return PkiResult<InstalledCertificateSummary>.Fail("the certificate has no private key on this server, so it cannot be used by a virtual server");
            }

            using var certificate = row.Load();
            using var key = _keys.UnprotectKey(row.ProtectedKey);
            return await StageAndInstallAsync(new InstallPlan(certificate, key, row.ProtectedKey, [], row.FriendlyName, [], virtualServerId, makeDefault, null, false), cancellationToken);
        }, cancellationToken);

    /// <summary>"Remove the current certificate" (the default, or the one named by thumbprint).</summary>
    public Task<PkiResult<bool>> RemoveCertificateAsync(long virtualServerId, string? thumbprint, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.Remove, async (_, _) =>
        {
            var assignments = await _repository.ListAssignmentsAsync(virtualServerId, cancellationToken);
            Assignment? target;
            if (thumbprint is null)
            {
                target = assignments.FirstOrDefault(a => a.IsDefault);
            }
            else
            {
                var row = await _repository.FindCertificateAsync(thumbprint, cancellationToken);
                target = row is null ? null : assignments.FirstOrDefault(a => a.CertificateId == row.Id);
            }

            if (target is null)
            {
                return PkiResult<bool>.Fail("that certificate is not assigned to this virtual server");
            }

            await _store.Database.WriteAsync(w => PkiRepository.Unassign(w, virtualServerId, target.CertificateId), cancellationToken);
            await _selector.ReloadAsync(cancellationToken);
            return PkiResult<bool>.Ok(true);
        }, cancellationToken);

    /// <summary>"Renew": a new key and a certificate for the same names from the built-in CA, swapped in wherever the old one was used.</summary>
    public Task<PkiResult<InstalledCertificateSummary>> RenewCertificateAsync(long virtualServerId, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.Renew, async (_, _) =>
        {
            var current = (await _repository.ListAssignmentsAsync(virtualServerId, cancellationToken)).FirstOrDefault(a => a.IsDefault);
            var row = current is null ? null : await _repository.GetCertificateAsync(current.CertificateId, cancellationToken);
            if (row is null)
            {
                return PkiResult<InstalledCertificateSummary>.Fail("the virtual server has no default certificate to renew");
            }

            var renewed = await RenewCoreAsync(row, virtualServerId, cancellationToken);
            return renewed;
        }, cancellationToken);

    /// <summary>"Import a certificate from a .pfx file" and make it the virtual server's default.</summary>
    public Task<PkiResult<InstalledCertificateSummary>> ImportPfxAsync(long virtualServerId, byte[] pfx, string? password, string? friendlyName, CancellationToken cancellationToken) =>
        WizardStepAsync(virtualServerId, CertificateWizardAction.ImportPfx, async (server, _) =>
        {
            if (pfx.Length == 0 || pfx.Length > _options.MaxFileBytes)
            {
                return PkiResult<InstalledCertificateSummary>.Fail($"the PFX file must be 1 to {_options.MaxFileBytes} bytes");
            }

            X509Certificate2Collection collection;
            try
            {
                collection = X509CertificateLoader.LoadPkcs12Collection(pfx, password, X509KeyStorageFlags.Exportable);
            }
            catch (CryptographicException ex)
            {
                return PkiResult<InstalledCertificateSummary>.Fail("the file is not a PKCS#12 (.pfx) file or the password is wrong: " + ex.Message);
            }

            try
            {
                var leaf = collection.FirstOrDefault(c => c.HasPrivateKey && !CertificateFacts.IsCertificateAuthority(c)) ?? collection.FirstOrDefault(c => c.HasPrivateKey);
                if (leaf is null)
                {
                    return PkiResult<InstalledCertificateSummary>.Fail("the PFX file holds no certificate with a private key");
                }

                using var key = ExtractKey(leaf);
                if (key is null)
                {
                    return PkiResult<InstalledCertificateSummary>.Fail("the PFX key is neither RSA nor ECDSA");
                }

                using var certificate = X509CertificateLoader.LoadCertificate(leaf.RawData);
                var name = string.IsNullOrWhiteSpace(friendlyName) ? DefaultFriendlyName(server) : friendlyName.Trim();
                var chain = collection.Where(c => !ReferenceEquals(c, leaf)).ToList();
                return await StageAndInstallAsync(new InstallPlan(certificate, key, _keys.ProtectKey(key), chain, name, [], virtualServerId, true, null, false), cancellationToken);
            }
            finally
            {
                foreach (var c in collection)
                {
                    c.Dispose();
                }
            }
        }, cancellationToken);

    /// <summary>"Export the current certificate to a .pfx file": certificate, key and chain, encrypted with AES-256 under the password.</summary>
    public async Task<PkiResult<byte[]>> ExportPfxAsync(string thumbprint, string password, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(password))
        {
            return PkiResult<byte[]>.Fail("a password is required to export a private key");
        }

        var row = await _repository.FindCertificateAsync(thumbprint, cancellationToken);
        if (row?.ProtectedKey is null)
        {
            return PkiResult<byte[]>.Fail(row is null ? "no certificate with that thumbprint" : "the certificate has no private key on this server");
        }

        using var certificate = row.Load();
        using var key = _keys.UnprotectKey(row.ProtectedKey);
        using var withKey = KeyAlgorithms.Attach(certificate, key);
        using var chain = NewChain(await _repository.ListIssuerCertificatesAsync(cancellationToken), []);
        chain.Build(certificate);
        var collection = new X509Certificate2Collection(withKey);
        foreach (var element in chain.ChainElements.Skip(1))
        {
            collection.Add(element.Certificate);
        }

        var pfx = collection.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password);
        foreach (var vs in (await _repository.ListAssignmentsAsync(cancellationToken)).Where(a => a.CertificateId == row.Id).Select(a => a.VirtualServerId))
        {
            await AuditAsync(vs, CertificateWizardAction.ExportPfx, CertificateWizardState.Installed, CertificateWizardState.Installed, "ok", "exported " + row.Thumbprint, cancellationToken);
        }

        return pfx is null ? PkiResult<byte[]>.Fail("export failed") : PkiResult<byte[]>.Ok(pfx);
    }

    // ------------------------------------------------------------------ machinery

    internal async Task<CertificateWizardState> GetWizardStateAsync(long virtualServerId, CancellationToken cancellationToken)
    {
        if (await _repository.GetWizardRequestAsync(virtualServerId, cancellationToken) is not null)
        {
            return CertificateWizardState.PendingRequest;
        }

        return (await _repository.ListAssignmentsAsync(virtualServerId, cancellationToken)).Count > 0
            ? CertificateWizardState.Installed
            : CertificateWizardState.NoPendingRequest;
    }

    /// <summary>Runs one wizard step: checks the state table, runs it under the gate, and writes the audit trail either way.</summary>
    private async Task<PkiResult<T>> WizardStepAsync<T>(long virtualServerId, CertificateWizardAction action, Func<VirtualServer, CertificateWizardState, Task<PkiResult<T>>> step, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var server = await _store.Configuration.GetVirtualServerAsync(virtualServerId, cancellationToken);
            if (server is null)
            {
                return PkiResult<T>.Fail($"there is no virtual server {virtualServerId}");
            }

            var before = await GetWizardStateAsync(virtualServerId, cancellationToken);
            if (!CertificateWizardStateTable.IsAllowed(before, action))
            {
                var refusal = CertificateWizardStateTable.Describe(before, action);
                await AuditAsync(virtualServerId, action, before, before, "refused", refusal, cancellationToken);
                return PkiResult<T>.Fail(refusal);
            }

            PkiResult<T> result;
            try
            {
                result = await step(server, before);
            }
            catch (CryptographicException ex)
            {
                result = PkiResult<T>.Fail("cryptographic failure: " + ex.Message);
            }

            var after = await GetWizardStateAsync(virtualServerId, cancellationToken);
            await AuditAsync(virtualServerId, action, before, after, result.Succeeded ? "ok" : "refused", result.Succeeded ? Detail(result.Value) : result.Error, cancellationToken);
            if (!result.Succeeded)
            {
                _logger?.WizardRefused(action, virtualServerId, result.Error);
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string? Detail<T>(T? value) => value switch
    {
        InstalledCertificateSummary s => $"installed {s.Thumbprint} ({s.IssuedTo}, expires {CertificateFacts.Utc(s.Expires)})",
        PreparedRequest p => $"request for {p.Subject}",
        OnlineRequestOutcome { CaRequestId: { } id } => $"held at the CA as request {id}",
        OnlineRequestOutcome { Installed: { } s } => $"issued and installed {s.Thumbprint}",
        _ => null,
    };

    private Task AuditAsync(long virtualServerId, CertificateWizardAction action, CertificateWizardState from, CertificateWizardState to, string outcome, string? detail, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        return _store.Database.WriteAsync(w =>
        {
            PkiRepository.Audit(w, virtualServerId, action.ToString(), from.ToString(), to.ToString(), outcome, detail, now);
            return true;
        }, cancellationToken);
    }

    /// <summary>KB823024's "Default Protocol_Name Virtual Server", with the protocol named as the virtual servers are (IMAP4).</summary>
    internal static string DefaultFriendlyName(VirtualServer server) =>
        $"Default {(server.Protocol == ServiceProtocol.Imap ? "IMAP4" : server.Protocol.ToString().ToUpperInvariant())} Virtual Server";

    /// <summary>Validates the form and makes the key (kept encrypted) and the PKCS#10 request: subject C, ST, L, O, OU, CN; SAN; serverAuth EKU.</summary>
    private PkiResult<WizardRequestRow> BuildRequest(VirtualServer server, CertificateRequestForm form)
    {
        var commonName = form.CommonName?.Trim().TrimEnd('.').ToLowerInvariant() ?? "";
        if (!CertificateNames.IsFqdn(commonName, allowWildcard: true))
        {
            return PkiResult<WizardRequestRow>.Fail($"the common name '{form.CommonName}' is not a fully qualified domain name (like mail.example.com)");
        }

        if (commonName.Length > MaxNameField)
        {
            return PkiResult<WizardRequestRow>.Fail($"the common name is longer than {MaxNameField} characters (RFC 5280 ub-common-name); put the long name in the additional names");
        }

        var country = form.Country?.Trim().ToUpperInvariant();
        if (!string.IsNullOrEmpty(country) && !CertificateNames.IsCountry(country))
        {
            return PkiResult<WizardRequestRow>.Fail($"'{form.Country}' is not an ISO 3166 two-letter country code (like US, GB, DE)");
        }

        foreach (var (label, value, max) in new[]
        {
            ("organization", form.Organization, MaxNameField), ("organizational unit", form.OrganizationalUnit, MaxNameField),
            ("state or province", form.State, MaxPlaceField), ("city or locality", form.City, MaxPlaceField), ("friendly name", form.FriendlyName, 256),
        })
        {
            if (value is not null && (value.Trim().Length > max || value.Any(char.IsControl)))
            {
                return PkiResult<WizardRequestRow>.Fail($"the {label} must be at most {max} characters, without control characters");
            }
        }

        var names = new List<string> { "dns:" + commonName };
        foreach (var extra in form.AdditionalNames)
        {
            if (CertificateNames.NormalizeServerName(extra) is not { } name)
            {
                return PkiResult<WizardRequestRow>.Fail($"'{extra}' is neither a fully qualified domain name nor an IP address");
            }

            names.Add(name);
        }

        names = names.Distinct().ToList();
        if (names.Count > _options.MaxNamesPerCertificate)
        {
            return PkiResult<WizardRequestRow>.Fail($"at most {_options.MaxNamesPerCertificate} names");
        }

        var distinguishedName = CertificateNames.Subject(
            (CertificateNames.CountryOid, country),
            (CertificateNames.StateOid, form.State),
            (CertificateNames.LocalityOid, form.City),
            (CertificateNames.OrganizationOid, form.Organization),
            (CertificateNames.OrganizationalUnitOid, form.OrganizationalUnit),
            (CertificateNames.CommonNameOid, commonName));
        var algorithm = form.KeyAlgorithm ?? _options.DefaultKeyAlgorithm;
        using var key = KeyAlgorithms.Generate(algorithm);
        var request = KeyAlgorithms.NewRequest(distinguishedName, key);
        request.CertificateExtensions.Add(CaSigner.BuildSubjectAlternativeName(names, critical: false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CertificateFacts.ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | (key is RSA ? X509KeyUsageFlags.KeyEncipherment : 0), critical: true));
        var pem = CertificateFacts.ToPem(request);
        var friendly = string.IsNullOrWhiteSpace(form.FriendlyName) ? DefaultFriendlyName(server) : form.FriendlyName.Trim();
        return PkiResult<WizardRequestRow>.Ok(new WizardRequestRow(server.Id, friendly, KeyAlgorithms.Name(algorithm), distinguishedName.Name, commonName, names, pem, _keys.ProtectKey(key), null, _clock.GetUtcNow()));
    }

    /// <summary>Installs a certificate answering a pending (or just-made) wizard request on its virtual server.</summary>
    private async Task<PkiResult<InstalledCertificateSummary>> InstallPendingAsync(WizardRequestRow pending, X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain, string? auditStep, CancellationToken cancellationToken)
    {
        using var key = _keys.UnprotectKey(pending.ProtectedKey);
        var before = auditStep is null ? default : await GetWizardStateAsync(pending.VirtualServerId, cancellationToken);
        var result = await StageAndInstallAsync(new InstallPlan(certificate, key, pending.ProtectedKey, chain, pending.FriendlyName, pending.Sans, pending.VirtualServerId, true, null, true), cancellationToken);
        if (auditStep is not null)
        {
            var now = _clock.GetUtcNow();
            var after = await GetWizardStateAsync(pending.VirtualServerId, cancellationToken);
            await _store.Database.WriteAsync(w =>
            {
                PkiRepository.Audit(w, pending.VirtualServerId, auditStep, before.ToString(), after.ToString(), result.Succeeded ? "ok" : "refused", result.Succeeded ? Detail(result.Value) : result.Error, now);
                return true;
            }, cancellationToken);
        }

        return result;
    }

    private async Task<PkiResult<InstalledCertificateSummary>> RenewCoreAsync(StoredCertificate row, long virtualServerId, CancellationToken cancellationToken)
    {
        using var ca = await LoadCaAsync(cancellationToken);
        if (ca is null)
        {
            return PkiResult<InstalledCertificateSummary>.Fail("the built-in CA is not available to renew from");
        }

        if (!IsValidNow(ca.Certificate, out var why))
        {
            return PkiResult<InstalledCertificateSummary>.Fail("the CA certificate " + why);
        }

        using var old = row.Load();
        var names = row.Sans.Where(n => n.StartsWith("dns:", StringComparison.Ordinal) || n.StartsWith("ip:", StringComparison.Ordinal)).ToList();
        if (names.Count == 0 && CertificateNames.NormalizeServerName(CertificateFacts.CommonName(old)) is { } cn)
        {
            names.Add(cn);
        }

        if (names.Count == 0)
        {
            return PkiResult<InstalledCertificateSummary>.Fail("the certificate names no host, so there is nothing to renew it for");
        }

        using var oldKey = row.ProtectedKey is null ? null : _keys.UnprotectKey(row.ProtectedKey);
        var algorithm = oldKey is null ? _options.DefaultKeyAlgorithm : KeyAlgorithms.Of(oldKey);
        using var key = KeyAlgorithms.Generate(algorithm);
        var publicKey = KeyAlgorithms.NewRequest(old.SubjectName, key).PublicKey;
        using var renewed = await SignAsync(ca, publicKey, old.SubjectName, IssueProfile.Server, names, TimeSpan.FromDays(_options.ServerCertificateValidityDays), $"renewal of {row.Thumbprint}", cancellationToken);
        var result = await StageAndInstallAsync(new InstallPlan(renewed, key, _keys.ProtectKey(key), [], row.FriendlyName, names, virtualServerId, true, row.Id, false), cancellationToken);
        if (result.Succeeded)
        {
            _logger?.Renewed(row.Thumbprint, result.Value!.Thumbprint);
        }

        return result;
    }

    private static AsymmetricAlgorithm? ExtractKey(X509Certificate2 certificate)
    {
        AsymmetricAlgorithm? source = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey();
        if (source is null)
        {
            return null;
        }

        using (source)
        {
            // A detached copy, so nothing of the PFX's key handle outlives this import.
            var pkcs8 = source.ExportPkcs8PrivateKey();
            try
            {
                AsymmetricAlgorithm copy = source is ECDsa ? ECDsa.Create() : RSA.Create();
                copy.ImportPkcs8PrivateKey(pkcs8, out _);
                return copy;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }
    }

    /// <summary>
    /// A certificate about to be put in service. VirtualServerId: assign there (as default when ReplaceDefault, replacing
    /// the old default; else beside it). ReplaceCertificateId: take the old certificate's place everywhere it was assigned.
    /// </summary>
    private sealed record InstallPlan(
        X509Certificate2 Certificate,
        AsymmetricAlgorithm Key,
        byte[] ProtectedKey,
        IReadOnlyList<X509Certificate2> Chain,
        string FriendlyName,
        IReadOnlyList<string> RequiredNames,
        long? VirtualServerId,
        bool ReplaceDefault,
        long? ReplaceCertificateId,
        bool DeletePendingRequest);

    /// <summary>
    /// Stages, checks, then swaps in: key matches, valid now, serverAuth, names cover the request, not revoked, chain builds
    /// to a trusted root, and SslStream accepts the pair. Only then one transaction changes the assignments and the
    /// selector publishes a new snapshot; a failed check changes nothing and says why.
    /// </summary>
    private async Task<PkiResult<InstalledCertificateSummary>> StageAndInstallAsync(InstallPlan plan, CancellationToken cancellationToken)
    {
        var stored = await _repository.ListIssuerCertificatesAsync(cancellationToken);
        var problem = await CheckInstallAsync(plan, stored, cancellationToken);
        if (problem is not null)
        {
            return PkiResult<InstalledCertificateSummary>.Fail(problem);
        }

        var now = _clock.GetUtcNow();
        var certificateId = await _store.Database.WriteAsync(w =>
        {
            foreach (var issuer in plan.Chain)
            {
                // Intermediates travel with the chain; a root never becomes trusted just because a response file carried it.
                if (CertificateFacts.IsCertificateAuthority(issuer) && !CertificateFacts.IsSelfIssued(issuer))
                {
                    PkiRepository.UpsertCertificate(w, issuer, CertificateKind.Intermediate, issuer.GetNameInfo(X509NameType.SimpleName, false), null, now);
                }
            }

            var id = PkiRepository.UpsertCertificate(w, plan.Certificate, CertificateKind.Server, plan.FriendlyName, plan.ProtectedKey, now);
            if (plan.ReplaceCertificateId is { } old)
            {
                PkiRepository.Replace(w, old, id);
            }

            if (plan.VirtualServerId is { } server)
            {
                if (plan.ReplaceDefault && plan.ReplaceCertificateId is null)
                {
                    w.Command("DELETE FROM pki_assignments WHERE virtual_server_id = @v AND is_default = 1 AND certificate_id <> @c", ("@v", server), ("@c", id)).Execute();
                }

                if (plan.ReplaceCertificateId is null || w.Command("SELECT COUNT(*) FROM pki_assignments WHERE virtual_server_id = @v AND certificate_id = @c", ("@v", server), ("@c", id)).Scalar<long>() == 0)
                {
                    PkiRepository.Assign(w, server, id, plan.ReplaceDefault, now);
                }

                if (plan.DeletePendingRequest)
                {
                    PkiRepository.DeleteWizardRequest(w, server);
                }
            }

            return id;
        }, cancellationToken);

        await _selector.ReloadAsync(cancellationToken);
        var ekus = CertificateFacts.EnhancedKeyUsages(plan.Certificate) ?? [];
        return PkiResult<InstalledCertificateSummary>.Ok(new InstalledCertificateSummary(
            plan.VirtualServerId ?? 0,
            CertificateFacts.CommonName(plan.Certificate),
            plan.Certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: true),
            new DateTimeOffset(plan.Certificate.NotBefore.ToUniversalTime()),
            new DateTimeOffset(plan.Certificate.NotAfter.ToUniversalTime()),
            ekus.Select(CertificateFacts.PurposeName).ToList(),
            plan.FriendlyName,
            CertificateFacts.Thumbprint(plan.Certificate),
            CertificateFacts.SubjectAlternativeNames(plan.Certificate)));
    }

    private async Task<string?> CheckInstallAsync(InstallPlan plan, List<StoredCertificate> stored, CancellationToken cancellationToken)
    {
        var certificate = plan.Certificate;
        if (!KeyAlgorithms.Matches(certificate, plan.Key))
        {
            return "the certificate's public key does not match the private key of the request: it was issued for another request (or another server)";
        }

        if (!IsValidNow(certificate, out var why))
        {
            return "the certificate " + why;
        }

        if (CertificateFacts.IsCertificateAuthority(certificate))
        {
            return "this is a CA certificate, not a server certificate";
        }

        // OpenSSL's default security level (and current clients) refuse RSA keys below 2048 bits: the
        // handshake would fail on every connection, so such a certificate is not installed at all.
        if (KeyAlgorithms.UnacceptableKeyReason(certificate.PublicKey) is { } keyReason)
        {
            return "the certificate cannot be used: " + keyReason;
        }

        var ekus = CertificateFacts.EnhancedKeyUsages(certificate);
        if (ekus is null || !ekus.Contains(CertificateFacts.ServerAuthOid))
        {
            return "the certificate is not for server authentication: its Enhanced Key Usage " +
                (ekus is null ? "extension is missing" : "lists only " + string.Join(", ", ekus.Select(CertificateFacts.PurposeName)));
        }

        foreach (var name in plan.RequiredNames)
        {
            var host = name[(name.IndexOf(':', StringComparison.Ordinal) + 1)..];
            if (!CertificateFacts.Covers(certificate, host))
            {
                var named = string.Join(", ", CertificateFacts.SubjectAlternativeNames(certificate));
                return $"the certificate does not name {host}, which the request asked for (it names {(named.Length == 0 ? CertificateFacts.CommonName(certificate) : named)})";
            }
        }

        if (await _repository.GetIssuedAsync(certificate.SerialNumber, cancellationToken) is { Revoked: not null } issued && issued.Der.AsSpan().SequenceEqual(certificate.RawData))
        {
            return "the certificate has been revoked";
        }

        using (var chain = NewChain(stored, plan.Chain))
        {
            if (!chain.Build(certificate))
            {
                var problems = ChainProblems(chain);
                using var system = NewChain(stored, plan.Chain, systemTrust: true);
                if (!_options.TrustSystemRoots || !system.Build(certificate))
                {
                    return $"the certificate chain does not build to a trusted root ({problems}); include the intermediate certificates, and import the issuing CA's root as a trusted root first";
                }
            }
        }

        try
        {
            _ = ServerCertificateSelector.CreateContext(certificate, plan.Key, ServerCertificateSelector.IssuerCertificates(stored));
        }
        catch (CryptographicException ex)
        {
            return "the certificate and key cannot be used for TLS: " + ex.Message;
        }

        return null;
    }
}
