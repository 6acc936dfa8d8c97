-- Migration 6: order status counts.
-- Orders by status, maintained by the statements that change a status (one row per status
-- and slot; each connection adds its deltas to its own slot, so writers rarely meet on a
-- row): /api/metrics reads a few rows instead of counting the orders table.
-- Append-only: a released migration is never edited; a change is a new file.
CREATE TABLE order_status_counts (
    status TEXT NOT NULL,
    slot   INT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (status, slot)
);
INSERT INTO order_status_counts (status, slot, n) SELECT status, 0, count(*) FROM orders GROUP BY status;
