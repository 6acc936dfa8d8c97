#include "api/Reads.h"

#include "queue/RedisConnection.h"
#include "store/OrderStore.h"

namespace oee::reads {

OrderLookup order(OrderStore &store, const QString &id, bool withEvents, bool loggedOnly)
{
    OrderLookup r;
    const auto row = store.order(id);
    if (!row)
        return r;
    if (!*row) {
        r.result = OrderLookup::Result::Missing;
        return r;
    }
    if (withEvents) {
        const auto events = store.events(id, loggedOnly);
        if (!events)
            return r;
        r.events = *events;
    }
    r.order = **row;
    r.result = OrderLookup::Result::Found;
    return r;
}

OrderPage orders(OrderStore &store, std::optional<OrderStatus> status, int limit, qint64 before)
{
    OrderPage page;
    const auto rows = store.orders(status, limit, before);
    if (!rows)
        return page;
    page.ok = true;
    page.orders = *rows;
    if (rows->size() == limit && !rows->isEmpty())
        page.next = rows->last().orderNo;
    return page;
}

// PING to the server, or on a Redis Cluster to every master: up only if all answer.
static RedisReply pingAll(RedisConnection &redis)
{
    const QList<RedisReply> pongs = redis.onEveryMaster({"PING"});
    if (pongs.isEmpty())
        return RedisReply{RedisReply::IoError,
                          0,
                          "no Redis Cluster master reachable: " + redis.lastError().toUtf8(),
                          {}};
    for (const RedisReply &p : pongs)
        if (!p.ok())
            return p;
    return pongs.first();
}

Health health(OrderStore &store, RedisConnection &redis)
{
    RedisReply pong = pingAll(redis);
    if (pong.type == RedisReply::IoError)
        pong = pingAll(redis); // one reconnect after a server restart
    Health h;
    h.redisUp = pong.ok();
    h.redis =
        h.redisUp ? QStringLiteral("up") : QStringLiteral("down: ") + QString::fromUtf8(pong.str);
    h.postgresUp = store.ping();
    h.postgres = h.postgresUp ? QStringLiteral("up") : QStringLiteral("down: ") + store.lastError();
    return h;
}

QJsonObject Health::toJson() const
{
    QJsonObject body{{QStringLiteral("status"),
                      healthy() ? QStringLiteral("healthy") : QStringLiteral("unhealthy")},
                     {QStringLiteral("redis"), redis},
                     {QStringLiteral("postgres"), postgres},
                     {QStringLiteral("timestamp"), isoTime(QDateTime::currentDateTimeUtc())}};
    if (!healthy()) {
        QStringList down;
        if (!redisUp)
            down << QStringLiteral("redis");
        if (!postgresUp)
            down << QStringLiteral("postgres");
        body.insert(QStringLiteral("success"), false);
        body.insert(QStringLiteral("error"),
                    QStringLiteral("not answering: ") + down.join(QStringLiteral(", ")));
        body.insert(QStringLiteral("code"), QStringLiteral("dependency_down"));
    }
    return body;
}

Metrics metrics(OrderStore &store, JobQueue &queue)
{
    return Metrics{queue.counts(), store.countsByStatus()};
}

QJsonObject Metrics::toJson() const
{
    QJsonObject body{{QStringLiteral("success"), ok()},
                     {QStringLiteral("timestamp"), isoTime(QDateTime::currentDateTimeUtc())}};
    if (queue.ok) {
        body.insert(QStringLiteral("queue"),
                    QJsonObject{{QStringLiteral("waiting"), double(queue.waiting)},
                                {QStringLiteral("active"), double(queue.active)},
                                {QStringLiteral("delayed"), double(queue.delayed)},
                                {QStringLiteral("completed"), double(queue.completed)},
                                {QStringLiteral("failed"), double(queue.failed)},
                                {QStringLiteral("stalled"), double(queue.stalled)}});
    } else {
        body.insert(QStringLiteral("queue"), QJsonValue::Null);
        body.insert(QStringLiteral("queueError"), queue.error);
    }
    if (byStatus) {
        QJsonObject orders;
        qint64 total = 0;
        for (OrderStatus s : allStatuses()) {
            const qint64 n = byStatus->value(statusName(s));
            orders.insert(statusName(s), double(n));
            total += n;
        }
        // Seed 001's dashboard cards: processing is any status between pending and the end,
        // completed is confirmed.
        orders.insert(QStringLiteral("processing"),
                      double(byStatus->value(statusName(OrderStatus::Routing)) +
                             byStatus->value(statusName(OrderStatus::Building)) +
                             byStatus->value(statusName(OrderStatus::Submitted))));
        orders.insert(QStringLiteral("completed"),
                      double(byStatus->value(statusName(OrderStatus::Confirmed))));
        orders.insert(QStringLiteral("total"), double(total));
        body.insert(QStringLiteral("orders"), orders);
    } else {
        body.insert(QStringLiteral("orders"), QJsonValue::Null);
    }
    return body;
}

} // namespace oee::reads
