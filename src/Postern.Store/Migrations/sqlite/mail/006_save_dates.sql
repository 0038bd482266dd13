-- RFC 8514 SAVEDATE: when a message was saved into its mailbox (delivery, APPEND, COPY, MOVE). Rows from before this
-- column take their internal date, the nearest thing known.
ALTER TABLE messages ADD COLUMN saved INTEGER;
UPDATE messages SET saved = internal_date;
