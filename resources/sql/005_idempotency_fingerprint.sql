-- Migration 5: idempotency fingerprint.
-- What an Idempotency-Key was used for: the same key with a different request is refused.
-- Append-only: a released migration is never edited; a change is a new file.
ALTER TABLE orders ADD COLUMN idempotency_fingerprint TEXT;
