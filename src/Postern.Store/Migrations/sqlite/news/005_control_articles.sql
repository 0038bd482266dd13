-- Cancel control articles carried out here, kept so that pull peers find them with NEWNEWS and ARTICLE like any
-- article (push peers get them from news_feed_queue); purged with the history. newsgroups: the control article's
-- Newsgroups, comma-separated.
CREATE TABLE news_control (
    message_id TEXT PRIMARY KEY,
    blob_id INTEGER NOT NULL REFERENCES blobs(id),
    newsgroups TEXT NOT NULL,
    received INTEGER NOT NULL
);

CREATE INDEX news_control_by_received ON news_control (received);
CREATE INDEX news_control_by_blob ON news_control (blob_id);
