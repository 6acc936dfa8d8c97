#include "store/OrderStore.h"

#include "runtime/Logging.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QLocale>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>

// One outbox row naming the events a statement inserted (the CTE `ev` returns order_id, seq):
// the EventLog numbers them once this transaction has committed. Per order in seq order.
#define OEE_OUTBOX(ev)                                                                             \
    "INSERT INTO event_outbox (order_ids, seqs) SELECT array_agg(order_id ORDER BY seq), "         \
    "array_agg(seq ORDER BY seq) FROM " ev " HAVING count(*) > 0"

namespace oee {

OrderStore::OrderStore(QSqlDatabase db)
    : m_db(std::move(db)), m_countSlot(int(QRandomGenerator::global()->bounded(16)))
{
}

bool OrderStore::fail(const QSqlQuery &q, const char *what)
{
    m_lastError = QStringLiteral("%1: %2").arg(QLatin1String(what), q.lastError().text());
    const QString state = q.lastError().nativeErrorCode();
    m_lastErrorPermanent =
        state.startsWith(QLatin1String("22")) || state.startsWith(QLatin1String("23"));
    qCWarning(lcStore, "%s", qPrintable(m_lastError));
    // A broken connection is reopened on next use; cheap, and failures are rare.
    if (q.lastError().type() == QSqlError::ConnectionError || !m_db.isOpen() ||
        m_lastError.contains(QLatin1String("connection"), Qt::CaseInsensitive) ||
        m_lastError.contains(QLatin1String("server closed"), Qt::CaseInsensitive) ||
        m_lastError.contains(QLatin1String("terminating"), Qt::CaseInsensitive))
        resetConnection();
    return false;
}

void OrderStore::resetConnection()
{
    m_statements.clear();
    m_db.close();
}

QSqlQuery *OrderStore::statement(const QString &sql)
{
    const bool reopening = !m_db.isOpen();
    if (reopening)
        m_statements.clear();
    if (!Database::ensureOpen(m_db)) {
        m_lastError = m_db.lastError().text();
        return nullptr;
    }
    if (reopening && m_sessionLock) {
        QSqlQuery lock(m_db);
        if (!lock.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(m_sessionLock))) {
            fail(lock, "take the session lock");
            resetConnection(); // no statement of this store runs without its lock
            return nullptr;
        }
    }
    replanIfGrown();
    auto it = m_statements.find(sql);
    if (it == m_statements.end()) {
        auto q = std::make_unique<QSqlQuery>(m_db);
        if (!q->prepare(sql)) {
            fail(*q, "prepare");
            return nullptr;
        }
        it = m_statements.emplace(sql, std::move(q)).first;
    }
    return it->second.get();
}

void OrderStore::replanIfGrown()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - m_sizeCheckedAt < 1000)
        return;
    m_sizeCheckedAt = now;
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT pg_relation_size('orders') + "
                               "pg_relation_size('order_events')")) ||
        !q.next())
        return; // asked again in a second; the statement that follows reports any outage
    const qint64 bytes = q.value(0).toLongLong();
    if (m_plannedForBytes < 0) {
        m_plannedForBytes = bytes;
        return;
    }
    // Tables of a few pages are scanned as fast as they are looked up.
    if (bytes < 2 * m_plannedForBytes || bytes < 256 * 1024)
        return;
    m_plannedForBytes = bytes;
    m_statements.clear();
}

void OrderStore::holdSessionLock(qint64 key)
{
    m_sessionLock = key;
    // Already connected: take it now, or drop the connection so the next statement retakes it.
    if (m_db.isOpen()) {
        QSqlQuery lock(m_db);
        if (!lock.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(key)))
            resetConnection();
    }
}

qint64 OrderStore::submitterLockKey(const QByteArray &submitter)
{
    const QByteArray h =
        QCryptographicHash::hash("oee-submitter:" + submitter, QCryptographicHash::Sha256);
    qint64 key = 0;
    for (int i = 0; i < 8; ++i)
        key = qint64((quint64(key) << 8) | quint8(h[i]));
    return key == 0 ? 1 : key;
}

