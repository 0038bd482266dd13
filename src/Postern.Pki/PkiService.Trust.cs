using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Postern.Pki;

public sealed partial class PkiService
{
    // ------------------------------------------------------------------ trusted roots

    /// <summary>Imports external root certificates (PEM, DER or .p7b) as trust anchors for chains of installed certificates and user certificates.</summary>
    public async Task<PkiResult<IReadOnlyList<CertificateInfo>>> ImportTrustedRootAsync(byte[] file, string? friendlyName, CancellationToken cancellationToken)
    {
        var read = CertificateFiles.Read(file, _options.MaxFileBytes);
        if (!read.Succeeded)
        {
            return PkiResult<IReadOnlyList<CertificateInfo>>.Fail(read.Error!);
        }

        var roots = read.Value!;
        try
        {
            foreach (var root in roots)
            {
                if (!CertificateFacts.IsSelfIssued(root) || !VerifiesItself(root))
                {
                    return PkiResult<IReadOnlyList<CertificateInfo>>.Fail($"'{root.Subject}' is not a self-signed root certificate");
                }

                if (!CertificateFacts.IsCertificateAuthority(root))
                {
                    return PkiResult<IReadOnlyList<CertificateInfo>>.Fail($"'{root.Subject}' is not a CA certificate (basic constraints CA:TRUE missing)");
                }
            }

            var now = _clock.GetUtcNow();
            var ids = await _store.Database.WriteAsync(w => roots.Select(r =>
                PkiRepository.UpsertCertificate(w, r, CertificateKind.TrustedRoot, friendlyName ?? r.GetNameInfo(X509NameType.SimpleName, false), null, now)).ToList(), cancellationToken);
            var assignments = await _repository.ListAssignmentsAsync(cancellationToken);
            var infos = new List<CertificateInfo>();
            foreach (var id in ids)
            {
                infos.Add(ToInfo((await _repository.GetCertificateAsync(id, cancellationToken))!, assignments));
            }

            _logger?.TrustedRootsImported(infos.Count);
            return PkiResult<IReadOnlyList<CertificateInfo>>.Ok(infos);
        }
        finally
        {
            roots.ForEach(r => r.Dispose());
        }
    }

