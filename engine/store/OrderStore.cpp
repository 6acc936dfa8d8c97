#include "store/OrderStore.h"

#include "runtime/Logging.h"
#include "store/Database.h"

#include <QJsonDocument>
#include <QLocale>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>

namespace oee {

QString numericText(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

bool OrderStore::fail(const QSqlQuery &q, const char *what)
{
    m_lastError = QStringLiteral("%1: %2").arg(QLatin1String(what), q.lastError().text());
    qCWarning(lcStore, "%s", qPrintable(m_lastError));
    // A broken connection is reopened on next use; cheap, and failures are rare.
    if (q.lastError().type() == QSqlError::ConnectionError || !m_db.isOpen() ||
        m_lastError.contains(QLatin1String("connection"), Qt::CaseInsensitive) ||
        m_lastError.contains(QLatin1String("server closed"), Qt::CaseInsensitive) ||
        m_lastError.contains(QLatin1String("terminating"), Qt::CaseInsensitive))
        m_db.close();
    return false;
}

bool OrderStore::begin()
{
    if (!Database::ensureOpen(m_db)) {
        m_lastError = m_db.lastError().text();
        return false;
    }
    if (!m_db.transaction()) {
        m_lastError = m_db.lastError().text();
        m_db.close();
        return false;
    }
    return true;
}

bool OrderStore::commit()
{
    if (!m_db.commit()) {
        m_lastError = m_db.lastError().text();
        m_db.close();
        return false;
    }
    return true;
}

void OrderStore::rollback()
{
    if (m_db.isOpen())
        m_db.rollback();
}

bool OrderStore::insertOrders(const QList<NewOrder> &orders, const QList<OrderEvent> &pending)
{
    QStringList ids, types, ins, outs, amounts, slippages, times;
    for (const NewOrder &o : orders) {
        ids << o.id;
        types << o.request.orderType;
        ins << o.request.tokenIn;
        outs << o.request.tokenOut;
        amounts << numericText(o.request.amount);
        slippages << numericText(o.request.slippage);
        times << isoTime(o.createdAt);
    }
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "INSERT INTO orders (id, order_type, token_in, token_out, amount, slippage, status, "
        "last_seq, created_at, updated_at) "
        "SELECT u.id, u.t, u.i, u.o, u.a, u.s, 'pending', 1, u.c, u.c FROM unnest("
        "?::uuid[], ?::text[], ?::text[], ?::text[], ?::numeric[], ?::numeric[], "
        "?::timestamptz[]) AS u(id, t, i, o, a, s, c)"));
    for (const QStringList *l : {&ids, &types, &ins, &outs, &amounts, &slippages, &times})
        q.addBindValue(pgArray(*l));
    if (!q.exec())
        return fail(q, "insert orders");
    return appendEvents(pending);
}

bool OrderStore::appendEvents(const QList<OrderEvent> &events)
{
    if (events.isEmpty())
        return true;
    QStringList ids, seqs, statuses, datas, times;
    // The orders row follows each order's latest event in this batch.
    QHash<QString, qsizetype> latest;
    for (qsizetype i = 0; i < events.size(); ++i) {
        const OrderEvent &e = events[i];
        ids << e.orderId;
        seqs << QString::number(e.seq);
        statuses << statusName(e.status);
        datas << QString::fromUtf8(QJsonDocument(e.data).toJson(QJsonDocument::Compact));
        times << isoTime(e.at);
        auto it = latest.find(e.orderId);
        if (it == latest.end() || events[*it].seq < e.seq)
            latest.insert(e.orderId, i);
    }
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "INSERT INTO order_events (order_id, seq, status, data, created_at) "
        "SELECT * FROM unnest(?::uuid[], ?::int[], ?::text[], ?::jsonb[], ?::timestamptz[])"));
    for (const QStringList *l : {&ids, &seqs, &statuses, &datas, &times})
        q.addBindValue(pgArray(*l));
    if (!q.exec())
        return fail(q, "insert order_events");

    QStringList uIds, uSeqs, uStatus, uTimes, uAttempts, uDex, uSig, uPrice, uOut, uErr;
    QList<bool> nAttempts, nDex, nSig, nPrice, nOut, nErr;
    auto text = [](const QJsonObject &d, const char *key, QStringList &vals, QList<bool> &nulls) {
        const QJsonValue v = d.value(QLatin1String(key));
        nulls << (v.isUndefined() || v.isNull());
        vals << (v.isDouble() ? numericText(v.toDouble()) : v.toVariant().toString());
    };
    for (qsizetype i : std::as_const(latest)) {
        const OrderEvent &e = events[i];
        uIds << e.orderId;
        uSeqs << QString::number(e.seq);
        uStatus << statusName(e.status);
        uTimes << isoTime(e.at);
        text(e.data, "attempt", uAttempts, nAttempts);
        text(e.data, "venue", uDex, nDex);
        text(e.data, "signature", uSig, nSig);
        text(e.data, "executedPrice", uPrice, nPrice);
        text(e.data, "amountOut", uOut, nOut);
        text(e.data, "error", uErr, nErr);
    }
    q.prepare(QStringLiteral(
        "UPDATE orders o SET status = u.status, last_seq = u.seq, updated_at = u.at, "
        "attempts = coalesce(u.attempts, o.attempts), dex = coalesce(u.dex, o.dex), "
        "tx_signature = coalesce(u.sig, o.tx_signature), "
        "executed_price = coalesce(u.price, o.executed_price), "
        "amount_out = coalesce(u.out, o.amount_out), "
        "error = CASE WHEN u.status = 'confirmed' THEN NULL ELSE coalesce(u.err, o.error) END "
        "FROM unnest(?::uuid[], ?::int[], ?::text[], ?::timestamptz[], ?::int[], ?::text[], "
        "?::text[], ?::numeric[], ?::numeric[], ?::text[]) "
        "AS u(id, seq, status, at, attempts, dex, sig, price, out, err) "
        "WHERE o.id = u.id AND o.last_seq < u.seq"));
    q.addBindValue(pgArray(uIds));
    q.addBindValue(pgArray(uSeqs));
    q.addBindValue(pgArray(uStatus));
    q.addBindValue(pgArray(uTimes));
    q.addBindValue(pgArray(uAttempts, nAttempts));
    q.addBindValue(pgArray(uDex, nDex));
    q.addBindValue(pgArray(uSig, nSig));
    q.addBindValue(pgArray(uPrice, nPrice));
    q.addBindValue(pgArray(uOut, nOut));
    q.addBindValue(pgArray(uErr, nErr));
    if (!q.exec())
        return fail(q, "update orders");
    return true;
}

