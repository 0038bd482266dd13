-- RFC 3501 §6.3.6: the subscription list is a list of names, not a property of mailboxes. A name stays subscribed when
-- its mailbox is deleted (the server MUST NOT remove it unilaterally), and a name may be subscribed before it exists.
CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

INSERT OR IGNORE INTO subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE subscribed = 1;

ALTER TABLE mailboxes DROP COLUMN subscribed;
