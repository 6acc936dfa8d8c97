-- Migration 2: orders fillfactor.
-- An order's row is updated once per status change: with no index on the columns that
-- change (status) and room left in each page, those updates are HOT (no index writes).
-- Listing by status walks order_no DESC, which stays indexed.
-- Append-only: a released migration is never edited; a change is a new file.
DROP INDEX orders_status_order_no;
ALTER TABLE orders SET (fillfactor = 70);
