-- DKIM (RFC 6376) signing keys, one per mail domain: mail submitted by an authenticated user from that domain is
-- signed with it. The private key is sealed with the PKI's key-encryption key (Postern.Pki.SecretProtector).
CREATE TABLE dkim_keys (
    domain TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    selector TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key_sealed BLOB NOT NULL,
    created INTEGER NOT NULL
);
