-- Ids never reused (see mail/005) for what moderators, administrators and the feed workers name by id: a moderator's
-- approval of pending article N, a feed worker's removal of queue entry N once sent, a peer N being fed.
CREATE TABLE news_pending_high_water (id INTEGER NOT NULL);
INSERT INTO news_pending_high_water (id) SELECT COALESCE(MAX(id), 0) FROM news_pending;
CREATE TRIGGER news_pending_keep_high_water AFTER DELETE ON news_pending WHEN OLD.id > (SELECT id FROM news_pending_high_water)
BEGIN
    UPDATE news_pending_high_water SET id = OLD.id;
END;

CREATE TABLE news_feed_queue_high_water (id INTEGER NOT NULL);
INSERT INTO news_feed_queue_high_water (id) SELECT COALESCE(MAX(id), 0) FROM news_feed_queue;
CREATE TRIGGER news_feed_queue_keep_high_water AFTER DELETE ON news_feed_queue WHEN OLD.id > (SELECT id FROM news_feed_queue_high_water)
BEGIN
    UPDATE news_feed_queue_high_water SET id = OLD.id;
END;

CREATE TABLE news_peer_high_water (id INTEGER NOT NULL);
INSERT INTO news_peer_high_water (id) SELECT COALESCE(MAX(id), 0) FROM news_peers;
CREATE TRIGGER news_peers_keep_high_water AFTER DELETE ON news_peers WHEN OLD.id > (SELECT id FROM news_peer_high_water)
BEGIN
    UPDATE news_peer_high_water SET id = OLD.id;
END;
