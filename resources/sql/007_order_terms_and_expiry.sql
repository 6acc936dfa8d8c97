-- Migration 7: order terms and expiry.
-- Order types beyond market (issue 11): their terms (limitPrice, maxPrice, …) and the time
-- a resting order expires. Not indexed: the RestingBook reads the resting orders once at
-- start and keeps them in memory; an index would cost every status change its HOT update.
-- Append-only: a released migration is never edited; a change is a new file.
ALTER TABLE orders ADD COLUMN terms JSONB, ADD COLUMN expires_at TIMESTAMPTZ;
