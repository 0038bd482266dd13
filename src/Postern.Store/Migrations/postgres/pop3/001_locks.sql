-- RFC 1939 §8: the maildrop is locked while a POP3 session is in TRANSACTION state; the row is the lock, so it holds
-- across the nodes sharing the database.
CREATE TABLE pop3_locks (
    mailbox_id BIGINT PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    session BIGINT NOT NULL,
    acquired BIGINT NOT NULL,
    expires BIGINT NOT NULL
);

CREATE INDEX pop3_locks_by_owner ON pop3_locks (owner);