std::optional<bool> OrderStore::submitterGone(qint64 key)
{
    QSqlQuery *q = statement(QStringLiteral("SELECT pg_try_advisory_lock(?::bigint)"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, QString::number(key));
    if (!q->exec() || !q->next()) {
        fail(*q, "try the submitter lock");
        return std::nullopt;
    }
    const bool got = q->value(0).toBool();
    q->finish();
    if (got) {
        QSqlQuery unlock(m_db);
        unlock.exec(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(key));
    }
    return got;
}

namespace {

// The event columns of a batch, as PostgreSQL arrays.
struct EventArrays
{
    QStringList ids, seqs, statuses, datas, times;
    explicit EventArrays(const QList<OrderEvent> &events)
    {
        for (const OrderEvent &e : events) {
            ids << e.orderId;
            seqs << QString::number(e.seq);
            statuses << statusName(e.status);
            datas << QString::fromUtf8(e.dataJson());
            times << isoTime(e.at);
        }
    }
    void bind(QSqlQuery *q, int first) const
    {
        int i = first;
        for (const QStringList *l : {&ids, &seqs, &statuses, &datas, &times})
            q->bindValue(i++, pgArray(*l));
    }
};

} // namespace

namespace {

// A job payload from an orders row whose columns 1–5 are order_type, token_in, token_out,
// amount, slippage and `termsColumn` is terms::text (what fromJobPayload reads back).
QJsonObject payloadOfRow(const QSqlQuery &q, int termsColumn)
{
    QJsonObject payload{{QStringLiteral("orderType"), q.value(1).toString()},
                        {QStringLiteral("tokenIn"), q.value(2).toString()},
                        {QStringLiteral("tokenOut"), q.value(3).toString()},
                        {QStringLiteral("amount"), q.value(4).toString()},
                        {QStringLiteral("slippage"), q.value(5).toString()}};
    const QJsonObject terms =
        QJsonDocument::fromJson(q.value(termsColumn).toString().toUtf8()).object();
    for (auto it = terms.begin(); it != terms.end(); ++it)
        payload.insert(it.key(), it.value());
    return payload;
}

} // namespace

std::optional<QList<OrderStore::EndOutcome>> OrderStore::endResting(const QStringList &orderIds,
                                                                    OrderStatus to,
                                                                    const QJsonObject &data,
                                                                    const QDateTime &expiredBy)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    // All CTEs see one snapshot: the last SELECT reads the status from before the UPDATE, which
    // is what a refused cancel reports. `was` is the row before the update (its status leaves
    // the counts).
    QSqlQuery *q = statement(QStringLiteral(
        "WITH c AS (UPDATE orders o SET status = ?::text, last_seq = o.last_seq + 1, "
        "fence = o.fence + 1, updated_at = ?::timestamptz "
        "FROM unnest(?::uuid[]) AS u(id), orders was "
        "WHERE o.id = u.id AND was.id = o.id AND o.status IN ('pending', 'open') "
        "AND (?::timestamptz IS NULL OR o.expires_at <= ?::timestamptz) "
        "RETURNING o.id, o.last_seq, was.status AS was, ?::jsonb || CASE WHEN o.expires_at IS NULL "
        "THEN '{}'::jsonb ELSE jsonb_build_object('expiresAt', to_char(o.expires_at AT TIME ZONE "
        "'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) END AS data), "
        "ev AS (INSERT INTO order_events (order_id, seq, status, data, created_at) "
        "SELECT id, last_seq, ?::text, data, ?::timestamptz FROM c RETURNING order_id, seq), "
        "ob AS (" OEE_OUTBOX(
            "ev") "), "
                  "counted AS (INSERT INTO order_status_counts (status, slot, n) "
                  "SELECT v.s, ?::int, sum(v.d) FROM (SELECT ?::text AS s, 1 AS d FROM c "
                  "UNION ALL SELECT was, -1 FROM c) v GROUP BY v.s ORDER BY v.s "
                  "ON CONFLICT (status, slot) DO UPDATE SET n = order_status_counts.n + "
                  "excluded.n) "
                  "SELECT id, 'ended', last_seq, data::text FROM c "
                  "UNION ALL SELECT o.id, o.status, o.last_seq, NULL FROM unnest(?::uuid[]) AS "
                  "u(id) "
                  "JOIN orders o ON o.id = u.id WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.id = "
                  "o.id)"));
    if (!q)
        return std::nullopt;
    const QString status = statusName(to);
    const QVariant by = expiredBy.isValid() ? QVariant(isoTime(expiredBy))
                                            : QVariant(QMetaType(QMetaType::QString));
    int i = 0;
    q->bindValue(i++, status);
    q->bindValue(i++, isoTime(now));
    q->bindValue(i++, pgArray(orderIds));
    q->bindValue(i++, by);
    q->bindValue(i++, by);
    q->bindValue(i++, QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact)));
    q->bindValue(i++, status);
    q->bindValue(i++, isoTime(now));
    q->bindValue(i++, m_countSlot);
    q->bindValue(i++, status);
    q->bindValue(i++, pgArray(orderIds));
    if (!q->exec()) {
        fail(*q, "end resting orders");
        return std::nullopt;
    }
    QList<EndOutcome> out;
    while (q->next()) {
        EndOutcome r;
        r.orderId = q->value(0).toString();
        if (q->value(1).toString() == QLatin1String("ended")) {
            r.ended = true;
            r.event.orderId = r.orderId;
            r.event.seq = q->value(2).toInt();
            r.event.status = to;
            r.event.at = now;
            r.event.data = QJsonDocument::fromJson(q->value(3).toString().toUtf8()).object();
            r.event.payload = eventDataFromJson(to, r.event.data);
        } else {
            r.current = statusFromName(q->value(1).toString());
        }
        out.append(r);
    }
    q->finish();
    return out;
}

