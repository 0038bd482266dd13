-- Every keyword ever set in a mailbox, listed in SELECT's FLAGS even once no message carries it (as Dovecot keeps them in
-- its index): a client that saw a keyword in FLAGS must not see it vanish and later be "created" again.
ALTER TABLE mailboxes ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
