#include "queue/EventSubscriber.h"
#include "queue/RedisKeys.h"

#include "runtime/Logging.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <hiredis/hiredis.h>

namespace oee {

QByteArray publishedBatch(const QByteArray &instanceId, const QList<OrderEvent> &events)
{
    QByteArray out = instanceId;
    for (const OrderEvent &e : events) {
        out += '\n';
        out += e.message.isEmpty() ? e.toMessage() : e.message; // compact JSON: no newlines
    }
    return out;
}

EventSubscriber::EventSubscriber(RedisEndpoint endpoint, QByteArray prefix, QByteArray instanceId,
                                 bool wantEvents, bool wantWake, QObject *parent)
    : QThread(parent), m_endpoint(std::move(endpoint)), m_prefix(std::move(prefix)),
      m_instanceId(std::move(instanceId)), m_wantEvents(wantEvents), m_wantWake(wantWake)
{
    setObjectName(QStringLiteral("oee-subscriber"));
}

EventSubscriber::~EventSubscriber()
{
    stop();
}

void EventSubscriber::stop()
{
    m_stop = true;
    wait();
}

void EventSubscriber::run()
{
    const QByteArray eventsChannel = rkeys::eventsChannel(m_prefix);
    const QByteArray wakeChannel = rkeys::wakeChannel(m_prefix);
    const QByteArray launchChannel = rkeys::launchedChannel(m_prefix);
    while (!m_stop) {
        RedisConnection conn(m_endpoint, 250); // the read timeout is how often we look at m_stop
        QList<QByteArray> subscribe{"SUBSCRIBE"};
        if (m_wantEvents)
            subscribe << eventsChannel;
        if (m_wantWake)
            subscribe << wakeChannel << launchChannel;
        // One reply per channel confirms the subscription.
        const QList<RedisReply> confirmations = conn.pipeline({subscribe});
        if (!confirmations.first().ok()) {
            QThread::msleep(200);
            continue;
        }
        for (int i = 1; i < subscribe.size() - 1 && !m_stop; ++i)
            conn.readPushed();
        QList<OrderEvent> batch;
        qint64 batchStarted = 0;
        while (!m_stop && conn.isConnected()) {
            const std::optional<RedisReply> msg = conn.readPushed();
            if (msg && msg->type == RedisReply::Array && msg->elements.size() == 3 &&
                msg->elements[0].str == "message") {
                const QByteArray &channel = msg->elements[1].str;
                const QByteArray &payload = msg->elements[2].str;
                if (channel == wakeChannel) {
                    emit wake();
                } else if (channel == launchChannel) {
                    emit launched();
                } else if (channel == eventsChannel) {
                    const qsizetype end = payload.indexOf('\n');
                    if (end > 0 && payload.left(end) != m_instanceId) {
                        for (const QByteArray &line : payload.mid(end + 1).split('\n')) {
                            if (auto e = OrderEvent::fromMessage(line)) {
                                if (batch.isEmpty())
                                    batchStarted = QDateTime::currentMSecsSinceEpoch();
                                batch.append(*e);
                            }
                        }
                    }
                }
            }
            // Hand events over in small batches: at most ~5 ms or 256 events late.
            if (!batch.isEmpty() && (!msg || batch.size() >= 256 ||
                                     QDateTime::currentMSecsSinceEpoch() - batchStarted >= 5))
                emit remoteEvents(std::exchange(batch, {}));
        }
        if (!batch.isEmpty())
            emit remoteEvents(batch);
        if (!m_stop)
            QThread::msleep(200);
    }
}

} // namespace oee