OrderStore::CancelOutcome OrderStore::cancel(const QString &orderId, const QString &reason)
{
    CancelOutcome out;
    std::optional<QList<EndOutcome>> r;
    for (int round = 0; round < 5; ++round) {
        r = endResting({orderId}, OrderStatus::Cancelled,
                       QJsonObject{{QStringLiteral("reason"), reason}});
        // Refused, yet pending or open in the statement's snapshot: a worker's write took the
        // row first (the UPDATE saw the new row, the final SELECT the old one). Ask again, in a
        // new snapshot, for the status the client should hear.
        if (!r || r->isEmpty() || r->first().ended ||
            (r->first().current != OrderStatus::Pending && r->first().current != OrderStatus::Open))
            break;
    }
    if (!r)
        return out;
    out.ok = true;
    if (!r->isEmpty()) {
        out.cancelled = r->first().ended;
        out.current = r->first().current;
        out.event = r->first().event;
    }
    return out;
}

std::optional<QStringList> OrderStore::notStartedIds()
{
    QSqlQuery *q =
        statement(QStringLiteral("SELECT id FROM orders WHERE status IN ('pending', 'open')"));
    if (!q)
        return std::nullopt;
    if (!q->exec()) {
        fail(*q, "orders not started");
        return std::nullopt;
    }
    QStringList out;
    while (q->next())
        out << q->value(0).toString();
    q->finish();
    return out;
}

std::optional<QHash<QString, int>> OrderStore::restingSeqs()
{
    // A sequential scan, once at start and now and then: see migration 7.
    QSqlQuery *q = statement(
        QStringLiteral("SELECT id, last_seq FROM orders "
                       "WHERE status = 'open' OR (status = 'pending' AND expires_at IS NOT NULL)"));
    if (!q)
        return std::nullopt;
    if (!q->exec()) {
        fail(*q, "resting orders");
        return std::nullopt;
    }
    QHash<QString, int> out;
    while (q->next())
        out.insert(q->value(0).toString(), q->value(1).toInt());
    q->finish();
    return out;
}

