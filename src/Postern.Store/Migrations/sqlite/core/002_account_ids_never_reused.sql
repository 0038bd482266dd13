-- An account id is never given to a new account once used (as mailbox ids, mail/005): a session that logged on before
-- its account was removed still names the account by id, and must never find the mailboxes of the next account created.
CREATE TABLE account_high_water (id INTEGER NOT NULL);
INSERT INTO account_high_water (id) SELECT COALESCE(MAX(id), 0) FROM accounts;
CREATE TRIGGER accounts_keep_high_water AFTER DELETE ON accounts WHEN OLD.id > (SELECT id FROM account_high_water)
BEGIN
    UPDATE account_high_water SET id = OLD.id;
END;
