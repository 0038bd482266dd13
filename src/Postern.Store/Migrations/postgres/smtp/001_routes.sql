-- PostgreSQL schema: the SQLite migrations up to smtp/003 in one step.
CREATE TABLE smtp_routes (
    domain TEXT NOT NULL PRIMARY KEY COLLATE nocase,
    host TEXT NOT NULL,
    port BIGINT NOT NULL DEFAULT 25,
    tls_mode TEXT NOT NULL DEFAULT 'opportunistic' CHECK (tls_mode IN ('opportunistic', 'required', 'none')),
    verify BIGINT NOT NULL DEFAULT 0,
    username TEXT,
    password TEXT,
    password_sealed BYTEA
);

-- Queue entries whose sender already got a "delayed" DSN (RFC 3464 Action: delayed), so it is sent once.
CREATE TABLE smtp_delay_notices (
    queue_id BIGINT NOT NULL PRIMARY KEY REFERENCES queue(id) ON DELETE CASCADE,
    sent BIGINT NOT NULL
);
