#include "store/EventWriter.h"

#include "queue/EventSubscriber.h"
#include "queue/RedisConnection.h"
#include "runtime/Logging.h"
#include "store/OrderStore.h"

namespace oee {

EventWriter::EventWriter(OrderStore *store, RedisConnection *redis, QByteArray channel,
                         QByteArray instanceId, QObject *parent)
    : QObject(parent), m_store(store), m_redis(redis), m_channel(std::move(channel)),
      m_instanceId(std::move(instanceId))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &EventWriter::flush);
}

void EventWriter::append(const OrderEvent &event, std::function<void()> onDurable)
{
    m_events.append(event);
    m_continuations.append(std::move(onDurable));
    if (!m_timer.isActive())
        m_timer.start(0);
}

void EventWriter::announce(QList<OrderEvent> events)
{
    if (events.isEmpty())
        return;
    for (OrderEvent &e : events)
        e.message = e.toMessage();
    // Other processes (API nodes) learn of events here; best effort, PostgreSQL is the record.
    m_redis->command({"PUBLISH", m_channel, publishedBatch(m_instanceId, events)});
    emit committed(events);
}

bool EventWriter::flushNow()
{
    m_timer.stop();
    flush();
    return m_events.isEmpty();
}

void EventWriter::flush()
{
    if (m_events.isEmpty())
        return;
    QList<OrderEvent> events = std::exchange(m_events, {});
    const QList<std::function<void()>> next = std::exchange(m_continuations, {});

    if (!m_store->appendEvents(events)) {
        // Keep the batch (and anything appended meanwhile, after it) and try again later.
        m_events = events + m_events;
        m_continuations = next + m_continuations;
        m_retryDelayMs = qBound(100, m_retryDelayMs * 2, 2000);
        qCWarning(lcStore, "event batch of %lld not written (%s); retrying in %d ms",
                  qlonglong(events.size()), qPrintable(m_store->lastError()), m_retryDelayMs);
        m_timer.start(m_retryDelayMs);
        return;
    }
    m_retryDelayMs = 0;
    announce(events);
    for (const auto &fn : next)
        if (fn)
            fn();
}

} // namespace oee
