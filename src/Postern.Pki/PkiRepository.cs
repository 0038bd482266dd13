using System.Data.Common;
using System.Security.Cryptography.X509Certificates;
using Postern.Store;

namespace Postern.Pki;

internal sealed record StoredCertificate(
    long Id,
    string Thumbprint,
    CertificateKind Kind,
    string FriendlyName,
    string Subject,
    string Issuer,
    string Serial,
    IReadOnlyList<string> Sans,
    IReadOnlyList<string> Ekus,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    byte[] Der,
    byte[]? ProtectedKey)
{
    public X509Certificate2 Load() => X509CertificateLoader.LoadCertificate(Der);
}

internal sealed record Assignment(long VirtualServerId, long CertificateId, bool IsDefault);

internal sealed record CaRow(long? CertificateId, string Kind, CaMode Mode, long NextSerial, long CrlNumber, string? PendingRequest, byte[]? PendingKey);

internal sealed record IssuedRow(string Serial, long CaCertificateId, string Profile, string Subject, IReadOnlyList<string> Sans, DateTimeOffset NotBefore, DateTimeOffset NotAfter, byte[] Der, DateTimeOffset Issued, string? Requester, int? RevocationReason, DateTimeOffset? Revoked);

internal sealed record WizardRequestRow(long VirtualServerId, string FriendlyName, string KeyAlgorithm, string Subject, string CommonName, IReadOnlyList<string> Sans, string CsrPem, byte[] ProtectedKey, long? CaRequestId, DateTimeOffset Created);

internal sealed record CaRequestRow(long Id, string CsrPem, string Profile, string Subject, string? Requester, string Status, DateTimeOffset Submitted, DateTimeOffset? Decided, string? Serial, string? Reason);

internal sealed record WizardAuditRow(long Id, long VirtualServerId, DateTimeOffset At, string Step, string FromState, string ToState, string Outcome, string? Detail);

/// <summary>The PKI's tables (migration pki/001). Reads are async; writes take a WriteContext so callers compose one transaction.</summary>
internal sealed class PkiRepository(IDatabase database)
{
    private const string CertificateColumns = "id, thumbprint, kind, friendly_name, subject, issuer, serial, sans, ekus, not_before, not_after, der, private_key";

    public IDatabase Database => database;

    // ---- certificates