std::optional<QList<RestingOrder>> OrderStore::restingOrders(const QStringList &ids)
{
    QSqlQuery *q = statement(QStringLiteral(
        "SELECT o.id, o.order_type, o.token_in, o.token_out, o.amount, o.slippage, o.status, "
        "o.terms::text, o.last_seq FROM unnest(?::uuid[]) AS u(id) JOIN orders o ON o.id = u.id "
        "WHERE o.status = 'open' OR (o.status = 'pending' AND o.expires_at IS NOT NULL)"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, pgArray(ids));
    if (!q->exec()) {
        fail(*q, "resting orders");
        return std::nullopt;
    }
    QList<RestingOrder> out;
    while (q->next()) {
        const auto request = fromJobPayload(payloadOfRow(*q, 7));
        if (!request)
            continue;
        out.append(
            RestingOrder{q->value(0).toString(), *request,
                         statusFromName(q->value(6).toString()).value_or(OrderStatus::Pending),
                         q->value(8).toInt()});
    }
    q->finish();
    return out;
}

std::optional<QSet<QString>> OrderStore::insertOrders(const QList<NewOrder> &orders,
                                                      const QList<OrderEvent> &pending)
{
    QStringList ids, types, ins, outs, amounts, slippages, times, keys, prints, terms, expiries;
    QList<bool> noKey, noTerms, noExpiry;
    for (const NewOrder &o : orders) {
        ids << o.id;
        types << o.request.orderType;
        ins << o.request.tokenIn;
        outs << o.request.tokenOut;
        amounts << o.request.amountText();
        slippages << o.request.slippageText();
        times << isoTime(o.createdAt);
        keys << o.idempotencyKey;
        prints << o.fingerprint;
        noKey << o.idempotencyKey.isEmpty();
        const QJsonObject t = termsJson(o.request);
        terms << QString::fromUtf8(QJsonDocument(t).toJson(QJsonDocument::Compact));
        noTerms << t.isEmpty();
        expiries << isoTime(o.request.expiresAt);
        noExpiry << !o.request.expiresAt.isValid();
    }
    // Foreign keys are checked at the end of the statement, after the CTE inserted the orders.
    QSqlQuery *q = statement(QStringLiteral(
        "WITH new_orders AS (INSERT INTO orders (id, order_type, token_in, token_out, amount, "
        "slippage, status, last_seq, created_at, updated_at, idempotency_key, "
        "idempotency_fingerprint, terms, expires_at) "
        "SELECT u.id, u.t, u.i, u.o, u.a, u.s, 'pending', 1, u.c, u.c, u.k, u.f, u.tm, u.x FROM "
        "unnest("
        "?::uuid[], ?::text[], ?::text[], ?::text[], ?::numeric[], ?::numeric[], "
        "?::timestamptz[], ?::text[], ?::text[], ?::jsonb[], ?::timestamptz[]) "
        "AS u(id, t, i, o, a, s, c, k, f, tm, x) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id), "
        "counted AS (INSERT INTO order_status_counts (status, slot, n) "
        "SELECT 'pending', ?::int, count(*) FROM new_orders HAVING count(*) > 0 "
        "ON CONFLICT (status, slot) DO UPDATE SET n = order_status_counts.n + excluded.n), "
        "ev AS (INSERT INTO order_events (order_id, seq, status, data, created_at) "
        "SELECT e.* FROM unnest(?::uuid[], ?::int[], ?::text[], ?::jsonb[], ?::timestamptz[]) "
        "AS e(order_id, seq, status, data, created_at) "
        "WHERE e.order_id IN (SELECT id FROM new_orders) RETURNING order_id, seq), "
        "ob AS (" OEE_OUTBOX("ev") ") "
                                   "SELECT order_id FROM ev"));
    if (!q)
        return std::nullopt;
    int i = 0;
    for (const QStringList *l : {&ids, &types, &ins, &outs, &amounts, &slippages, &times})
        q->bindValue(i++, pgArray(*l));
    q->bindValue(i++, pgArray(keys, noKey));
    q->bindValue(i++, pgArray(prints, noKey));
    q->bindValue(i++, pgArray(terms, noTerms));
    q->bindValue(i++, pgArray(expiries, noExpiry));
    q->bindValue(i++, m_countSlot);
    EventArrays(pending).bind(q, i);
    if (!q->exec()) {
        fail(*q, "insert orders");
        return std::nullopt;
    }
    QSet<QString> inserted;
    while (q->next())
        inserted.insert(q->value(0).toString());
    q->finish();
    return inserted;
}

std::optional<QHash<QString, KeyedOrder>> OrderStore::ordersByKey(const QStringList &keys)
{
    QSqlQuery *q = statement(
        QStringLiteral("SELECT o.idempotency_key, o.id, o.created_at, o.idempotency_fingerprint "
                       "FROM unnest(?::text[]) AS u(k) "
                       "JOIN orders o ON o.idempotency_key = u.k"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, pgArray(keys));
    if (!q->exec()) {
        fail(*q, "orders by idempotency key");
        return std::nullopt;
    }
    QHash<QString, KeyedOrder> out;
    while (q->next())
        out.insert(
            q->value(0).toString(),
            KeyedOrder{q->value(1).toString(), q->value(2).toDateTime(), q->value(3).toString()});
    q->finish();
    return out;
}

AppendResult OrderStore::appendEvents(const QList<OrderEvent> &events)
{
    AppendResult result;
    if (events.isEmpty()) {
        result.ok = true;
        return result;
    }
    // The orders row follows each order's latest event in this batch.
    QHash<QString, qsizetype> latest;
    for (qsizetype i = 0; i < events.size(); ++i) {
        auto it = latest.find(events[i].orderId);
        if (it == latest.end() || events[*it].seq < events[i].seq)
            latest.insert(events[i].orderId, i);
    }
    QStringList uIds, uSeqs, uStatus, uTimes, uFences, uAttempts, uDex, uSig, uPrice, uOut, uErr;
    QList<bool> nAttempts, nDex, nSig, nPrice, nOut, nErr;
    // From the events' typed data: what each kind says, not keys looked up by name.
    const auto put = [](const QString &v, QStringList &vals, QList<bool> &nulls) {
        nulls << v.isEmpty();
        vals << v;
    };
    for (qsizetype i : std::as_const(latest)) {
        const OrderEvent &e = events[i];
        uIds << e.orderId;
        uSeqs << QString::number(e.seq);
        uStatus << statusName(e.status);
        uTimes << isoTime(e.at);
        uFences << QString::number(e.fence);
        const EventFacts f = e.facts();
        put(f.attempt ? QString::number(*f.attempt) : QString(), uAttempts, nAttempts);
        put(f.venue, uDex, nDex);
        put(f.signature, uSig, nSig);
        put(f.executedPrice, uPrice, nPrice);
        put(f.amountOut, uOut, nOut);
        put(f.error, uErr, nErr);
    }
    // The row is updated only under the writer's fence (and only forwards); the events are
    // inserted only for the rows that were. Returns the orders written.
    QSqlQuery *q = statement(QStringLiteral(
        "WITH written AS (UPDATE orders o SET status = u.status, last_seq = u.seq, updated_at = "
        "u.at, "
        "attempts = coalesce(u.attempts, o.attempts), dex = coalesce(u.dex, o.dex), "
        "tx_signature = coalesce(u.sig, o.tx_signature), "
        "executed_price = coalesce(u.price, o.executed_price), "
        "amount_out = coalesce(u.out, o.amount_out), "
        "error = CASE WHEN u.status = 'confirmed' THEN NULL ELSE coalesce(u.err, o.error) END "
        "FROM unnest(?::uuid[], ?::int[], ?::text[], ?::timestamptz[], ?::bigint[], ?::int[], "
        "?::text[], ?::text[], ?::numeric[], ?::numeric[], ?::text[]) "
        "AS u(id, seq, status, at, fence, attempts, dex, sig, price, out, err), orders was "
        "WHERE o.id = u.id AND was.id = o.id AND o.fence = u.fence AND o.last_seq < u.seq "
        "RETURNING o.id, was.status AS was, o.status AS now), "
        "new_events AS (INSERT INTO order_events (order_id, seq, status, data, created_at) "
        "SELECT e.* FROM unnest(?::uuid[], ?::int[], ?::text[], ?::jsonb[], ?::timestamptz[]) "
        "AS e(order_id, seq, status, data, created_at) "
        "WHERE e.order_id IN (SELECT id FROM written) RETURNING order_id, seq), "
        "ob AS (" OEE_OUTBOX(
            "new_events") "), "
                          // In status order, so two writers sharing a slot take its rows in the
                          // same order.
                          "counted AS (INSERT INTO order_status_counts (status, slot, n) "
                          "SELECT s, ?::int, sum(d) FROM (SELECT now AS s, 1 AS d FROM written "
                          "UNION ALL SELECT was, -1 FROM written) x GROUP BY s HAVING sum(d) <> 0 "
                          "ORDER BY s "
                          "ON CONFLICT (status, slot) DO UPDATE SET n = order_status_counts.n + "
                          "excluded.n) "
                          "SELECT id FROM written"));
    if (!q)
        return result;
    q->bindValue(0, pgArray(uIds));
    q->bindValue(1, pgArray(uSeqs));
    q->bindValue(2, pgArray(uStatus));
    q->bindValue(3, pgArray(uTimes));
    q->bindValue(4, pgArray(uFences));
    q->bindValue(5, pgArray(uAttempts, nAttempts));
    q->bindValue(6, pgArray(uDex, nDex));
    q->bindValue(7, pgArray(uSig, nSig));
    q->bindValue(8, pgArray(uPrice, nPrice));
    q->bindValue(9, pgArray(uOut, nOut));
    q->bindValue(10, pgArray(uErr, nErr));
    EventArrays(events).bind(q, 11);
    q->bindValue(16, m_countSlot);
    if (!q->exec()) {
        fail(*q, "append events");
        return result;
    }
    QSet<QString> written;
    while (q->next())
        written.insert(q->value(0).toString());
    q->finish();
    for (const QString &id : std::as_const(uIds))
        if (!written.contains(id))
            result.superseded.insert(id);
    result.ok = true;
    return result;
}

// Rows of (id, status, last_seq, attempts, tx_signature, dex, minAmountOut[, fence]).
static QHash<QString, OrderCursor> readCursors(QSqlQuery &q)
{
    QHash<QString, OrderCursor> out;
    const bool fenced = q.record().count() > 7;
    while (q.next()) {
        OrderCursor c;
        c.status = statusFromName(q.value(1).toString()).value_or(OrderStatus::Pending);
        c.lastSeq = q.value(2).toInt();
        c.attempts = q.value(3).toInt();
        c.signature = q.value(4).toString();
        c.venue = q.value(5).toString();
        c.minAmountOut = q.value(6).toString().toULongLong();
        c.fence = fenced ? q.value(7).toLongLong() : 0;
        if (fenced) {
            c.createdAtMs = q.value(8).toLongLong();
            c.statusSinceMs = q.value(9).toLongLong();
        }
        out.insert(q.value(0).toString(), c);
    }
    q.finish();
    return out;
}

std::optional<QList<Job>> OrderStore::idleUnfinished(int idleMs, int limit)
{
    // A sequential scan, run every RECONCILE_MS by one worker per process: an index on status
    // or updated_at would cost every status change its HOT update.
    QSqlQuery *q = statement(QStringLiteral(
        "SELECT id, order_type, token_in, token_out, amount, slippage, terms::text FROM orders "
        "WHERE status NOT IN ('confirmed', 'failed', 'cancelled', 'expired', 'open') "
        "AND updated_at < now() - make_interval(secs => ?::int / 1000.0) "
        "ORDER BY order_no LIMIT ?::int"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, idleMs);
    q->bindValue(1, limit);
    if (!q->exec()) {
        fail(*q, "idle unfinished orders");
        return std::nullopt;
    }
    QList<Job> out;
    while (q->next()) {
        out.append(Job{q->value(0).toString(),
                       QJsonDocument(payloadOfRow(*q, 6)).toJson(QJsonDocument::Compact),
                       0,
                       {}});
    }
    q->finish();
    return out;
}

std::optional<QHash<QString, OrderCursor>> OrderStore::claim(const QStringList &ids)
{
    QSqlQuery *q = statement(QStringLiteral(
        // Committed asynchronously (no WAL flush wait on the claiming thread): the claimant's
        // first write is synchronous and flushes this bump before anything of it is visible;
        // a bump lost in a crash makes that write fail the fence, and the order is reclaimed.
        "WITH cfg AS (SELECT set_config('synchronous_commit', 'off', true)), "
        "taken AS (UPDATE orders o SET fence = o.fence + 1 FROM unnest(?::uuid[]) AS u(id), cfg "
        "WHERE o.id = u.id RETURNING o.id, o.status, o.last_seq, o.attempts, o.tx_signature, "
        "o.dex, o.fence, o.created_at, o.updated_at) "
        "SELECT t.id, t.status, t.last_seq, t.attempts, t.tx_signature, t.dex, "
        "CASE WHEN t.status = 'submitted' THEN (SELECT e.data->>'minAmountOutRaw' FROM "
        "order_events e "
        "  WHERE e.order_id = t.id AND e.status = 'building' ORDER BY e.seq DESC LIMIT 1) END, "
        "t.fence, (extract(epoch FROM t.created_at) * 1000)::bigint, "
        "(extract(epoch FROM t.updated_at) * 1000)::bigint FROM taken t"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, pgArray(ids));
    if (!q->exec()) {
        fail(*q, "claim orders");
        return std::nullopt;
    }
    return readCursors(*q);
}

std::optional<QHash<QString, OrderCursor>> OrderStore::cursors(const QStringList &ids)
{
    QSqlQuery *q = statement(QStringLiteral(
        // A join on unnest() is one index probe per id; `id = ANY(array)` rechecks the whole
        // array for every row it visits (quadratic in the batch size).
        "SELECT o.id, o.status, o.last_seq, o.attempts, o.tx_signature, o.dex, "
        "CASE WHEN o.status = 'submitted' THEN (SELECT e.data->>'minAmountOutRaw' FROM "
        "order_events e "
        "  WHERE e.order_id = o.id AND e.status = 'building' ORDER BY e.seq DESC LIMIT 1) END "
        "FROM unnest(?::uuid[]) AS u(id) JOIN orders o ON o.id = u.id"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, pgArray(ids));
    if (!q->exec()) {
        fail(*q, "order cursors");
        return std::nullopt;
    }
    return readCursors(*q);
}

static const char *kOrderColumns =
    "id, order_no, order_type, token_in, token_out, amount, slippage, status, last_seq, "
    "attempts, dex, tx_signature, executed_price, amount_out, error, created_at, updated_at, "
    "terms::text";

static Order readOrder(const QSqlQuery &q)
{
    Order o;
    o.id = q.value(0).toString();
    o.orderNo = q.value(1).toLongLong();
    o.orderType = q.value(2).toString();
    o.tokenIn = q.value(3).toString();
    o.tokenOut = q.value(4).toString();
    o.amount = q.value(5).toString();
    o.slippage = q.value(6).toString();
    o.status = statusFromName(q.value(7).toString()).value_or(OrderStatus::Pending);
    o.lastSeq = q.value(8).toInt();
    o.attempts = q.value(9).toInt();
    // NULL stays empty (null in JSON): QPSQL turns a NULL NUMERIC into "0" otherwise.
    const auto text = [&q](int i) { return q.isNull(i) ? QString() : q.value(i).toString(); };
    o.dex = text(10);
    o.txSignature = text(11);
    o.executedPrice = text(12);
    o.amountOut = text(13);
    o.error = text(14);
    o.createdAt = q.value(15).toDateTime();
    o.updatedAt = q.value(16).toDateTime();
    o.terms = QJsonDocument::fromJson(q.value(17).toString().toUtf8()).object();
    return o;
}

std::optional<std::optional<Order>> OrderStore::order(const QString &id)
{
    QSqlQuery *q = statement(QStringLiteral("SELECT %1 FROM orders WHERE id = ?::uuid")
                                 .arg(QLatin1String(kOrderColumns)));
    if (!q)
        return std::nullopt;
    q->bindValue(0, id);
    if (!q->exec()) {
        fail(*q, "select order");
        return std::nullopt;
    }
    std::optional<Order> found;
    if (q->next())
        found = readOrder(*q);
    q->finish();
    return found;
}

std::optional<QList<Order>> OrderStore::orders(std::optional<OrderStatus> status, int limit,
                                               qint64 beforeOrderNo)
{
    if (!Database::ensureOpen(m_db))
        return std::nullopt;
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT %1 FROM orders WHERE (?::text IS NULL OR status = ?::text) "
                             "AND order_no < ? ORDER BY order_no DESC LIMIT ?")
                  .arg(QLatin1String(kOrderColumns)));
    const QVariant s =
        status ? QVariant(statusName(*status)) : QVariant(QMetaType(QMetaType::QString));
    q.addBindValue(s);
    q.addBindValue(s);
    q.addBindValue(beforeOrderNo > 0 ? beforeOrderNo : std::numeric_limits<qint64>::max());
    q.addBindValue(limit);
    if (!q.exec()) {
        fail(q, "select orders");
        return std::nullopt;
    }
    QList<Order> out;
    while (q.next())
        out.append(readOrder(q));
    return out;
}

// The current row of (order_id, seq, status, data, created_at, event_id, …).
static OrderEvent readEvent(const QSqlQuery &q)
{
    OrderEvent e;
    e.orderId = q.value(0).toString();
    e.seq = q.value(1).toInt();
    e.status = statusFromName(q.value(2).toString()).value_or(OrderStatus::Pending);
    e.data = QJsonDocument::fromJson(q.value(3).toString().toUtf8()).object();
    e.at = q.value(4).toDateTime();
    e.eventId = q.value(5).isNull() ? 0 : q.value(5).toLongLong();
    return e;
}

static QList<OrderEvent> readEvents(QSqlQuery &q)
{
    QList<OrderEvent> out;
    while (q.next())
        out.append(readEvent(q));
    q.finish();
    return out;
}

std::optional<QList<OrderEvent>> OrderStore::events(const QString &orderId, bool loggedOnly)
{
    QSqlQuery *q = statement(QStringLiteral(
        "SELECT order_id, seq, status, data::text, created_at, event_id FROM order_events "
        "WHERE order_id = ?::uuid AND (event_id IS NOT NULL OR NOT ?::boolean) ORDER BY seq"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, orderId);
    q->bindValue(1, loggedOnly);
    if (!q->exec()) {
        fail(*q, "select events");
        return std::nullopt;
    }
    return readEvents(*q);
}

// "{a,b,c}" (a PostgreSQL array of uuids or ints as text) → its elements.
static QStringList arrayElements(const QString &text)
{
    if (text.size() < 3)
        return {};
    return text.mid(1, text.size() - 2).split(QLatin1Char(','));
}

// Rows of (first_id, last_id, order_ids::text, seqs::text).
static QList<LoggedRange> readRanges(QSqlQuery &q)
{
    QList<LoggedRange> out;
    while (q.next()) {
        LoggedRange r;
        r.firstId = q.value(0).toLongLong();
        r.lastId = q.value(1).toLongLong();
        r.orderIds = arrayElements(q.value(2).toString());
        for (const QString &s : arrayElements(q.value(3).toString()))
            r.seqs.append(s.toInt());
        out.append(std::move(r));
    }
    q.finish();
    return out;
}

std::optional<LoggedRange> OrderStore::sequenceOutbox()
{
    // One statement, committed on its own (migration 9 has the why of each step).
    QSqlQuery *move = statement(QStringLiteral("SELECT * FROM oee_sequence_outbox()"));
    if (!move)
        return std::nullopt;
    if (!move->exec()) {
        fail(*move, "sequence the outbox");
        return std::nullopt;
    }
    const QList<LoggedRange> ranges = readRanges(*move);
    return ranges.isEmpty() ? LoggedRange{} : ranges.first();
}

std::optional<QList<LoggedRange>> OrderStore::logAfter(qint64 lastId)
{
    QSqlQuery *q = statement(
        QStringLiteral("SELECT first_id, last_id, order_ids::text, seqs::text FROM event_log "
                       "WHERE last_id > ? ORDER BY last_id LIMIT 1000"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, lastId);
    if (!q->exec()) {
        fail(*q, "read the event log");
        return std::nullopt;
    }
    return readRanges(*q);
}

std::optional<qint64> OrderStore::lastLoggedId()
{
    QSqlQuery *q = statement(QStringLiteral("SELECT coalesce(max(last_id), 0) FROM event_log"));
    if (!q)
        return std::nullopt;
    if (!q->exec() || !q->next()) {
        fail(*q, "read the last event id");
        return std::nullopt;
    }
    const qint64 id = q->value(0).toLongLong();
    q->finish();
    return id;
}

std::optional<QList<OrderEvent>> OrderStore::eventsAt(const QStringList &orderIds,
                                                      const QList<int> &seqs)
{
    QSqlQuery *q = statement(
        QStringLiteral("SELECT e.order_id, e.seq, e.status, e.data::text, e.created_at, e.event_id "
                       "FROM unnest(?::uuid[], ?::int[]) AS k(o, s) "
                       "JOIN order_events e ON e.order_id = k.o AND e.seq = k.s"));
    if (!q)
        return std::nullopt;
    QStringList s;
    s.reserve(seqs.size());
    for (int v : seqs)
        s << QString::number(v);
    q->bindValue(0, pgArray(orderIds));
    q->bindValue(1, pgArray(s));
    if (!q->exec()) {
        fail(*q, "read events by key");
        return std::nullopt;
    }
    return readEvents(*q);
}

bool OrderStore::pruneLog(int retentionS)
{
    QSqlQuery *q = statement(
        QStringLiteral("DELETE FROM event_log WHERE logged_at < now() - make_interval(secs => ?) "
                       "AND last_id < (SELECT max(last_id) FROM event_log)"));
    if (!q)
        return false;
    q->bindValue(0, retentionS);
    if (!q->exec())
        return fail(*q, "prune the event log");
    q->finish();
    return true;
}

std::optional<QList<OrderEvent>> OrderStore::loggedEvents(qint64 since, int limit, bool *more,
                                                          bool *gone)
{

    // Whole log rows, oldest first, until about `limit` events (a row holds what one
    // sequencer run logged): the events above `since` in them, by id.
    QSqlQuery *q = statement(QStringLiteral(
        "WITH l AS (SELECT first_id, last_id, order_ids, seqs, "
        "sum(last_id - greatest(first_id - 1, ?)) OVER (ORDER BY last_id) AS upto "
        "FROM event_log WHERE last_id > ? ORDER BY last_id LIMIT 10000), "
        "picked AS (SELECT * FROM l WHERE upto - (last_id - greatest(first_id - 1, ?)) < ?) "
        "SELECT e.order_id, e.seq, e.status, e.data::text, e.created_at, "
        "p.first_id + u.n - 1 AS eid, (SELECT max(last_id) FROM l) AS tail "
        "FROM picked p, unnest(p.order_ids, p.seqs) WITH ORDINALITY AS u(o, s, n) "
        "JOIN order_events e ON e.order_id = u.o AND e.seq = u.s "
        "WHERE p.first_id + u.n - 1 > ? ORDER BY eid"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, since);
    q->bindValue(1, since);
    q->bindValue(2, since);
    q->bindValue(3, limit);
    q->bindValue(4, since);
    if (!q->exec()) {
        fail(*q, "read logged events");
        return std::nullopt;
    }
    QList<OrderEvent> out;
    qint64 tail = 0;
    while (q->next()) {
        out.append(readEvent(*q));
        tail = q->value(6).toLongLong();
    }
    q->finish();
    *more = !out.isEmpty() && tail > out.last().eventId;
    // The log starts where pruning left it; read after the events, so that if it still starts
    // at or before since + 1 now, it did when they were read (pruning only takes old entries).
    QSqlQuery *start = statement(QStringLiteral("SELECT min(first_id) FROM event_log"));
    if (!start)
        return std::nullopt;
    if (!start->exec() || !start->next()) {
        fail(*start, "read where the event log starts");
        return std::nullopt;
    }
    const qint64 first = start->value(0).isNull() ? 1 : start->value(0).toLongLong();
    start->finish();
    *gone = since + 1 < first;
    if (*gone) {
        *more = false;
        out.clear();
    }
    return out;
}

std::optional<QMap<QString, qint64>> OrderStore::countsByStatus()
{
    if (!Database::ensureOpen(m_db))
        return std::nullopt;
    QSqlQuery q(m_db);
    // Maintained by the writes (order_status_counts), not counted by a scan of orders.
    if (!q.exec(QStringLiteral("SELECT status, sum(n) FROM order_status_counts GROUP BY status"))) {
        fail(q, "count orders");
        return std::nullopt;
    }
    QMap<QString, qint64> out;
    while (q.next())
        out.insert(q.value(0).toString(), q.value(1).toLongLong());
    return out;
}

bool OrderStore::ping()
{
    if (!Database::ensureOpen(m_db)) {
        m_lastError = m_db.lastError().text();
        return false;
    }
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT 1"))) {
        fail(q, "ping");
        // The connection may have been stale (server restarted): one fresh attempt.
        if (!Database::ensureOpen(m_db))
            return false;
        QSqlQuery again(m_db);
        return again.exec(QStringLiteral("SELECT 1")) || fail(again, "ping");
    }
    return true;
}

std::optional<qint64> OrderStore::recordAction(const OperatorAction &action)
{
    QSqlQuery *q = statement(
        QStringLiteral("INSERT INTO operator_actions (at, action, target, detail, source) "
                       "VALUES (coalesce(?::timestamptz, now()), ?, ?, ?::jsonb, ?) RETURNING id"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, action.at.isValid() ? QVariant(isoTime(action.at))
                                        : QVariant(QMetaType(QMetaType::QString)));
    q->bindValue(1, action.action);
    q->bindValue(2, action.target.isEmpty() ? QVariant(QMetaType(QMetaType::QString))
                                            : QVariant(action.target));
    q->bindValue(3, QString::fromUtf8(QJsonDocument(action.detail).toJson(QJsonDocument::Compact)));
    q->bindValue(4, action.source);
    if (!q->exec() || !q->next()) {
        fail(*q, "record an operator action");
        return std::nullopt;
    }
    const qint64 id = q->value(0).toLongLong();
    q->finish();
    return id;
}

std::optional<QList<OperatorAction>> OrderStore::recentActions(int limit, qint64 before)
{
    QSqlQuery *q = statement(
        QStringLiteral("SELECT id, at, action, target, detail::text, source FROM operator_actions "
                       "WHERE ?::bigint <= 0 OR id < ?::bigint ORDER BY id DESC LIMIT ?"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, before);
    q->bindValue(1, before);
    q->bindValue(2, limit);
    if (!q->exec()) {
        fail(*q, "read operator actions");
        return std::nullopt;
    }
    QList<OperatorAction> out;
    while (q->next()) {
        OperatorAction a;
        a.id = q->value(0).toLongLong();
        a.at = q->value(1).toDateTime().toUTC();
        a.action = q->value(2).toString();
        a.target = q->value(3).toString();
        a.detail = QJsonDocument::fromJson(q->value(4).toString().toUtf8()).object();
        a.source = q->value(5).toString();
        out.append(a);
    }
    q->finish();
    return out;
}

std::optional<OrderStore::RetrySource> OrderStore::retrySource(const QString &orderId)
{
    QSqlQuery *q = statement(QStringLiteral(
        "SELECT o.status, e.data::text FROM orders o "
        "JOIN order_events e ON e.order_id = o.id AND e.seq = 1 WHERE o.id = ?::uuid"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, orderId);
    if (!q->exec()) {
        fail(*q, "read the order to retry");
        return std::nullopt;
    }
    RetrySource out;
    if (q->next()) {
        out.found = true;
        out.status = statusFromName(q->value(0).toString()).value_or(OrderStatus::Pending);
        out.submitted = QJsonDocument::fromJson(q->value(1).toString().toUtf8()).object();
    }
    q->finish();
    return out;
}

} // namespace oee
