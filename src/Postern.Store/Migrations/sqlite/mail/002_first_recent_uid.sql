-- RFC 3501 §2.3.2 \Recent: messages at or above this UID have not yet been announced to any session that
-- selected the mailbox read-write; the first such session claims them (moves the mark past them).
ALTER TABLE mailboxes ADD COLUMN first_recent_uid INTEGER NOT NULL DEFAULT 1;
