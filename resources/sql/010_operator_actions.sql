-- Migration 10: operator actions.
-- The operator's actions (issue 13): who paused intake, took a venue out, pulled the kill
-- switch, cancelled or retried an order, launched a token — and when. Never pruned.
-- Append-only: a released migration is never edited; a change is a new file.
CREATE TABLE operator_actions (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    action TEXT NOT NULL,
    target TEXT,
    detail JSONB NOT NULL DEFAULT '{}'::jsonb,
    source TEXT NOT NULL
);
