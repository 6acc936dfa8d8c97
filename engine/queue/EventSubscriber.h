#pragma once
#include "domain/Order.h"
#include "queue/RedisConnection.h"

#include <QThread>
#include <atomic>

namespace oee {

// Listens on Redis pub/sub for what other processes do: status changes published by their
// workers (`<prefix>events`: a hint that the event log has more — the streams read the log,
// never this — and news for this process's resting book), and new jobs (`<prefix>wake`), so
// idle workers start at once instead of at their next poll. Messages this process published
// itself (same instance id) are skipped. A thread of its own with a blocking connection;
// reconnects by itself.
class EventSubscriber : public QThread
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventSubscriber)
public:
    EventSubscriber(RedisEndpoint endpoint, QByteArray prefix, QByteArray instanceId,
                    bool wantEvents, bool wantWake, QObject *parent = nullptr);
    ~EventSubscriber() override;
    void stop();

signals:
    void remoteEvents(const QList<oee::OrderEvent> &events);
    void wake();
    // A token was launched (by any process): read the launches now.
    void launched();

protected:
    void run() override;

private:
    RedisEndpoint m_endpoint;
    QByteArray m_prefix;
    QByteArray m_instanceId;
    bool m_wantEvents;
    bool m_wantWake;
    std::atomic<bool> m_stop{false};
};

// The payload published for one committed batch: "<instance id>\n<event JSON>\n<event JSON>…"
// (one message per batch, not per event: fewer Redis messages and subscriber wake-ups).
QByteArray publishedBatch(const QByteArray &instanceId, const QList<OrderEvent> &events);

} // namespace oee
