-- A mailbox id is never given to a new mailbox once used (as blob ids, migration 004): a session that still has a
-- deleted mailbox selected, and the message lists shared between sessions, name a mailbox by its id. SQLite hands out
-- MAX(rowid) + 1, so deleting the newest mailbox would give its id, and what still refers to it, to the next one created,
-- possibly another account's.
CREATE TABLE mailbox_high_water (id INTEGER NOT NULL);
INSERT INTO mailbox_high_water (id) SELECT COALESCE(MAX(id), 0) FROM mailboxes;
CREATE TRIGGER mailboxes_keep_high_water AFTER DELETE ON mailboxes WHEN OLD.id > (SELECT id FROM mailbox_high_water)
BEGIN
    UPDATE mailbox_high_water SET id = OLD.id;
END;
