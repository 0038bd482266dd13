-- Per-domain SMTP routes (the article's SMTP connector / smart host). domain '*' is the default smart host.
CREATE TABLE smtp_routes (
    domain TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    host TEXT NOT NULL,
    port INTEGER NOT NULL DEFAULT 25,
    tls_mode TEXT NOT NULL DEFAULT 'opportunistic' CHECK (tls_mode IN ('opportunistic', 'required', 'none')),
    verify INTEGER NOT NULL DEFAULT 0,
    username TEXT,
    password TEXT
);
