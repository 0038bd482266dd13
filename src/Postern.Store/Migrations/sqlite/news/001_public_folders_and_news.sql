-- Public folders: a hierarchy owned by the organization, each folder with its own article numbers
-- (= IMAP UIDs; allocated from next_number in the inserting transaction, never reused).
CREATE TABLE public_folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE COLLATE NOCASE,
    newsgroup TEXT UNIQUE COLLATE NOCASE,
    description TEXT,
    moderated INTEGER NOT NULL DEFAULT 0,
    moderator TEXT,
    uid_validity INTEGER NOT NULL,
    next_number INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL
);

-- principal: 'anonymous', 'authenticated' or an account address; rights: PublicFolderRights bits.
CREATE TABLE public_folder_permissions (
    folder_id INTEGER NOT NULL REFERENCES public_folders(id) ON DELETE CASCADE,
    principal TEXT NOT NULL COLLATE NOCASE,
    rights INTEGER NOT NULL,
    PRIMARY KEY (folder_id, principal)
);

CREATE TABLE public_messages (
    id INTEGER PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES public_folders(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    blob_id INTEGER NOT NULL REFERENCES blobs(id),
    size INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    message_id TEXT,
    received INTEGER NOT NULL,
    headers BLOB NOT NULL,
    UNIQUE (folder_id, number)
);

CREATE INDEX public_messages_by_message_id ON public_messages (message_id);
CREATE INDEX public_messages_by_received ON public_messages (received);
CREATE INDEX public_messages_by_blob ON public_messages (blob_id);

-- Every Message-ID ever seen (accepted, pending, rejected, expired), so no article is stored twice.
CREATE TABLE news_history (
    message_id TEXT PRIMARY KEY,
    state INTEGER NOT NULL,
    recorded INTEGER NOT NULL
);

CREATE INDEX news_history_by_recorded ON news_history (recorded);

-- Articles posted to moderated groups, waiting for the moderator.
CREATE TABLE news_pending (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    folder_ids TEXT NOT NULL,
    blob_id INTEGER NOT NULL REFERENCES blobs(id),
    size INTEGER NOT NULL,
    received INTEGER NOT NULL,
    submitter TEXT
);

CREATE INDEX news_pending_by_blob ON news_pending (blob_id);

CREATE TABLE news_peers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    tls_mode TEXT NOT NULL,
    verify INTEGER NOT NULL DEFAULT 1,
    username TEXT,
    password TEXT,
    groups TEXT NOT NULL DEFAULT '*',
    direction TEXT NOT NULL,
    last_pull INTEGER,
    enabled INTEGER NOT NULL DEFAULT 1
);

-- The durable outgoing feed: one row per (peer, article) until the peer has it or refused it.
CREATE TABLE news_feed_queue (
    id INTEGER PRIMARY KEY,
    peer_id INTEGER NOT NULL REFERENCES news_peers(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    blob_id INTEGER NOT NULL REFERENCES blobs(id),
    next_attempt INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (peer_id, message_id)
);

CREATE INDEX news_feed_queue_by_next_attempt ON news_feed_queue (peer_id, next_attempt);
CREATE INDEX news_feed_queue_by_blob ON news_feed_queue (blob_id);
