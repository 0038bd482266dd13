-- Queue entries whose sender already got a "delayed" DSN (RFC 3464 Action: delayed), so it is sent once.
CREATE TABLE smtp_delay_notices (
    queue_id INTEGER NOT NULL PRIMARY KEY REFERENCES queue(id) ON DELETE CASCADE,
    sent INTEGER NOT NULL
);
