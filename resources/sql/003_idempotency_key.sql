-- Migration 3: idempotency key.
-- A client's Idempotency-Key: a retried submission finds its first order.
-- Append-only: a released migration is never edited; a change is a new file.
ALTER TABLE orders ADD COLUMN idempotency_key TEXT UNIQUE;
