#include "api/WsHub.h"

#include "api/Json.h"
#include "api/QueryService.h"
#include "runtime/Logging.h"
#include "store/OrderStore.h"

#include <QJsonArray>
#include <QPointer>
#include <QRegularExpression>
#include <QUrlQuery>
#include <QUuid>

namespace oee {

WsHub::WsHub(QueryService *queries, QObject *parent) : QObject(parent), m_queries(queries)
{
    m_fanoutTimer.setSingleShot(true);
    m_fanoutTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_fanoutTimer, &QTimer::timeout, this, &WsHub::deliverOutbox);
}

WsHub::~WsHub()
{
    const auto sockets = m_subscribers.keys();
    m_subscribers.clear();
    for (QWebSocket *s : sockets) {
        s->disconnect(this);
        s->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("server shutting down"));
        delete s;
    }
}

void WsHub::accept(std::unique_ptr<QWebSocket> owned)
{
    QWebSocket *socket = owned.release();
    socket->setParent(this);
    const QString path = socket->requestUrl().path();
    if (!m_apiKey.isEmpty()) {
        const QString token = QUrlQuery(socket->requestUrl()).queryItemValue(QStringLiteral("token"));
        const QByteArray header = socket->request().rawHeader("Authorization");
        if (token != m_apiKey && header != "Bearer " + m_apiKey.toUtf8()) {
            socket->sendTextMessage(QString::fromUtf8(errorJson(
                {401, QStringLiteral("unauthorized"),
                 QStringLiteral("streams need Authorization: Bearer <API key> or ?token=<API key>"),
                 QStringLiteral("Authorization")})));
            socket->close(QWebSocketProtocol::CloseCode(4401), QStringLiteral("unauthorized"));
            socket->deleteLater();
            return;
        }
    }
    static const QRegularExpression perOrder(QStringLiteral(
        "^(?:/ws/orders/([^/]+)|/api/orders/([^/]+)/stream|/ws/([^/]+))/?$"));
    QString orderId;
    bool all = path == QStringLiteral("/ws/orders") || path == QStringLiteral("/ws/orders/") ||
               path == QStringLiteral("/api/orders/stream/all");
    if (!all) {
        const auto m = perOrder.match(path);
        if (m.hasMatch())
            orderId = m.captured(1) + m.captured(2) + m.captured(3);
    }
    if (!all && orderId.isEmpty()) {
        socket->sendTextMessage(QString::fromUtf8(errorJson(
            {404, QStringLiteral("not_found"),
             QStringLiteral("no WebSocket stream at %1; use /ws/orders or /ws/orders/<id>")
                 .arg(path),
             {}})));
        socket->close(QWebSocketProtocol::CloseCode(4404), QStringLiteral("unknown stream"));
        socket->deleteLater();
        return;
    }
    connect(socket, &QWebSocket::disconnected, this, [this, socket] { remove(socket); });
    connect(socket, &QWebSocket::bytesWritten, this, [this, socket](qint64 n) {
        const auto it = m_subscribers.find(socket);
        if (it != m_subscribers.end()) {
            const qint64 written = qMin(n, it->unsent);
            it->unsent -= written;
            m_totalUnsent -= written;
        }
    });
    m_subscribers.insert(socket, Subscriber{orderId, false, 0, {}});
    if (all) {
        m_allOrders.insert(socket);
        snapshotAll(socket);
    } else {
        m_byOrder.insert(orderId, socket);
        snapshotOrder(socket, orderId);
    }
}

void WsHub::remove(QWebSocket *socket)
{
    const auto it = m_subscribers.find(socket);
    if (it == m_subscribers.end())
        return;
    if (!it->orderId.isEmpty())
        m_byOrder.remove(it->orderId, socket);
    else
        m_allOrders.remove(socket);
    m_totalUnsent -= it->unsent;
    m_subscribers.erase(it);
    socket->deleteLater();
}

void WsHub::snapshotOrder(QWebSocket *socket, const QString &orderId)
{
    QPointer<QWebSocket> guard(socket);
    const bool validId = !QUuid::fromString(orderId).isNull();
    m_queries->post([this, guard, orderId, validId](OrderStore &store, JobQueue &, RedisConnection &) {
        std::optional<std::optional<Order>> order;
        std::optional<QList<OrderEvent>> events;
        if (validId) {
            order = store.order(orderId);
            if (order && *order)
                events = store.events(orderId);
        } else {
            order = std::optional<Order>{};
        }
        QMetaObject::invokeMethod(this, [this, guard, orderId, order, events] {
            if (!guard || !m_subscribers.contains(guard))
                return;
            QWebSocket *s = guard;
            if (!order || (*order && !events)) {
                s->sendTextMessage(QString::fromUtf8(errorJson(
                    {503, QStringLiteral("database_unavailable"),
                     QStringLiteral("cannot read the order snapshot now"), {}})));
                s->close(QWebSocketProtocol::CloseCode(4503), QStringLiteral("unavailable"));
                return;
            }
            if (!*order) {
                s->sendTextMessage(QString::fromUtf8(errorJson(
                    {404, QStringLiteral("not_found"),
                     QStringLiteral("no order with id '%1'").arg(orderId.left(64)), {}})));
                s->close(QWebSocketProtocol::CloseCode(4404), QStringLiteral("order not found"));
                return;
            }
            QJsonArray list;
            int maxSeq = 0;
            for (const OrderEvent &e : *events) {
                list.append(e.toJson());
                maxSeq = qMax(maxSeq, e.seq);
            }
            s->sendTextMessage(QString::fromUtf8(compactJson(
                {{QStringLiteral("type"), QStringLiteral("snapshot")},
                 {QStringLiteral("orderId"), orderId},
                 {QStringLiteral("seq"), maxSeq},
                 {QStringLiteral("order"), (*order)->toJson()},
                 {QStringLiteral("events"), list}})));
            markReady(s, maxSeq);
        }, Qt::QueuedConnection);
    });
}

