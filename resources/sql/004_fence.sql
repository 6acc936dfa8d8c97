-- Migration 4: fence.
-- Fencing: each claim of an order's job takes the next fence; a worker writes the order
-- only while it holds the latest one, so a worker whose lease was taken over (a pause, a
-- lock, a partition) cannot write over the new owner when it wakes up.
-- Append-only: a released migration is never edited; a change is a new file.
ALTER TABLE orders ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
