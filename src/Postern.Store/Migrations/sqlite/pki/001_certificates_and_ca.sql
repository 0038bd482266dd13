-- Certificates known to this server. private_key is PKCS#8 encrypted by the PKI's KeyProtector
-- (AES-256-GCM under keys/master.key, which never enters the database); NULL for CA-only and trust anchors.
CREATE TABLE pki_certificates (
    id INTEGER PRIMARY KEY,
    thumbprint TEXT NOT NULL UNIQUE,            -- SHA-256 of the DER, upper-case hex
    kind TEXT NOT NULL,                         -- server | client | ca | trusted-root | intermediate
    friendly_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,                       -- upper-case hex, as X509Certificate2.SerialNumber
    sans TEXT NOT NULL,                         -- newline-separated "dns:x", "ip:x", "email:x"
    ekus TEXT NOT NULL,                         -- comma-separated OIDs; empty when the extension is absent
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    der BLOB NOT NULL,
    private_key BLOB,
    created INTEGER NOT NULL
);

CREATE INDEX pki_certificates_issuer_serial ON pki_certificates (issuer, serial);

-- Certificate <-> virtual server; several per virtual server for SNI, at most one default.
CREATE TABLE pki_assignments (
    virtual_server_id INTEGER NOT NULL REFERENCES virtual_servers (id) ON DELETE CASCADE,
    certificate_id INTEGER NOT NULL REFERENCES pki_certificates (id) ON DELETE CASCADE,
    is_default INTEGER NOT NULL,
    assigned INTEGER NOT NULL,
    PRIMARY KEY (virtual_server_id, certificate_id)
);

CREATE UNIQUE INDEX pki_assignments_one_default ON pki_assignments (virtual_server_id) WHERE is_default = 1;

-- The organization's CA: one row. certificate_id is NULL only while a subordinate CA awaits its certificate.
CREATE TABLE pki_ca (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    certificate_id INTEGER REFERENCES pki_certificates (id),
    kind TEXT NOT NULL,                         -- root | subordinate
    mode TEXT NOT NULL,                         -- enterprise | standalone
    next_serial INTEGER NOT NULL,
    crl_number INTEGER NOT NULL,
    pending_request TEXT,                       -- subordinate CA's own PKCS#10 awaiting the external root
    pending_key BLOB,                           -- its encrypted key
    created INTEGER NOT NULL
);

-- Every certificate the built-in CA signed.
CREATE TABLE pki_issued (
    serial TEXT PRIMARY KEY,
    ca_certificate_id INTEGER NOT NULL REFERENCES pki_certificates (id),
    profile TEXT NOT NULL,                      -- server | client | subordinate
    subject TEXT NOT NULL,
    sans TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    der BLOB NOT NULL,
    issued INTEGER NOT NULL,
    requester TEXT
);

CREATE TABLE pki_revocations (
    serial TEXT PRIMARY KEY REFERENCES pki_issued (serial),
    reason INTEGER NOT NULL,                    -- RFC 5280 §5.3.1 CRLReason
    revoked INTEGER NOT NULL
);

CREATE TABLE pki_crls (
    crl_number INTEGER PRIMARY KEY,
    ca_certificate_id INTEGER NOT NULL REFERENCES pki_certificates (id),
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der BLOB NOT NULL
);

-- Requests held at a standalone CA until an administrator approves or denies them.
CREATE TABLE pki_ca_requests (
    id INTEGER PRIMARY KEY,
    csr_pem TEXT NOT NULL,
    profile TEXT NOT NULL,
    subject TEXT NOT NULL,
    requester TEXT,
    status TEXT NOT NULL,                       -- pending | issued | denied
    submitted INTEGER NOT NULL,
    decided INTEGER,
    serial TEXT,
    reason TEXT
);

-- The wizard's pending request per virtual server (state PendingRequest while a row exists).
CREATE TABLE pki_wizard_requests (
    virtual_server_id INTEGER PRIMARY KEY REFERENCES virtual_servers (id) ON DELETE CASCADE,
    friendly_name TEXT NOT NULL,
    key_algorithm TEXT NOT NULL,
    subject TEXT NOT NULL,
    common_name TEXT NOT NULL,
    sans TEXT NOT NULL,
    csr_pem TEXT NOT NULL,
    private_key BLOB NOT NULL,
    ca_request_id INTEGER REFERENCES pki_ca_requests (id),
    created INTEGER NOT NULL
);

-- Audit trail of wizard steps, kept after the virtual server is gone.
CREATE TABLE pki_wizard_audit (
    id INTEGER PRIMARY KEY,
    virtual_server_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    step TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    outcome TEXT NOT NULL,                      -- ok | refused
    detail TEXT
);

CREATE INDEX pki_wizard_audit_vs ON pki_wizard_audit (virtual_server_id, id);

-- Explicit user-certificate mappings: by thumbprint, or by issuer + serial (survives re-encoding).
CREATE TABLE pki_client_mappings (
    id INTEGER PRIMARY KEY,
    thumbprint TEXT UNIQUE,
    issuer TEXT,
    serial TEXT,
    account_address TEXT NOT NULL COLLATE NOCASE,
    created INTEGER NOT NULL,
    UNIQUE (issuer, serial)
);
