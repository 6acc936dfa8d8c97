-- Migration 8: event log.
-- The event log (issue 12): every committed event gets a global id, in commit order, so
-- that any process can follow every event from the store and a client can resume from the
-- last id it saw. A transaction that writes events also writes one outbox row naming them;
-- the sequencer (EventLog, one at a time under an advisory lock) moves committed outbox rows
-- into event_log, numbering their events consecutively after the last logged one, and
-- stamps each event's id on its row (a HOT update: event_id is not indexed, and pages keep
-- room for it). Events written before this migration are numbered here, oldest first.
-- Append-only: a released migration is never edited; a change is a new file.
ALTER TABLE order_events ADD COLUMN event_id BIGINT;
ALTER TABLE order_events SET (fillfactor = 85);
CREATE TABLE event_outbox (
    id        BIGSERIAL PRIMARY KEY,
    order_ids UUID[] NOT NULL,
    seqs      INT[] NOT NULL
);
CREATE TABLE event_log (
    last_id   BIGINT PRIMARY KEY,
    first_id  BIGINT NOT NULL,
    order_ids UUID[] NOT NULL,
    seqs      INT[] NOT NULL,
    logged_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
WITH numbered AS (
    SELECT order_id, seq, row_number() OVER (ORDER BY created_at, order_id, seq) AS eid
    FROM order_events),
stamped AS (
    UPDATE order_events e SET event_id = n.eid FROM numbered n
    WHERE e.order_id = n.order_id AND e.seq = n.seq)
INSERT INTO event_log (last_id, first_id, order_ids, seqs)
SELECT max(eid), min(eid), array_agg(order_id ORDER BY eid), array_agg(seq ORDER BY eid)
FROM numbered GROUP BY (eid - 1) / 1000;
