-- DKIM (RFC 6376) signing keys, one per mail domain (as sqlite/smtp/004).
CREATE TABLE dkim_keys (
    domain TEXT NOT NULL PRIMARY KEY COLLATE nocase,
    selector TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key_sealed BYTEA NOT NULL,
    created BIGINT NOT NULL
);
