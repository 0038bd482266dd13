-- A blob id is never given to new content once used: a session that still lists an expunged message must never read
-- someone else's message under a reused id. SQLite hands out MAX(rowid) + 1, so deleting the newest blob would free
-- its id again; the highest id ever deleted is kept here and new blobs are numbered above it.
CREATE TABLE blob_high_water (id INTEGER NOT NULL);
INSERT INTO blob_high_water (id) SELECT COALESCE(MAX(id), 0) FROM blobs;
CREATE TRIGGER blobs_keep_high_water AFTER DELETE ON blobs WHEN OLD.id > (SELECT id FROM blob_high_water)
BEGIN
    UPDATE blob_high_water SET id = OLD.id;
END;
