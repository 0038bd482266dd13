-- STATUS (MESSAGES, UNSEEN, SIZE, DELETED) and the quota's usage sum these columns over a mailbox's messages: with them
-- in one index the sum can be an index-only scan, not a read of every message row.
CREATE INDEX messages_status ON messages (mailbox_id, flags, size);