    public Task<StoredCertificate?> FindCertificateAsync(string thumbprint, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {CertificateColumns} FROM pki_certificates WHERE thumbprint = @t", ("@t", thumbprint.ToUpperInvariant())).QuerySingle(MapCertificate), cancellationToken);

    public Task<StoredCertificate?> GetCertificateAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {CertificateColumns} FROM pki_certificates WHERE id = @id", ("@id", id)).QuerySingle(MapCertificate), cancellationToken);

    public Task<List<StoredCertificate>> ListCertificatesAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {CertificateColumns} FROM pki_certificates ORDER BY id").Query(MapCertificate), cancellationToken);

    public Task<List<StoredCertificate>> ListCertificatesAsync(CertificateKind kind, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {CertificateColumns} FROM pki_certificates WHERE kind = @k ORDER BY id", ("@k", CertificateKinds.Name(kind))).Query(MapCertificate), cancellationToken);

    /// <summary>The few certificates chains are built from: the CA's, imported roots, intermediates.</summary>
    public Task<List<StoredCertificate>> ListIssuerCertificatesAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand($"SELECT {CertificateColumns} FROM pki_certificates WHERE kind IN ('ca', 'trusted-root', 'intermediate') ORDER BY id").Query(MapCertificate), cancellationToken);

    /// <summary>Inserts a certificate, or returns the existing row's id (adding the key if the row had none).</summary>
    public static long UpsertCertificate(WriteContext w, X509Certificate2 certificate, CertificateKind kind, string friendlyName, byte[]? protectedKey, DateTimeOffset now)
    {
        var thumbprint = CertificateFacts.Thumbprint(certificate);
        var existing = w.Command("SELECT id FROM pki_certificates WHERE thumbprint = @t", ("@t", thumbprint)).Scalar<long?>();
        if (existing is { } id)
        {
            if (protectedKey is not null)
            {
                w.Command("UPDATE pki_certificates SET private_key = @k WHERE id = @id AND private_key IS NULL", ("@k", protectedKey), ("@id", id)).Execute();
            }

            return id;
        }

        var ekus = CertificateFacts.EnhancedKeyUsages(certificate) ?? [];
        return w.Command(
            "INSERT INTO pki_certificates (thumbprint, kind, friendly_name, subject, issuer, serial, sans, ekus, not_before, not_after, der, private_key, created) " +
            "VALUES (@t, @k, @f, @s, @i, @n, @sans, @e, @nb, @na, @der, @key, @c) RETURNING id",
            ("@t", thumbprint), ("@k", CertificateKinds.Name(kind)), ("@f", friendlyName), ("@s", certificate.Subject), ("@i", certificate.Issuer),
            ("@n", certificate.SerialNumber), ("@sans", string.Join('\n', CertificateFacts.SubjectAlternativeNames(certificate))), ("@e", string.Join(',', ekus)),
            ("@nb", new DateTimeOffset(certificate.NotBefore.ToUniversalTime()).ToUnixTimeMilliseconds()),
            ("@na", new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeMilliseconds()),
            ("@der", certificate.RawData), ("@key", protectedKey), ("@c", now.ToUnixTimeMilliseconds())).Scalar<long>();
    }

    public static bool DeleteCertificate(WriteContext w, long id) =>
        w.Command("DELETE FROM pki_certificates WHERE id = @id AND id NOT IN (SELECT certificate_id FROM pki_ca WHERE certificate_id IS NOT NULL) AND id NOT IN (SELECT ca_certificate_id FROM pki_issued)", ("@id", id)).Execute() > 0;

    // ---- assignments

    public Task<List<Assignment>> ListAssignmentsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT virtual_server_id, certificate_id, is_default FROM pki_assignments ORDER BY virtual_server_id, is_default DESC, assigned").Query(MapAssignment), cancellationToken);

    public Task<List<Assignment>> ListAssignmentsAsync(long virtualServerId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT virtual_server_id, certificate_id, is_default FROM pki_assignments WHERE virtual_server_id = @v ORDER BY is_default DESC, assigned", ("@v", virtualServerId)).Query(MapAssignment), cancellationToken);

    public static void Assign(WriteContext w, long virtualServerId, long certificateId, bool makeDefault, DateTimeOffset now)
    {
        var hasDefault = w.Command("SELECT COUNT(*) FROM pki_assignments WHERE virtual_server_id = @v AND is_default = 1 AND certificate_id <> @c", ("@v", virtualServerId), ("@c", certificateId)).Scalar<long>() > 0;
        var isDefault = makeDefault || !hasDefault;
        if (isDefault)
        {
            w.Command("UPDATE pki_assignments SET is_default = 0 WHERE virtual_server_id = @v", ("@v", virtualServerId)).Execute();
        }

        w.Command("INSERT INTO pki_assignments (virtual_server_id, certificate_id, is_default, assigned) VALUES (@v, @c, @d, @t) " +
                  "ON CONFLICT (virtual_server_id, certificate_id) DO UPDATE SET is_default = excluded.is_default",
            ("@v", virtualServerId), ("@c", certificateId), ("@d", isDefault ? 1 : 0), ("@t", now.ToUnixTimeMilliseconds())).Execute();
        ConfigurationVersion.Bump(w);
    }

    /// <summary>Removes one assignment; if it was the default, the oldest remaining one becomes the default.</summary>
    public static bool Unassign(WriteContext w, long virtualServerId, long certificateId)
    {
        var removed = w.Command("DELETE FROM pki_assignments WHERE virtual_server_id = @v AND certificate_id = @c", ("@v", virtualServerId), ("@c", certificateId)).Execute() > 0;
        if (removed && w.Command("SELECT COUNT(*) FROM pki_assignments WHERE virtual_server_id = @v AND is_default = 1", ("@v", virtualServerId)).Scalar<long>() == 0)
        {
            w.Command("UPDATE pki_assignments SET is_default = 1 WHERE virtual_server_id = @v AND certificate_id = (SELECT certificate_id FROM pki_assignments WHERE virtual_server_id = @v ORDER BY assigned LIMIT 1)", ("@v", virtualServerId)).Execute();
        }

        ConfigurationVersion.Bump(w);
        return removed;
    }

    /// <summary>Puts a new certificate wherever an old one was assigned, keeping the default flag (renewal, replacement).</summary>
    public static List<long> Replace(WriteContext w, long oldCertificateId, long newCertificateId)
    {
        var servers = w.Command("SELECT virtual_server_id FROM pki_assignments WHERE certificate_id = @o", ("@o", oldCertificateId)).Query(r => r.GetInt64(0));
        foreach (var server in servers)
        {
            w.Command("DELETE FROM pki_assignments WHERE virtual_server_id = @v AND certificate_id = @n", ("@v", server), ("@n", newCertificateId)).Execute();
            w.Command("UPDATE pki_assignments SET certificate_id = @n WHERE virtual_server_id = @v AND certificate_id = @o", ("@v", server), ("@n", newCertificateId), ("@o", oldCertificateId)).Execute();
        }

        ConfigurationVersion.Bump(w);
        return servers;
    }

    // ---- CA

    public Task<CaRow?> GetCaAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => GetCa(c, null), cancellationToken);

    public static CaRow? GetCa(WriteContext w) => GetCa(w.Connection, w.Transaction);

    private static CaRow? GetCa(DbConnection connection, DbTransaction? transaction)
    {
        var command = connection.CreateCommand("SELECT certificate_id, kind, mode, next_serial, crl_number, pending_request, pending_key FROM pki_ca WHERE id = 1");
        command.Transaction = transaction;
        return command.QuerySingle(r => new CaRow(
            r.IsDBNull(0) ? null : r.GetInt64(0), r.GetString(1), CertificateKinds.ParseMode(r.GetString(2)), r.GetInt64(3), r.GetInt64(4),
            r.GetNullableString(5), r.IsDBNull(6) ? null : (byte[])r[6]));
    }

    public static void InsertCa(WriteContext w, long certificateId, string kind, CaMode mode, DateTimeOffset now) =>
        w.Command("INSERT INTO pki_ca (id, certificate_id, kind, mode, next_serial, crl_number, created) VALUES (1, @c, @k, @m, 1, 1, @t)",
            ("@c", certificateId), ("@k", kind), ("@m", CertificateKinds.ModeName(mode)), ("@t", now.ToUnixTimeMilliseconds())).Execute();

    /// <summary>Keeps a subordinate CA request (and its encrypted key) beside the current CA, which goes on issuing meanwhile.</summary>
    public static void SetPendingSubordinate(WriteContext w, string requestPem, byte[] protectedKey, CaMode mode, DateTimeOffset now)
    {
        w.Command("INSERT INTO pki_ca (id, certificate_id, kind, mode, next_serial, crl_number, created) VALUES (1, NULL, 'subordinate', @m, 1, 1, @t) ON CONFLICT (id) DO NOTHING",
            ("@m", CertificateKinds.ModeName(mode)), ("@t", now.ToUnixTimeMilliseconds())).Execute();
        w.Command("UPDATE pki_ca SET pending_request = @r, pending_key = @k WHERE id = 1", ("@r", requestPem), ("@k", protectedKey)).Execute();
    }

    public static void ActivateSubordinate(WriteContext w, long certificateId) =>
        w.Command("UPDATE pki_ca SET certificate_id = @c, kind = 'subordinate', pending_request = NULL, pending_key = NULL WHERE id = 1", ("@c", certificateId)).Execute();

    /// <summary>Takes the next serial counter value atomically (gaps after a failed signing are harmless).</summary>
    public static long AllocateSerial(WriteContext w) =>
        w.Command("UPDATE pki_ca SET next_serial = next_serial + 1 WHERE id = 1 RETURNING next_serial - 1").Scalar<long>();

    public static long AllocateCrlNumber(WriteContext w) =>
        w.Command("UPDATE pki_ca SET crl_number = crl_number + 1 WHERE id = 1 RETURNING crl_number - 1").Scalar<long>();

    // ---- issuance, revocation, CRLs

    public static void InsertIssued(WriteContext w, X509Certificate2 certificate, long caCertificateId, string profile, string? requester, DateTimeOffset now) =>
        w.Command("INSERT INTO pki_issued (serial, ca_certificate_id, profile, subject, sans, not_before, not_after, der, issued, requester) VALUES (@s, @ca, @p, @sub, @sans, @nb, @na, @der, @t, @r)",
            ("@s", certificate.SerialNumber), ("@ca", caCertificateId), ("@p", profile), ("@sub", certificate.Subject),
            ("@sans", string.Join('\n', CertificateFacts.SubjectAlternativeNames(certificate))),
            ("@nb", new DateTimeOffset(certificate.NotBefore.ToUniversalTime()).ToUnixTimeMilliseconds()),
            ("@na", new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeMilliseconds()),
            ("@der", certificate.RawData), ("@t", now.ToUnixTimeMilliseconds()), ("@r", requester)).Execute();

    private const string IssuedSelect = "SELECT i.serial, i.ca_certificate_id, i.profile, i.subject, i.sans, i.not_before, i.not_after, i.der, i.issued, i.requester, r.reason, r.revoked FROM pki_issued i LEFT JOIN pki_revocations r ON r.serial = i.serial";

    public Task<List<IssuedRow>> ListIssuedAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand(IssuedSelect + " ORDER BY i.issued, i.serial").Query(MapIssued), cancellationToken);

