#pragma once
#include "domain/Order.h"
#include "queue/JobQueue.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <optional>

namespace oee {

class OrderStore;
class RedisConnection;

// One typed query per read, shared by the REST controllers, the WebSocket streams and the
// console. Each runs on the query thread (QueryService::post) with that thread's connections.
namespace reads {

struct OrderLookup
{
    enum class Result { Found, Missing, Unavailable };
    Result result = Result::Unavailable;
    Order order;
    QList<OrderEvent> events; // with withEvents only
};
// `id` must be canonical (canonicalOrderId).
// loggedOnly: only the events the event log has numbered (see OrderStore::events).
[[nodiscard]] OrderLookup order(OrderStore &store, const QString &id, bool withEvents,
                                bool loggedOnly = false);

struct OrderPage
{
    bool ok = false;
    QList<Order> orders;        // newest first
    std::optional<qint64> next; // the `before` cursor of the next page, if there may be one
};
[[nodiscard]] OrderPage orders(OrderStore &store, std::optional<OrderStatus> status, int limit,
                               qint64 before);

struct Health
{
    bool redisUp = false;
    QString redis; // "up" or why not
    bool postgresUp = false;
    QString postgres;
    [[nodiscard]] bool healthy() const { return redisUp && postgresUp; }
    [[nodiscard]] QJsonObject toJson() const;
};
[[nodiscard]] Health health(OrderStore &store, RedisConnection &redis);

struct Metrics
{
    QueueCounts queue;
    std::optional<QMap<QString, qint64>> byStatus;
    [[nodiscard]] bool ok() const { return queue.ok && byStatus.has_value(); }
    // queue counts, orders by status (oee's statuses and seed 001's processing / completed).
    [[nodiscard]] QJsonObject toJson() const;
};
[[nodiscard]] Metrics metrics(OrderStore &store, JobQueue &queue);

} // namespace reads
} // namespace oee