    private static bool VerifiesItself(X509Certificate2 root)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
        return chain.Build(root);
    }

    // ------------------------------------------------------------------ subordinate CA

    /// <summary>
    /// Makes this server's CA a subordinate of an external root: a new key and a PKCS#10 request with CA basic
    /// constraints, to send to that root. The current CA keeps issuing until the signed certificate is installed.
    /// </summary>
    public async Task<PkiResult<string>> CreateSubordinateCaRequestAsync(string commonName, string organization, string? country, KeyAlgorithm? keyAlgorithm, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(commonName) || commonName.Trim().Length > MaxNameField || string.IsNullOrWhiteSpace(organization) || organization.Trim().Length > MaxNameField)
        {
            return PkiResult<string>.Fail($"the CA's common name and organization must be 1 to {MaxNameField} characters");
        }

        if (!string.IsNullOrEmpty(country) && !CertificateNames.IsCountry(country.ToUpperInvariant()))
        {
            return PkiResult<string>.Fail($"'{country}' is not an ISO 3166 two-letter country code");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var subject = CertificateNames.Subject(
                (CertificateNames.CountryOid, country?.ToUpperInvariant()),
                (CertificateNames.OrganizationOid, organization),
                (CertificateNames.CommonNameOid, commonName));
            using var key = KeyAlgorithms.Generate(keyAlgorithm ?? _options.DefaultKeyAlgorithm);
            var pem = CaSigner.CreateSubordinateRequestPem(subject, key);
            var protectedKey = _keys.ProtectKey(key);
            var now = _clock.GetUtcNow();
            await _store.Database.WriteAsync(w =>
            {
                PkiRepository.SetPendingSubordinate(w, pem, protectedKey, _options.InitialCaMode, now);
                return true;
            }, cancellationToken);
            return PkiResult<string>.Ok(pem);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Installs the CA certificate the external root signed (with its chain: .cer, PEM chain or .p7b). The external root
    /// must have been imported as a trusted root. From then on the CA issues certificates that chain to that root.
    /// </summary>
    public async Task<PkiResult<CaInfo>> InstallSubordinateCaCertificateAsync(byte[] file, CancellationToken cancellationToken)
    {
        var read = CertificateFiles.Read(file, _options.MaxFileBytes);
        if (!read.Succeeded)
        {
            return PkiResult<CaInfo>.Fail(read.Error!);
        }

        var certificates = read.Value!;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var ca = await _repository.GetCaAsync(cancellationToken);
            if (ca?.PendingKey is null)
            {
                return PkiResult<CaInfo>.Fail("there is no pending subordinate CA request");
            }

            using var key = _keys.UnprotectKey(ca.PendingKey);
            var certificate = certificates.FirstOrDefault(c => KeyAlgorithms.Matches(c, key));
            if (certificate is null)
            {
                return PkiResult<CaInfo>.Fail("no certificate in the file matches the key of the pending subordinate CA request");
            }

            if (!CertificateFacts.IsCertificateAuthority(certificate))
            {
                return PkiResult<CaInfo>.Fail("the certificate is not a CA certificate (basic constraints CA:TRUE missing): the external CA signed it with an end-entity template");
            }

            if (certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
            {
                return PkiResult<CaInfo>.Fail("the certificate's key usage does not allow signing certificates (keyCertSign)");
            }

            if (!IsValidNow(certificate, out var why))
            {
                return PkiResult<CaInfo>.Fail("the CA certificate " + why);
            }

            var chainCertificates = certificates.Where(c => !ReferenceEquals(c, certificate)).ToList();
            var stored = await _repository.ListIssuerCertificatesAsync(cancellationToken);
            using (var chain = NewChain(stored.Where(s => s.Kind != CertificateKind.Ca), chainCertificates))
            {
                if (!chain.Build(certificate))
                {
                    return PkiResult<CaInfo>.Fail($"the CA certificate does not chain to an imported trusted root ({ChainProblems(chain)}); import the external root first ('postern ca trust add --file ROOT.pem')");
                }

                // The chain above is valid for the CA certificate itself; a certificate the CA issues adds one more CA
                // to the path. An issuer k levels up has k CA certificates below it then, which its pathLenConstraint
                // must allow (RFC 5280 §4.2.1.9), or every certificate the CA issued would fail verification.
                for (var k = 1; k < chain.ChainElements.Count; k++)
                {
                    var issuer = chain.ChainElements[k].Certificate;
                    if (issuer.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { HasPathLengthConstraint: true } constraints
                        && constraints.PathLengthConstraint < k)
                    {
                        return PkiResult<CaInfo>.Fail($"'{issuer.Subject}' allows {constraints.PathLengthConstraint} CA certificate(s) below it (path length constraint, RFC 5280 §4.2.1.9): certificates this CA issued would not verify; have a CA that may certify a subordinate CA sign the request");
                    }
                }
            }

            var now = _clock.GetUtcNow();
            var pendingKey = ca.PendingKey;
            await _store.Database.WriteAsync(w =>
            {
                foreach (var issuer in chainCertificates.Where(c => CertificateFacts.IsCertificateAuthority(c) && !CertificateFacts.IsSelfIssued(c)))
                {
                    PkiRepository.UpsertCertificate(w, issuer, CertificateKind.Intermediate, issuer.GetNameInfo(X509NameType.SimpleName, false), null, now);
                }

                var id = PkiRepository.UpsertCertificate(w, certificate, CertificateKind.Ca, CertificateFacts.CommonName(certificate), pendingKey, now);
                PkiRepository.ActivateSubordinate(w, id);
                return id;
            }, cancellationToken);
            _logger?.SubordinateInstalled(certificate.Subject, certificate.Issuer);
            await _selector.ReloadAsync(cancellationToken);
            return PkiResult<CaInfo>.Ok((await GetCaInfoAsync(cancellationToken))!);
        }
        finally
        {
            _gate.Release();
            certificates.ForEach(c => c.Dispose());
        }
    }

    // ------------------------------------------------------------------ user certificates → accounts

    /// <summary>Maps a user certificate to an account explicitly, by thumbprint (SHA-256) or by issuer + serial number.</summary>
    public async Task<PkiResult> MapClientCertificateAsync(string accountAddress, string? thumbprint, string? issuer, string? serialNumber, CancellationToken cancellationToken)
    {
        if (await _store.Directory.FindAccountAsync(accountAddress, cancellationToken) is null)
        {
            return PkiResult.Fail($"there is no account {accountAddress}");
        }

        var byThumbprint = !string.IsNullOrWhiteSpace(thumbprint);
        var byIssuer = !string.IsNullOrWhiteSpace(issuer) && !string.IsNullOrWhiteSpace(serialNumber);
        if (byThumbprint == byIssuer)
        {
            return PkiResult.Fail("give either a thumbprint or an issuer and serial number");
        }

        // A SHA-1 thumbprint (what many tools show) would never match: logons are looked up by SHA-256.
        if (byThumbprint && CertificateFacts.NormalizeSerial(thumbprint!) is var hex && (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit)))
        {
            return PkiResult.Fail("the thumbprint must be the certificate's SHA-256 hash (64 hex digits)");
        }

        var now = _clock.GetUtcNow();
        try
        {
            await _store.Database.WriteAsync(w =>
            {
                PkiRepository.InsertMapping(w, byThumbprint ? CertificateFacts.NormalizeSerial(thumbprint!) : null, byIssuer ? issuer!.Trim() : null,
                    byIssuer ? CertificateFacts.NormalizeSerial(serialNumber!) : null, accountAddress, now);
                return true;
            }, cancellationToken);
        }
        catch (System.Data.Common.DbException)
        {
            return PkiResult.Fail("that certificate is already mapped");
        }

        return PkiResult.Ok();
    }

    public async Task<IReadOnlyList<(long Id, string? Thumbprint, string? Issuer, string? SerialNumber, string AccountAddress)>> ListClientMappingsAsync(CancellationToken cancellationToken) =>
        await _repository.ListMappingsAsync(cancellationToken);

    public async Task<PkiResult> RemoveClientMappingAsync(long id, CancellationToken cancellationToken) =>
        await _store.Database.WriteAsync(w => PkiRepository.DeleteMapping(w, id), cancellationToken) ? PkiResult.Ok() : PkiResult.Fail($"no mapping {id}");

    /// <summary>The account a TLS client certificate authenticates, or null (revoked, expired, untrusted or unmapped).</summary>
    public async Task<string?> ResolveClientCertificateAsync(X509Certificate2 certificate, X509Chain? chain, CancellationToken cancellationToken = default) =>
        (await ResolveClientCertificateDetailedAsync(certificate, chain, cancellationToken)).AccountAddress;

    /// <summary>As ResolveClientCertificateAsync, with the reason for a refusal (for logs and the admin console).</summary>
    public async Task<ClientCertificateResolution> ResolveClientCertificateDetailedAsync(X509Certificate2 certificate, X509Chain? chain, CancellationToken cancellationToken = default)
    {
        if (!IsValidNow(certificate, out var why))
        {
            return new ClientCertificateResolution(null, "the certificate " + why);
        }

        var ekus = CertificateFacts.EnhancedKeyUsages(certificate);
        if (ekus is not null && !ekus.Contains(CertificateFacts.ClientAuthOid))
        {
            return new ClientCertificateResolution(null, "the certificate is not for client authentication");
        }

        var stored = await _repository.ListIssuerCertificatesAsync(cancellationToken);
        var presented = chain?.ChainElements.Select(e => e.Certificate).Where(c => !c.RawData.AsSpan().SequenceEqual(certificate.RawData)).ToList() ?? [];
        using (var trust = NewChain(stored, presented))
        {
            if (!trust.Build(certificate))
            {
                return new ClientCertificateResolution(null, "the certificate does not chain to a CA this server trusts (" + ChainProblems(trust) + ")");
            }
        }

        var issued = await _repository.GetIssuedAsync(certificate.SerialNumber, cancellationToken);
        if (issued is { Revoked: not null } && issued.Der.AsSpan().SequenceEqual(certificate.RawData))
        {
            return new ClientCertificateResolution(null, "the certificate was revoked on " + CertificateFacts.Utc(issued.Revoked.Value));
        }

        var thumbprint = CertificateFacts.Thumbprint(certificate);
        var mapped = await _repository.FindMappingAsync(thumbprint, certificate.Issuer, certificate.SerialNumber, cancellationToken);
        var issuedHere = issued is not null && issued.Der.AsSpan().SequenceEqual(certificate.RawData);
        if (mapped is not null && !issuedHere && await Task.Run(() => ExternalRevocationProblem(certificate, stored, presented), cancellationToken) is { } revocation)
        {
            return new ClientCertificateResolution(null, revocation);
        }

        if (mapped is not null)
        {
            var account = await _store.Directory.FindAccountAsync(mapped, cancellationToken);
            return account is { Enabled: true }
                ? new ClientCertificateResolution(account.Address, null)
                : new ClientCertificateResolution(null, $"the certificate is mapped to {mapped}, which does not exist or is disabled");
        }

        // Implicit mapping by rfc822Name only for certificates this CA issued: an imported root (trusted for some
        // server's chain) must not thereby be able to name any account and log in as it.
        foreach (var email in issuedHere ? CertificateFacts.EmailAddresses(CertificateFacts.SubjectAlternativeNames(certificate)) : [])
        {
            var account = await _store.Directory.FindAccountAsync(email, cancellationToken);
            if (account is { Enabled: true })
            {
                return new ClientCertificateResolution(account.Address, null);
            }
        }

        return new ClientCertificateResolution(null, issuedHere
            ? "the certificate is not mapped to an account and names no account's e-mail address"
            : "the certificate is not mapped to an account (only certificates from the built-in CA are mapped by their e-mail address)");
    }

    /// <summary>
    /// Revocation of a user certificate another CA issued (one the administrator mapped): checked against that CA's
    /// CRL, fetched from the certificate's CRL distribution point as IIS does for client certificates (ours are checked
    /// in the issuance log). Fails closed, as Dovecot's ssl_require_crl: a certificate naming a CRL that cannot be had
    /// is refused. Blocks while the CRL is fetched, so it runs on the pool.
    /// </summary>
    private string? ExternalRevocationProblem(X509Certificate2 certificate, IEnumerable<StoredCertificate> stored, IEnumerable<X509Certificate2> presented)
    {
        using var chain = NewChain(stored, presented);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.Online;
        chain.ChainPolicy.RevocationFlag = X509RevocationFlag.EndCertificateOnly;
        chain.ChainPolicy.UrlRetrievalTimeout = _options.ExternalCrlTimeout;
        chain.Build(certificate);
        var status = chain.ChainElements.Count == 0 ? X509ChainStatusFlags.RevocationStatusUnknown
            : chain.ChainElements[0].ChainElementStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        if (status.HasFlag(X509ChainStatusFlags.Revoked))
        {
            return "the certificate was revoked by its issuer (its CRL lists it)";
        }

        var namesCrl = certificate.Extensions.OfType<X509Extension>().Any(e => e.Oid?.Value == CrlDistributionPointsOid);
        if ((status & (X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation)) != 0 && namesCrl)
        {
            return "the certificate's revocation could not be checked: the CRL its distribution point names could not be fetched or verified";
        }

        return null;
    }

    private const string CrlDistributionPointsOid = "2.5.29.31";

    // ------------------------------------------------------------------ expiry and renewal

    /// <summary>Certificates in use (assigned to a virtual server, or the CA's) that expire within the given days, and the CRL's next update.</summary>
    public async Task<ExpiryReport> CheckExpiryAsync(int withinDays, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var limit = now.AddDays(withinDays);
        var assignments = await _repository.ListAssignmentsAsync(cancellationToken);
        var ca = await _repository.GetCaAsync(cancellationToken);
        var inUse = assignments.Select(a => a.CertificateId).ToHashSet();
        if (ca?.CertificateId is { } caId)
        {
            inUse.Add(caId);
        }

        var expiring = (await _repository.ListCertificatesAsync(cancellationToken))
            .Where(c => inUse.Contains(c.Id) && c.NotAfter <= limit)
            .OrderBy(c => c.NotAfter)
            .Select(c => new ExpiringCertificate(c.Thumbprint, c.FriendlyName, c.Subject, c.Kind, c.NotAfter,
                assignments.Where(a => a.CertificateId == c.Id).Select(a => a.VirtualServerId).ToList(), c.NotAfter < now))
            .ToList();
        var crl = ca?.CertificateId is { } current ? await _repository.GetLatestCrlAsync(current, cancellationToken) : null;
        var crlNext = crl?.NextUpdate;
        var crlStale = ca?.CertificateId is not null && (crl is null || crl.Value.NextUpdate - now < _options.CrlValidity / 2);
        return new ExpiryReport(expiring, crlNext, crlStale);
    }

    /// <summary>
    /// Renews every server certificate in use that the built-in CA issued and that expires within the renewal window
    /// (new key, same names), swapping it in on every virtual server that used it. Also refreshes a CRL past half its life.
    /// </summary>
    public async Task<IReadOnlyList<RenewalOutcome>> AutoRenewAsync(CancellationToken cancellationToken)
    {
        var outcomes = new List<RenewalOutcome>();
        var now = _clock.GetUtcNow();
        var limit = now.AddDays(_options.RenewalWindowDays);
        var assignments = await _repository.ListAssignmentsAsync(cancellationToken);
        var inUse = assignments.Select(a => a.CertificateId).ToHashSet();
        var caEnds = (await GetCaInfoAsync(cancellationToken))?.NotAfter;
        foreach (var row in (await _repository.ListCertificatesAsync(cancellationToken)).Where(c => inUse.Contains(c.Id) && c.Kind == CertificateKind.Server && c.NotAfter <= limit))
        {
            // A new certificate ends with the CA at the latest (CaSigner caps it): when this one already does, renewing
            // gains nothing and would repeat at every watch. The CA's own expiry is what the expiry warning reports.
            if (caEnds is { } end && row.NotAfter >= end - TimeSpan.FromSeconds(1))
            {
                continue;
            }

            var issued = await _repository.GetIssuedAsync(row.Serial, cancellationToken);
            if (issued is null || !issued.Der.AsSpan().SequenceEqual(row.Der) || issued.Revoked is not null)
            {
                continue;
            }

            var servers = assignments.Where(a => a.CertificateId == row.Id).Select(a => a.VirtualServerId).ToList();
            await _gate.WaitAsync(cancellationToken);
            PkiResult<InstalledCertificateSummary> result;
            try
            {
                result = await RenewCoreAsync(row, servers[0], cancellationToken);
                foreach (var server in servers)
                {
                    await AuditAsync(server, CertificateWizardAction.Renew, CertificateWizardState.Installed, CertificateWizardState.Installed,
                        result.Succeeded ? "ok" : "refused", "automatic renewal: " + (result.Succeeded ? Detail(result.Value) : result.Error), cancellationToken);
                }
            }
            catch (CryptographicException ex)
            {
                result = PkiResult<InstalledCertificateSummary>.Fail(ex.Message);
            }
            finally
            {
                _gate.Release();
            }

            if (!result.Succeeded)
            {
                _logger?.AutomaticRenewalFailed(row.Thumbprint, result.Error);
            }

            outcomes.Add(new RenewalOutcome(row.Thumbprint, result.Value?.Thumbprint, servers, result.Error));
        }

        if ((await CheckExpiryAsync(0, cancellationToken)).CrlNeedsRefresh)
        {
            await BuildCrlAsync(cancellationToken);
        }

        return outcomes;
    }
}
