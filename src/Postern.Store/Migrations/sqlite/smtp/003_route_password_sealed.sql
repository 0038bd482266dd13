-- Route passwords encrypted at rest with the PKI's key-encryption key (Postern.Pki.SecretProtector).
-- Rows written before this keep their clear `password` readable; the route store seals them into
-- `password_sealed` and clears `password` the first time it is used.
ALTER TABLE smtp_routes ADD COLUMN password_sealed BLOB;
