-- Migration 1: orders and events.
-- Append-only: a released migration is never edited; a change is a new file.
CREATE TABLE orders (
    id             UUID PRIMARY KEY,
    order_no       BIGSERIAL UNIQUE NOT NULL,
    order_type     TEXT NOT NULL,
    token_in       TEXT NOT NULL,
    token_out      TEXT NOT NULL,
    amount         NUMERIC NOT NULL CHECK (amount > 0),
    slippage       NUMERIC NOT NULL CHECK (slippage > 0 AND slippage <= 0.5),
    status         TEXT NOT NULL,
    last_seq       INT NOT NULL,
    attempts       INT NOT NULL DEFAULT 0,
    dex            TEXT,
    tx_signature   TEXT,
    executed_price NUMERIC,
    amount_out     NUMERIC,
    error          TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX orders_status_order_no ON orders (status, order_no DESC);
CREATE TABLE order_events (
    order_id   UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq        INT NOT NULL,
    status     TEXT NOT NULL,
    data       JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, seq)
);
