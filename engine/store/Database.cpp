#include "store/Database.h"

#include "runtime/Logging.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>
#include <QUrlQuery>

namespace oee {

std::optional<PgEndpoint> PgEndpoint::fromUrl(const QString &text, QString *error)
{
    const QUrl url(text);
    if (url.scheme() != QStringLiteral("postgres") && url.scheme() != QStringLiteral("postgresql")) {
        *error = QStringLiteral("DATABASE_URL must start with postgres://, got '%1'").arg(text);
        return std::nullopt;
    }
    PgEndpoint ep;
    ep.host = url.host().isEmpty() ? ep.host : url.host();
    ep.port = url.port(5432);
    ep.user = url.userName();
    ep.password = url.password();
    const QString db = url.path().mid(1);
    if (!db.isEmpty())
        ep.database = db;
    const QUrlQuery q(url);
    if (q.hasQueryItem(QStringLiteral("host")))
        ep.host = q.queryItemValue(QStringLiteral("host"), QUrl::FullyDecoded);
    return ep;
}

QSqlDatabase Database::open(const QString &connectionName, const PgEndpoint &ep)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connectionName);
    db.setHostName(ep.host);
    db.setPort(ep.port);
    db.setUserName(ep.user);
    db.setPassword(ep.password);
    db.setDatabaseName(ep.database);
    db.setConnectOptions(QStringLiteral("connect_timeout=3"));
    // NUMERIC as text, never through a lossy double.
    db.setNumericalPrecisionPolicy(QSql::HighPrecision);
    ensureOpen(db);
    return db;
}

bool Database::ensureOpen(QSqlDatabase &db)
{
    if (db.isOpen())
        return true;
    if (!db.open()) {
        qCWarning(lcStore, "cannot connect to PostgreSQL: %s", qPrintable(db.lastError().text()));
        return false;
    }
    return true;
}

void Database::remove(const QString &connectionName)
{
    {
        QSqlDatabase db = QSqlDatabase::database(connectionName, false);
        if (db.isValid())
            db.close();
    }
    QSqlDatabase::removeDatabase(connectionName);
}

namespace {

struct Migration
{
    int version;
    const char *sql;
};

// Append-only: a released migration is never edited, a change is a new version.
constexpr Migration kMigrations[] = {
    {1, R"SQL(
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
)SQL"},
    // An order's row is updated once per status change: with no index on the columns that
    // change (status) and room left in each page, those updates are HOT (no index writes).
    // Listing by status walks order_no DESC, which stays indexed.
    {2, R"SQL(
DROP INDEX orders_status_order_no;
ALTER TABLE orders SET (fillfactor = 70);
)SQL"},
    // A client's Idempotency-Key: a retried submission finds its first order.
    {3, R"SQL(
ALTER TABLE orders ADD COLUMN idempotency_key TEXT UNIQUE;
)SQL"},
    // Fencing: each claim of an order's job takes the next fence; a worker writes the order
    // only while it holds the latest one, so a worker whose lease was taken over (a pause, a
    // lock, a partition) cannot write over the new owner when it wakes up.
    {4, R"SQL(
ALTER TABLE orders ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
)SQL"},
    // What an Idempotency-Key was used for: the same key with a different request is refused.
    {5, R"SQL(
ALTER TABLE orders ADD COLUMN idempotency_fingerprint TEXT;
)SQL"},
    // Orders by status, maintained by the statements that change a status (one row per status
    // and slot; each connection adds its deltas to its own slot, so writers rarely meet on a
    // row): /api/metrics reads a few rows instead of counting the orders table.
    {6, R"SQL(
CREATE TABLE order_status_counts (
    status TEXT NOT NULL,
    slot   INT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (status, slot)
);
INSERT INTO order_status_counts (status, slot, n) SELECT status, 0, count(*) FROM orders GROUP BY status;
)SQL"},
    // Order types beyond market (issue 11): their terms (limitPrice, maxPrice, …) and the time
    // a resting order expires. Not indexed: the RestingBook reads the resting orders once at
    // start and keeps them in memory; an index would cost every status change its HOT update.
    {7, R"SQL(
ALTER TABLE orders ADD COLUMN terms JSONB, ADD COLUMN expires_at TIMESTAMPTZ;
)SQL"},
    // The event log (issue 12): every committed event gets a global id, in commit order, so
    // that any process can follow every event from the store and a client can resume from the
    // last id it saw. A transaction that writes events also writes one outbox row naming them;
    // the sequencer (EventLog, one at a time under an advisory lock) moves committed outbox rows
    // into event_log, numbering their events consecutively after the last logged one, and
    // stamps each event's id on its row (a HOT update: event_id is not indexed, and pages keep
    // room for it). Events written before this migration are numbered here, oldest first.
    {8, R"SQL(
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
)SQL"},
    // The sequencer in one round trip (it was four: begin, lock, move, commit): the lock is
    // taken by its own statement inside the function, so the next one reads (READ COMMITTED,
    // a fresh snapshot per statement of a volatile function) every outbox row committed so far
    // and the last id the previous sequencer logged. One that waits gives up after 2 s and is
    // run again later; the lock never outlives the statement (no transaction is left open).
    // The ids are stamped by primary key, one row at a time: never a scan of order_events
    // because a burst made the outbox large.
    {9, R"SQL(
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
)SQL"},
    // The operator's actions (issue 13): who paused intake, took a venue out, pulled the kill
    // switch, cancelled or retried an order, launched a token — and when. Never pruned.
    {10, R"SQL(
CREATE TABLE operator_actions (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    action TEXT NOT NULL,
    target TEXT,
    detail JSONB NOT NULL DEFAULT '{}'::jsonb,
    source TEXT NOT NULL
);
)SQL"},
};

} // namespace

