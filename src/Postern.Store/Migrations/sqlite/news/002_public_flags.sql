-- IMAP flags of public folder messages, per reading account (each reader has their own \Seen).
-- modseq: the account's own mod-sequence for the row (CONDSTORE over public folders).
CREATE TABLE public_flags (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    folder_id INTEGER NOT NULL REFERENCES public_folders(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    keywords TEXT NOT NULL DEFAULT '',
    modseq INTEGER NOT NULL,
    PRIMARY KEY (account_id, folder_id, number)
);