    public Task<IssuedRow?> GetIssuedAsync(string serial, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand(IssuedSelect + " WHERE i.serial = @s", ("@s", serial)).QuerySingle(MapIssued), cancellationToken);

    public static bool InsertRevocation(WriteContext w, string serial, int reason, DateTimeOffset now) =>
        w.Command("INSERT INTO pki_revocations (serial, reason, revoked) VALUES (@s, @r, @t) ON CONFLICT (serial) DO NOTHING",
            ("@s", serial), ("@r", reason), ("@t", now.ToUnixTimeMilliseconds())).Execute() > 0;

    public Task<List<(string Serial, int Reason, DateTimeOffset Revoked)>> ListRevocationsAsync(long caCertificateId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT r.serial, r.reason, r.revoked FROM pki_revocations r JOIN pki_issued i ON i.serial = r.serial WHERE i.ca_certificate_id = @ca ORDER BY r.revoked", ("@ca", caCertificateId))
            .Query(r => (r.GetString(0), r.GetInt32(1), r.GetUnixMilliseconds(2))), cancellationToken);

    /// <summary>SHA-256 thumbprints of every certificate the built-in CA issued and then revoked.</summary>
    public Task<HashSet<string>> ListRevokedThumbprintsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT i.der FROM pki_revocations r JOIN pki_issued i ON i.serial = r.serial")
            .Query(r => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData((byte[])r[0]))).ToHashSet(StringComparer.Ordinal), cancellationToken);

    public static void InsertCrl(WriteContext w, long number, long caCertificateId, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, byte[] der) =>
        w.Command("INSERT INTO pki_crls (crl_number, ca_certificate_id, this_update, next_update, der) VALUES (@n, @ca, @t, @nu, @d)",
            ("@n", number), ("@ca", caCertificateId), ("@t", thisUpdate.ToUnixTimeMilliseconds()), ("@nu", nextUpdate.ToUnixTimeMilliseconds()), ("@d", der)).Execute();

    /// <summary>The latest CRL a CA (by its certificate) signed.</summary>
    public Task<(long Number, long CaCertificateId, DateTimeOffset NextUpdate, byte[] Der)?> GetLatestCrlAsync(long caCertificateId, CancellationToken cancellationToken) =>
        database.ReadAsync(c =>
        {
            using var command = c.CreateCommand("SELECT crl_number, ca_certificate_id, next_update, der FROM pki_crls WHERE ca_certificate_id = @ca ORDER BY crl_number DESC LIMIT 1", ("@ca", caCertificateId));
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetUnixMilliseconds(2), (byte[])reader[3]) : ((long, long, DateTimeOffset, byte[])?)null;
        }, cancellationToken);

    // ---- requests held at a standalone CA

    public static long InsertCaRequest(WriteContext w, string csrPem, string profile, string subject, string? requester, DateTimeOffset now) =>
        w.Command("INSERT INTO pki_ca_requests (csr_pem, profile, subject, requester, status, submitted) VALUES (@c, @p, @s, @r, 'pending', @t) RETURNING id",
            ("@c", csrPem), ("@p", profile), ("@s", subject), ("@r", requester), ("@t", now.ToUnixTimeMilliseconds())).Scalar<long>();

    private const string CaRequestSelect = "SELECT id, csr_pem, profile, subject, requester, status, submitted, decided, serial, reason FROM pki_ca_requests";

    public Task<List<CaRequestRow>> ListCaRequestsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand(CaRequestSelect + " ORDER BY id").Query(MapCaRequest), cancellationToken);

    public Task<CaRequestRow?> GetCaRequestAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand(CaRequestSelect + " WHERE id = @id", ("@id", id)).QuerySingle(MapCaRequest), cancellationToken);

    /// <summary>Decides a pending request once; false when it was already decided.</summary>
    public static bool DecideCaRequest(WriteContext w, long id, string status, string? serial, string? reason, DateTimeOffset now) =>
        w.Command("UPDATE pki_ca_requests SET status = @st, serial = @s, reason = @r, decided = @t WHERE id = @id AND status = 'pending'",
            ("@st", status), ("@s", serial), ("@r", reason), ("@t", now.ToUnixTimeMilliseconds()), ("@id", id)).Execute() > 0;

    // ---- wizard

    private const string WizardSelect = "SELECT virtual_server_id, friendly_name, key_algorithm, subject, common_name, sans, csr_pem, private_key, ca_request_id, created FROM pki_wizard_requests";

    public Task<WizardRequestRow?> GetWizardRequestAsync(long virtualServerId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand(WizardSelect + " WHERE virtual_server_id = @v", ("@v", virtualServerId)).QuerySingle(MapWizard), cancellationToken);

    public Task<WizardRequestRow?> FindWizardRequestByCaRequestAsync(long caRequestId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand(WizardSelect + " WHERE ca_request_id = @r", ("@r", caRequestId)).QuerySingle(MapWizard), cancellationToken);

    public static void SaveWizardRequest(WriteContext w, WizardRequestRow row) =>
        w.Command("INSERT INTO pki_wizard_requests (virtual_server_id, friendly_name, key_algorithm, subject, common_name, sans, csr_pem, private_key, ca_request_id, created) " +
                  "VALUES (@v, @f, @k, @s, @cn, @sans, @csr, @key, @ca, @t)",
            ("@v", row.VirtualServerId), ("@f", row.FriendlyName), ("@k", row.KeyAlgorithm), ("@s", row.Subject), ("@cn", row.CommonName),
            ("@sans", string.Join('\n', row.Sans)), ("@csr", row.CsrPem), ("@key", row.ProtectedKey), ("@ca", row.CaRequestId), ("@t", row.Created.ToUnixTimeMilliseconds())).Execute();

    public static bool DeleteWizardRequest(WriteContext w, long virtualServerId) =>
        w.Command("DELETE FROM pki_wizard_requests WHERE virtual_server_id = @v", ("@v", virtualServerId)).Execute() > 0;

    public static void Audit(WriteContext w, long virtualServerId, string step, string fromState, string toState, string outcome, string? detail, DateTimeOffset now) =>
        w.Command("INSERT INTO pki_wizard_audit (virtual_server_id, at, step, from_state, to_state, outcome, detail) VALUES (@v, @t, @s, @f, @to, @o, @d)",
            ("@v", virtualServerId), ("@t", now.ToUnixTimeMilliseconds()), ("@s", step), ("@f", fromState), ("@to", toState), ("@o", outcome), ("@d", detail)).Execute();

    public Task<List<WizardAuditRow>> ListAuditAsync(long virtualServerId, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT id, virtual_server_id, at, step, from_state, to_state, outcome, detail FROM pki_wizard_audit WHERE virtual_server_id = @v ORDER BY id", ("@v", virtualServerId))
            .Query(r => new WizardAuditRow(r.GetInt64(0), r.GetInt64(1), r.GetUnixMilliseconds(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetNullableString(7))), cancellationToken);

    // ---- user certificate mappings

    public static void InsertMapping(WriteContext w, string? thumbprint, string? issuer, string? serial, string address, DateTimeOffset now) =>
        w.Command("INSERT INTO pki_client_mappings (thumbprint, issuer, serial, account_address, created) VALUES (@t, @i, @s, @a, @c)",
            ("@t", thumbprint), ("@i", issuer), ("@s", serial), ("@a", address), ("@c", now.ToUnixTimeMilliseconds())).Execute();

    public static bool DeleteMapping(WriteContext w, long id) =>
        w.Command("DELETE FROM pki_client_mappings WHERE id = @id", ("@id", id)).Execute() > 0;

    public Task<List<(long Id, string? Thumbprint, string? Issuer, string? Serial, string Address)>> ListMappingsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT id, thumbprint, issuer, serial, account_address FROM pki_client_mappings ORDER BY id")
            .Query(r => (r.GetInt64(0), r.GetNullableString(1), r.GetNullableString(2), r.GetNullableString(3), r.GetString(4))), cancellationToken);

    public Task<string?> FindMappingAsync(string thumbprint, string issuer, string serial, CancellationToken cancellationToken) =>
        database.ReadAsync(c => c.CreateCommand("SELECT account_address FROM pki_client_mappings WHERE thumbprint = @t OR (issuer = @i AND serial = @s) ORDER BY thumbprint IS NULL LIMIT 1",
            ("@t", thumbprint), ("@i", issuer), ("@s", serial)).Scalar<string>(), cancellationToken);

    // ---- mapping rows

    private static List<string> Lines(string text) => text.Length == 0 ? [] : [.. text.Split('\n')];

    private static StoredCertificate MapCertificate(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), CertificateKinds.Parse(r.GetString(2)), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
        Lines(r.GetString(7)), r.GetString(8).Length == 0 ? [] : r.GetString(8).Split(','), r.GetUnixMilliseconds(9), r.GetUnixMilliseconds(10),
        (byte[])r[11], r.IsDBNull(12) ? null : (byte[])r[12]);

    private static Assignment MapAssignment(DbDataReader r) => new(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2) != 0);

    private static IssuedRow MapIssued(DbDataReader r) => new(
        r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3), Lines(r.GetString(4)), r.GetUnixMilliseconds(5), r.GetUnixMilliseconds(6),
        (byte[])r[7], r.GetUnixMilliseconds(8), r.GetNullableString(9), r.IsDBNull(10) ? null : r.GetInt32(10), r.IsDBNull(11) ? null : r.GetUnixMilliseconds(11));

    private static CaRequestRow MapCaRequest(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetNullableString(4), r.GetString(5), r.GetUnixMilliseconds(6),
        r.IsDBNull(7) ? null : r.GetUnixMilliseconds(7), r.GetNullableString(8), r.GetNullableString(9));

    private static WizardRequestRow MapWizard(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), Lines(r.GetString(5)), r.GetString(6), (byte[])r[7],
        r.IsDBNull(8) ? null : r.GetInt64(8), r.GetUnixMilliseconds(9));
}