bool Database::migrate(QSqlDatabase &db, QString *error)
{
    if (!ensureOpen(db)) {
        *error = db.lastError().text();
        return false;
    }
    QSqlQuery q(db);
    auto fail = [&](const QString &what) {
        *error = what + QStringLiteral(": ") + q.lastError().text();
        db.rollback();
        return false;
    };
    if (!db.transaction())
        return fail(QStringLiteral("begin"));
    q.exec(QStringLiteral("SET LOCAL client_min_messages = warning"));
    if (!q.exec(QStringLiteral("SELECT pg_advisory_xact_lock(7406051)")))
        return fail(QStringLiteral("advisory lock"));
    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_migrations ("
                               "version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL "
                               "DEFAULT now())")))
        return fail(QStringLiteral("schema_migrations"));
    if (!q.exec(QStringLiteral("SELECT coalesce(max(version), 0) FROM schema_migrations")) ||
        !q.next())
        return fail(QStringLiteral("read version"));
    const int current = q.value(0).toInt();
    for (const Migration &m : kMigrations) {
        if (m.version <= current)
            continue;
        if (!q.exec(QString::fromUtf8(m.sql)))
            return fail(QStringLiteral("migration %1").arg(m.version));
        q.prepare(QStringLiteral("INSERT INTO schema_migrations (version) VALUES (?)"));
        q.addBindValue(m.version);
        if (!q.exec())
            return fail(QStringLiteral("record migration %1").arg(m.version));
        qCInfo(lcStore, "applied migration %d", m.version);
    }
    if (!db.commit())
        return fail(QStringLiteral("commit"));
    return true;
}

QString pgArray(const QStringList &values, const QList<bool> &nulls)
{
    QString out;
    out.reserve(values.size() * 40 + 2);
    out += QLatin1Char('{');
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            out += QLatin1Char(',');
        if (i < nulls.size() && nulls[i]) {
            out += QStringLiteral("NULL");
            continue;
        }
        out += QLatin1Char('"');
        for (QChar c : values[i]) {
            if (c == QLatin1Char('"') || c == QLatin1Char('\\'))
                out += QLatin1Char('\\');
            out += c;
        }
        out += QLatin1Char('"');
    }
    out += QLatin1Char('}');
    return out;
}

} // namespace oee
