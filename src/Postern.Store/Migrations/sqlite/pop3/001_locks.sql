-- RFC 1939 §8: the maildrop is locked while a POP3 session is in TRANSACTION state.
-- The row is the lock, so it holds across processes sharing the database; a holder refreshes
-- "expires" while alive, and a crashed holder's row lapses by itself.
CREATE TABLE pop3_locks (
    mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    session INTEGER NOT NULL,
    acquired INTEGER NOT NULL,
    expires INTEGER NOT NULL
);

CREATE INDEX pop3_locks_by_owner ON pop3_locks (owner);
