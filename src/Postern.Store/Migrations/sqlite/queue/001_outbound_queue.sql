CREATE TABLE queue (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    blob_id INTEGER NOT NULL REFERENCES blobs(id),
    size INTEGER NOT NULL,
    created INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    envid TEXT,
    ret TEXT
);

CREATE INDEX queue_by_next_attempt ON queue (next_attempt);
CREATE INDEX queue_by_blob ON queue (blob_id);

CREATE TABLE queue_recipients (
    id INTEGER PRIMARY KEY,
    queue_id INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    notify TEXT,
    orcpt TEXT,
    last_error TEXT
);

CREATE INDEX queue_recipients_by_queue ON queue_recipients (queue_id);
