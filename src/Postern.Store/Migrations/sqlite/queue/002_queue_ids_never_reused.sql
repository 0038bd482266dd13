-- A queue id is never given to a new message once used (as mailbox ids, mail/005): a delivery in flight, a log line or
-- an administrator's `postern queue delete ID` names a message by its id, and must never reach the next message queued.
CREATE TABLE queue_high_water (id INTEGER NOT NULL);
INSERT INTO queue_high_water (id) SELECT COALESCE(MAX(id), 0) FROM queue;
CREATE TRIGGER queue_keep_high_water AFTER DELETE ON queue WHEN OLD.id > (SELECT id FROM queue_high_water)
BEGIN
    UPDATE queue_high_water SET id = OLD.id;
END;