bool OrderStore::deleteOrders(const QStringList &ids)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("DELETE FROM orders WHERE id = ANY(?::uuid[])"));
    q.addBindValue(pgArray(ids));
    return q.exec() || fail(q, "delete orders");
}

std::optional<QHash<QString, OrderCursor>> OrderStore::cursors(const QStringList &ids)
{
    if (!Database::ensureOpen(m_db))
        return std::nullopt;
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT id, status, last_seq FROM orders WHERE id = ANY(?::uuid[])"));
    q.addBindValue(pgArray(ids));
    if (!q.exec()) {
        fail(q, "order cursors");
        return std::nullopt;
    }
    QHash<QString, OrderCursor> out;
    while (q.next()) {
        out.insert(q.value(0).toString(),
                   OrderCursor{statusFromName(q.value(1).toString()).value_or(OrderStatus::Pending),
                               q.value(2).toInt()});
    }
    return out;
}

static const char *kOrderColumns =
    "id, order_no, order_type, token_in, token_out, amount, slippage, status, last_seq, "
    "attempts, dex, tx_signature, executed_price, amount_out, error, created_at, updated_at";

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
    o.dex = q.value(10).toString();
    o.txSignature = q.value(11).toString();
    o.executedPrice = q.value(12).toString();
    o.amountOut = q.value(13).toString();
    o.error = q.value(14).toString();
    o.createdAt = q.value(15).toDateTime();
    o.updatedAt = q.value(16).toDateTime();
    return o;
}

std::optional<std::optional<Order>> OrderStore::order(const QString &id)
{
    if (!Database::ensureOpen(m_db))
        return std::nullopt;
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT %1 FROM orders WHERE id = ?::uuid")
                  .arg(QLatin1String(kOrderColumns)));
    q.addBindValue(id);
    if (!q.exec()) {
        fail(q, "select order");
        return std::nullopt;
    }
    if (!q.next())
        return std::optional<Order>{};
    return std::optional<Order>{readOrder(q)};
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
    const QVariant s = status ? QVariant(statusName(*status)) : QVariant(QMetaType(QMetaType::QString));
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

std::optional<QList<OrderEvent>> OrderStore::events(const QString &orderId)
{
    if (!Database::ensureOpen(m_db))
        return std::nullopt;
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT seq, status, data::text, created_at FROM order_events "
                             "WHERE order_id = ?::uuid ORDER BY seq"));
    q.addBindValue(orderId);
    if (!q.exec()) {
        fail(q, "select events");
        return std::nullopt;
    }
    QList<OrderEvent> out;
    while (q.next()) {
        OrderEvent e;
        e.orderId = orderId;
        e.seq = q.value(0).toInt();
        e.status = statusFromName(q.value(1).toString()).value_or(OrderStatus::Pending);
        e.data = QJsonDocument::fromJson(q.value(2).toString().toUtf8()).object();
        e.at = q.value(3).toDateTime();
        out.append(e);
    }
    return out;
}

std::optional<QMap<QString, qint64>> OrderStore::countsByStatus()
{
    if (!Database::ensureOpen(m_db))
        return std::nullopt;
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT status, count(*) FROM orders GROUP BY status"))) {
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

} // namespace oee
