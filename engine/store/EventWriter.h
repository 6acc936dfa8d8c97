#pragma once
#include "domain/Order.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <functional>

namespace oee {

class OrderStore;
class RedisConnection;

// Group commit for status changes produced on one thread: every event appended during one
// turn of the event loop is written in one transaction (one statement, whatever the count),
// then announced in process (to the event log), then published on Redis (a hint), and only
// then are the producers continued.
// While PostgreSQL is unreachable, it keeps the batch and retries with backoff: producers
// simply wait, nothing is announced that is not durable. An order whose fence was taken by a
// later claim, or whose write can never succeed (a violated constraint), is dropped from the
// batch and reported by `dropped`; the rest of the batch is written regardless.
class EventWriter : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventWriter)
public:
    EventWriter(OrderStore *store, RedisConnection *redis, QByteArray channel,
                QByteArray instanceId, QObject *parent = nullptr);

    void append(const OrderEvent &event, std::function<void()> onDurable);
    // Publishes and announces events that are already durable (re-announcing a terminal event
    // that a process which died after committing it may never have published).
    void announce(QList<OrderEvent> events);
    // Unwritten events of this order are to be written under a new fence (the worker claimed
    // the order again while still running it).
    void refence(const QString &orderId, qint64 fence);
    // Writes what is pending now (shutdown); returns false if it could not.
    bool flushNow();
    [[nodiscard]] qsizetype pendingCount() const { return m_events.size(); }
    // Fault injection: the process exits right after the Nth batch (of all writers) commits,
    // before it is published or announced (0: never).
    void setChaosExitAfterCommits(int n) { m_chaosExitAfter = n; }

signals:
    void committed(const QList<oee::OrderEvent> &events);
    // Events of these orders, written under these fences, were not and will not be written:
    // the order belongs to a later claim now, or its write was refused as invalid.
    void dropped(const QHash<QString, qint64> &fenceByOrder);

private:
    void flush();
    // Writes a batch; on a permanent failure, writes each order alone so that one bad order
    // never holds back the others. Returns false on a transient failure (nothing written).
    bool write(const QList<OrderEvent> &events, QSet<QString> *dropped);

    OrderStore *m_store;
    RedisConnection *m_redis;
    QByteArray m_channel;
    QByteArray m_instanceId;
    QList<OrderEvent> m_events;
    QList<std::function<void()>> m_continuations;
    QTimer m_timer{this};
    int m_retryDelayMs = 0;
    int m_chaosExitAfter = 0;
};

} // namespace oee