void WsHub::snapshotAll(QWebSocket *socket)
{
    QPointer<QWebSocket> guard(socket);
    m_queries->post([this, guard](OrderStore &store, JobQueue &, RedisConnection &) {
        const auto orders = store.orders(std::nullopt, 50, 0);
        QMetaObject::invokeMethod(this, [this, guard, orders] {
            if (!guard || !m_subscribers.contains(guard))
                return;
            QJsonArray list;
            if (orders)
                for (const Order &o : *orders)
                    list.append(o.toJson());
            guard->sendTextMessage(QString::fromUtf8(
                compactJson({{QStringLiteral("type"), QStringLiteral("snapshot")},
                             {QStringLiteral("orders"), list},
                             {QStringLiteral("complete"), bool(orders)}})));
            markReady(guard, 0);
        }, Qt::QueuedConnection);
    });
}

void WsHub::markReady(QWebSocket *socket, int snapshotSeq)
{
    Subscriber &sub = m_subscribers[socket];
    sub.ready = true;
    sub.snapshotSeq = snapshotSeq;
    const QList<OrderEvent> buffered = std::exchange(sub.buffered, {});
    for (const OrderEvent &e : buffered)
        send(socket, e, messageText(e));
}

void WsHub::send(QWebSocket *socket, const OrderEvent &e, const QString &text)
{
    Subscriber &sub = m_subscribers[socket];
    if (!sub.orderId.isEmpty() && e.seq <= sub.snapshotSeq)
        return; // already in the snapshot
    if (sub.dropping)
        return;
    const qint64 bytes = text.size() + 4;
    sub.unsent += bytes;
    m_totalUnsent += bytes;
    // Past the per-client limit, or past the budget of all clients together (many slow
    // clients, each under its own limit) for one that is well behind: drop it.
    if (sub.unsent > m_maxUnsentBytes ||
        (m_totalUnsent > kMaxTotalUnsentBytes && sub.unsent > m_maxUnsentBytes / 8)) {
        sub.dropping = true;
        // A client that does not read must not grow our memory without bound.
        qCWarning(lcWs, "dropping a WebSocket subscriber that is %lld bytes behind",
                  qlonglong(sub.unsent));
        ++m_dropped;
        socket->close(QWebSocketProtocol::CloseCodeTooMuchData,
                      QStringLiteral("too far behind: reconnect and resync from the snapshot"));
        socket->abort();
        return;
    }
    socket->sendTextMessage(text);
}

QString WsHub::messageText(const OrderEvent &e)
{
    return QString::fromUtf8(e.message.isEmpty() ? e.toMessage() : e.message);
}

void WsHub::publish(const QList<OrderEvent> &events)
{
    if (m_subscribers.isEmpty())
        return;
    m_outbox.append(events);
    if (m_fanoutTimer.isActive())
        return;
    // With many subscribers, each delivery round costs a write per socket: gather the events
    // of a few milliseconds into one round, so a socket gets them in one write.
    m_fanoutTimer.start(m_subscribers.size() > kCoalesceAbove ? kCoalesceMs : 0);
}

void WsHub::deliverOutbox()
{
    const QList<OrderEvent> events = std::exchange(m_outbox, {});
    for (const OrderEvent &e : events) {
        // At least once in, exactly once out: an event re-announced after a crash, or seen
        // both in process and over Redis, is forwarded once (an order's seq only grows).
        int &last = m_lastSeq[e.orderId];
        if (e.seq <= last)
            continue;
        last = e.seq;
        if (m_lastSeq.size() > kSeqMemory)
            m_lastSeq.clear(); // bounded memory; a rare duplicate afterwards is tolerable
        const QString text = messageText(e); // converted once, shared by every subscriber
        const auto deliver = [&](QWebSocket *socket) {
            Subscriber &sub = m_subscribers[socket];
            if (sub.ready)
                send(socket, e, text);
            else
                sub.buffered.append(e);
        };
        for (auto it = m_byOrder.constFind(e.orderId);
             it != m_byOrder.cend() && it.key() == e.orderId; ++it)
            deliver(it.value());
        for (QWebSocket *socket : std::as_const(m_allOrders))
            deliver(socket);
    }
}

} // namespace oee
