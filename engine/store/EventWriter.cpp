#include "store/EventWriter.h"

#include "runtime/Metrics.h"

#include <QElapsedTimer>
#include <atomic>
#include <unistd.h>

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
    // In process first (the event log keeps them rather than read them back), then other
    // processes: a hint to their event logs and news for their resting books; best effort,
    // the log in PostgreSQL is the record.
    emit committed(events);
    m_redis->command({"PUBLISH", m_channel, publishedBatch(m_instanceId, events)});
}

void EventWriter::refence(const QString &orderId, qint64 fence)
{
    for (OrderEvent &e : m_events)
        if (e.orderId == orderId)
            e.fence = fence;
}

bool EventWriter::flushNow()
{
    m_timer.stop();
    flush();
    return m_events.isEmpty();
}

bool EventWriter::write(const QList<OrderEvent> &events, QSet<QString> *dropped)
{
    QElapsedTimer timer;
    timer.start();
    AppendResult r = m_store->appendEvents(events);
    metrics::Registry &m = metrics::registry();
    if (r.ok) {
        m.pgCommitSeconds.observe(double(timer.nsecsElapsed()) / 1e9);
        m.pgBatchEvents.observe(double(events.size()));
    } else {
        m.pgBatchFailures.fetch_add(1, std::memory_order_relaxed);
    }
    if (r.ok) {
        *dropped += r.superseded;
        return true;
    }
    if (!m_store->lastErrorPermanent())
        return false;
    // Bad data somewhere in the batch: retrying it whole would fail forever. Each order alone.
    QHash<QString, QList<OrderEvent>> byOrder;
    for (const OrderEvent &e : events)
        byOrder[e.orderId].append(e);
    if (byOrder.size() == 1) {
        qCCritical(lcStore, "order %s: its status change can never be written (%s); dropped",
                   qPrintable(events.first().orderId), qPrintable(m_store->lastError()));
        dropped->insert(events.first().orderId);
        return true;
    }
    for (auto it = byOrder.cbegin(); it != byOrder.cend(); ++it)
        if (!write(it.value(), dropped))
            return false; // the server went away meanwhile; orders written so far stay written
    return true;
}

void EventWriter::flush()
{
    if (m_events.isEmpty())
        return;
    QList<OrderEvent> events = std::exchange(m_events, {});
    QList<std::function<void()>> next = std::exchange(m_continuations, {});

    QSet<QString> lost;
    if (!write(events, &lost)) {
        // Keep the batch (and anything appended meanwhile, after it) and try again later.
        // (Should a permanent and a transient failure meet in one flush, orders already
        // written one by one are refused by seq on the retry and dropped here; the next claim
        // resumes them from PostgreSQL once their lease expires.)
        m_events = events + m_events;
        m_continuations = next + m_continuations;
        m_retryDelayMs = qBound(100, m_retryDelayMs * 2, 2000);
        qCWarning(lcStore, "event batch of %lld not written (%s); retrying in %d ms",
                  qlonglong(events.size()), qPrintable(m_store->lastError()), m_retryDelayMs);
        m_timer.start(m_retryDelayMs);
        return;
    }
    m_retryDelayMs = 0;
    if (m_chaosExitAfter > 0) {
        static std::atomic<int> commits{0};
        if (++commits == m_chaosExitAfter) {
            qCCritical(lcStore, "chaos: exiting after commit %d, before publishing it",
                       m_chaosExitAfter);
            ::_exit(137);
        }
    }
    if (!lost.isEmpty()) {
        QHash<QString, qint64> fences;
        QList<OrderEvent> kept;
        QList<std::function<void()>> keptNext;
        for (qsizetype i = 0; i < events.size(); ++i) {
            if (lost.contains(events[i].orderId)) {
                fences.insert(events[i].orderId, events[i].fence);
            } else {
                kept.append(events[i]);
                keptNext.append(next[i]);
            }
        }
        qCWarning(lcStore, "%lld order(s) not written: taken over by a later claim or invalid",
                  qlonglong(fences.size()));
        events = kept;
        next = keptNext;
        emit dropped(fences);
    }
    announce(events);
    for (const auto &fn : next)
        if (fn)
            fn();
}

} // namespace oee
