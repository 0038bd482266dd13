-- IMAP \Recent for public folders (RFC 3501 §2.3.2): the first article number not yet claimed by a read-write
-- session. Articles already there when this column appears are not recent.
ALTER TABLE public_folders ADD COLUMN first_recent_number INTEGER NOT NULL DEFAULT 1;
UPDATE public_folders SET first_recent_number = next_number;
