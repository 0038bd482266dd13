-- A message's size once every line ends in CRLF, the last included: POP3's LIST, STAT and RETR must report the octets
-- RETR really sends (RFC 1939 §5), which differ from the stored size when an APPEND left bare LFs or no final line break.
-- NULL for messages stored before this column: the POP3 server measures them at the first login and keeps the size.
ALTER TABLE messages ADD COLUMN crlf_size INTEGER;
