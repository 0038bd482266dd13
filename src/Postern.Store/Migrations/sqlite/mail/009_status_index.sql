-- STATUS (MESSAGES, UNSEEN, SIZE, DELETED) and the quota's usage sum these columns over a mailbox's messages: with them
-- in one index the sum reads the index alone, not every message row (each row holds its cached summary).
CREATE INDEX messages_status ON messages (mailbox_id, flags, size);
