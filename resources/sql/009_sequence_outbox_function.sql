-- Migration 9: sequence outbox function.
-- The sequencer in one round trip (it was four: begin, lock, move, commit): the lock is
-- taken by its own statement inside the function, so the next one reads (READ COMMITTED,
-- a fresh snapshot per statement of a volatile function) every outbox row committed so far
-- and the last id the previous sequencer logged. One that waits gives up after 2 s and is
-- run again later; the lock never outlives the statement (no transaction is left open).
-- The ids are stamped by primary key, one row at a time: never a scan of order_events
-- because a burst made the outbox large.
-- Append-only: a released migration is never edited; a change is a new file.
CREATE FUNCTION oee_sequence_outbox()
RETURNS TABLE (first_id BIGINT, last_id BIGINT, order_ids TEXT, seqs TEXT)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    PERFORM set_config('lock_timeout', '2000', true), set_config('enable_hashjoin', 'off', true),
            set_config('enable_mergejoin', 'off', true);
    PERFORM pg_advisory_xact_lock(7406052);
    RETURN QUERY
    WITH taken AS (DELETE FROM event_outbox RETURNING id, event_outbox.order_ids AS o_ids, event_outbox.seqs AS o_seqs),
    flat AS (SELECT t.id, u.o, u.s, u.n FROM taken t,
             unnest(t.o_ids, t.o_seqs) WITH ORDINALITY AS u(o, s, n)),
    numbered AS (SELECT f.o, f.s, (SELECT coalesce(max(l.last_id), 0) FROM event_log l) +
                 row_number() OVER (ORDER BY f.id, f.n) AS eid FROM flat f),
    stamped AS (UPDATE order_events e SET event_id = x.eid FROM numbered x
                WHERE e.order_id = x.o AND e.seq = x.s),
    logged AS (INSERT INTO event_log AS l (last_id, first_id, order_ids, seqs)
               SELECT max(x.eid), min(x.eid), array_agg(x.o ORDER BY x.eid), array_agg(x.s ORDER BY x.eid)
               FROM numbered x HAVING count(*) > 0
               RETURNING l.first_id, l.last_id, l.order_ids, l.seqs)
    SELECT g.first_id, g.last_id, g.order_ids::text, g.seqs::text FROM logged g;
END
$fn$;
