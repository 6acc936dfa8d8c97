#include "api/WsHub.h"

#include "api/Json.h"
#include "api/QueryService.h"
#include "api/Reads.h"
#include "runtime/Logging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QRegularExpression>
#include <QUrlQuery>

namespace oee {

namespace {

constexpr int kCloseBadRequest = 4400;
constexpr int kCloseNotFound = 4404;

QString text(const QJsonObject &o)
{
    return QString::fromUtf8(compactJson(o));
}

} // namespace

WsHub::WsHub(ReadPool *reads, QObject *parent) : QObject(parent), m_reads(reads)
{
    m_fanoutTimer.setSingleShot(true);
    m_fanoutTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_fanoutTimer, &QTimer::timeout, this, &WsHub::deliverOutbox);
    connect(&m_backlogTimer, &QTimer::timeout, this, &WsHub::checkBacklogs);
    m_backlogTimer.start(250);
}

void WsHub::checkBacklogs()
{
    // Collected first: closing a socket may remove it from m_subscribers at once.
    QList<QWebSocket *> behind;
    for (auto it = m_subscribers.begin(); it != m_subscribers.end(); ++it) {
        if (!it->closing && it.key()->bytesToWrite() > m_maxUnsentBytes) {
            it->closing = true;
            behind << it.key();
        }
    }
    for (QWebSocket *socket : std::as_const(behind))
        drop(socket, socket->bytesToWrite());
}

void WsHub::drop(QWebSocket *socket, qint64 behindBytes)
{
    // A client that does not read must not grow our memory without bound.
    qCWarning(lcWs, "dropping a WebSocket client that is %lld bytes behind", qlonglong(behindBytes));
    ++m_dropped;
    socket->close(QWebSocketProtocol::CloseCodeTooMuchData,
                  QStringLiteral("too far behind: reconnect and resync from the snapshot"));
    // Queued: abort() emits disconnected at once, which would remove this subscriber while a
    // caller still holds it (or iterates over the subscribers).
    QMetaObject::invokeMethod(socket, &QWebSocket::abort, Qt::QueuedConnection);
}

void WsHub::refuseOverloaded(QWebSocket *socket)
{
    // Too many reads waiting: this client comes back later rather than queue without bound.
    m_subscribers[socket].closing = true;
    refuse(socket, {ErrorKind::Overloaded, QStringLiteral("too many reads are waiting; reconnect in a second"),
                    {}, {}},
           4503);
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

void WsHub::refuse(QWebSocket *socket, const ApiError &error, int closeCode)
{
    // On the next turn of the event loop: closing a socket in the same turn as its handshake
    // leaves QtWebSockets a queued read on a closed device ("QIODevice::peek: device not open").
    const QString message = QString::fromUtf8(errorJson(error));
    const QString reason = error.errorText().left(100);
    QTimer::singleShot(0, socket, [socket, message, reason, closeCode] {
        socket->sendTextMessage(message);
        socket->close(QWebSocketProtocol::CloseCode(closeCode), reason);
        abortLater(socket);
    });
}

void WsHub::abortLater(QWebSocket *socket)
{
    // A peer that never answers the close handshake does not keep the socket forever.
    QTimer::singleShot(kCloseHandshakeMs, socket, &QWebSocket::abort);
}

void WsHub::accept(std::unique_ptr<QWebSocket> owned)
{
    QWebSocket *socket = owned.release();
    socket->setParent(this);
    // Clients send nothing but pings: a large message is an attack or a mistake (close 1009).
    socket->setMaxAllowedIncomingMessageSize(kMaxIncomingBytes);
    socket->setMaxAllowedIncomingFrameSize(kMaxIncomingBytes);
    // Closed sockets are deleted whatever path refused them.
    connect(socket, &QWebSocket::disconnected, this, [this, socket] { remove(socket); });

    const QUrl url = socket->requestUrl();
    const QString path = url.path();
    if (!m_apiKey.isEmpty()) {
        const QString token = QUrlQuery(url).queryItemValue(QStringLiteral("token"));
        const QByteArray header = socket->request().rawHeader("Authorization");
        if (token != m_apiKey && header != "Bearer " + m_apiKey.toUtf8()) {
            refuse(socket, {ErrorKind::Unauthorized,
                            QStringLiteral("streams need Authorization: Bearer <API key> or "
                                           "?token=<API key>"),
                            QStringLiteral("Authorization"), {}},
                   4401);
            return;
        }
    }

    Subscriber sub;
    bool all = false;
    QString rawId;
    static const QRegularExpression oeeOrder(QStringLiteral("^/ws(?:/orders)?/([^/]+)/?$"));
    static const QRegularExpression seed001Order(QStringLiteral("^/api/orders/([^/]+)/stream/?$"));
    if (path == QStringLiteral("/ws/orders") || path == QStringLiteral("/ws/orders/")) {
        all = true;
    } else if (path == QStringLiteral("/api/orders/stream/all")) {
        all = true;
        sub.dialect = Dialect::Seed001;
    } else if (path == QStringLiteral("/api/orders/ws")) {
        sub.dialect = Dialect::Seed004;
        rawId = QUrlQuery(url).queryItemValue(QStringLiteral("orderId"));
        if (rawId.isEmpty()) {
            refuse(socket, {ErrorKind::InvalidField,
                            QStringLiteral("connect to /api/orders/ws?orderId=<order id>"),
                            QStringLiteral("orderId"), QStringLiteral("Missing orderId")},
                   kCloseBadRequest);
            return;
        }
    } else if (const auto m = seed001Order.match(path); m.hasMatch()) {
        sub.dialect = Dialect::Seed001;
        rawId = m.captured(1);
    } else if (const auto m = oeeOrder.match(path); m.hasMatch()) {
        rawId = m.captured(1);
    } else {
        refuse(socket, {ErrorKind::NotFound,
                        QStringLiteral("no WebSocket stream at %1; use /ws/orders or "
                                       "/ws/orders/<id>").arg(path.left(200)),
                        {}, QStringLiteral("Not found")},
               kCloseNotFound);
        return;
    }
    if (sub.dialect == Dialect::Seed001) {
        QJsonObject hello{{QStringLiteral("type"), QStringLiteral("connected")},
                          {QStringLiteral("timestamp"), isoTime(QDateTime::currentDateTimeUtc())},
                          {QStringLiteral("message"),
                           all ? QStringLiteral("Connected to the stream of all orders.")
                               : QStringLiteral("WebSocket connected. Listening for order updates...")}};
        if (!all)
            hello.insert(QStringLiteral("orderId"), rawId.left(64));
        socket->sendTextMessage(text(hello));
    }
    if (!all) {
        sub.orderId = canonicalOrderId(rawId);
        if (sub.orderId.isEmpty()) {
            refuse(socket, {ErrorKind::OrderNotFound,
                            QStringLiteral("'%1' is not an order id (a UUID)").arg(rawId.left(64)),
                            {}, QStringLiteral("Order not found")},
                   kCloseNotFound);
            return;
        }
    }
    connect(socket, &QWebSocket::bytesWritten, this, [this, socket](qint64 n) {
        const auto it = m_subscribers.find(socket);
        if (it != m_subscribers.end()) {
            const qint64 written = qMin(n, it->unsent);
            it->unsent -= written;
            m_totalUnsent -= written;
        }
    });
    connect(socket, &QWebSocket::textMessageReceived, this,
            [this, socket](const QString &message) { onClientMessage(socket, message); });
    const QString orderId = sub.orderId;
    m_subscribers.insert(socket, std::move(sub));
    if (all) {
        m_allOrders.insert(socket);
        snapshotAll(socket);
    } else {
        m_byOrder.insert(orderId, socket);
        snapshotOrder(socket, orderId);
    }
}

void WsHub::onClientMessage(QWebSocket *socket, const QString &message)
{
    const auto it = m_subscribers.find(socket);
    if (it == m_subscribers.end())
        return;
    const QJsonObject o = QJsonDocument::fromJson(message.toUtf8()).object();
    if (o.value(QStringLiteral("type")).toString() != QStringLiteral("ping"))
        return; // nothing else is a request; ignored, as the seeds did
    sendText(socket, *it,
             text({{QStringLiteral("type"), QStringLiteral("pong")},
                   {QStringLiteral("timestamp"), isoTime(QDateTime::currentDateTimeUtc())}}));
}

void WsHub::remove(QWebSocket *socket)
{
    const auto it = m_subscribers.find(socket);
    if (it != m_subscribers.end()) {
        if (!it->orderId.isEmpty())
            m_byOrder.remove(it->orderId, socket);
        else
            m_allOrders.remove(socket);
        m_totalUnsent -= it->unsent;
        m_subscribers.erase(it);
    }
    socket->deleteLater();
}

void WsHub::closeNormally(QWebSocket *socket, Subscriber &sub, const QString &reason)
{
    sub.closing = true;
    // The close frame is queued behind the frames already written: the client reads them all.
    socket->close(QWebSocketProtocol::CloseCodeNormal, reason);
    abortLater(socket);
}

void WsHub::snapshotOrder(QWebSocket *socket, const QString &orderId)
{
    QPointer<QWebSocket> guard(socket);
    const bool queued = m_reads->post([this, guard, orderId](OrderStore &store, JobQueue &, RedisConnection &) {
        const reads::OrderLookup found = reads::order(store, orderId, true);
        QMetaObject::invokeMethod(this, [this, guard, orderId, found] {
            if (!guard || !m_subscribers.contains(guard))
                return;
            QWebSocket *s = guard;
            Subscriber &sub = m_subscribers[s];
            if (found.result == reads::OrderLookup::Result::Unavailable) {
                sub.closing = true;
                refuse(s, {ErrorKind::DatabaseUnavailable,
                           QStringLiteral("cannot read the order snapshot now"), {}, {}},
                       4503);
                return;
            }
            if (found.result == reads::OrderLookup::Result::Missing) {
                sub.closing = true;
                refuse(s, {ErrorKind::OrderNotFound,
                           QStringLiteral("no order with id '%1'").arg(orderId), {},
                           QStringLiteral("Order not found")},
                       kCloseNotFound);
                return;
            }
            QJsonArray list;
            int maxSeq = 0;
            for (const OrderEvent &e : found.events) {
                list.append(e.toJson());
                maxSeq = qMax(maxSeq, e.seq);
            }
            const QString status = statusName(found.order.status);
            const bool sent = sendText(s, sub, text({{QStringLiteral("type"), QStringLiteral("snapshot")},
                                   {QStringLiteral("orderId"), orderId},
                                   {QStringLiteral("seq"), maxSeq},
                                   {QStringLiteral("status"), status},
                                   {QStringLiteral("order"), found.order.toJson()},
                                   {QStringLiteral("events"), list}}));
            if (!sent || !m_subscribers.contains(s))
                return; // dropped, or gone while writing
            if (isTerminal(found.order.status)) {
                // Nothing more will happen on this stream.
                if (m_subscribers[s].dialect == Dialect::Seed004) {
                    sendText(s, m_subscribers[s], text({{QStringLiteral("success"), false},
                                           {QStringLiteral("error"), QStringLiteral("Order already processed")},
                                           {QStringLiteral("code"), QStringLiteral("order_ended")},
                                           {QStringLiteral("orderId"), orderId},
                                           {QStringLiteral("status"), status},
                                           {QStringLiteral("message"),
                                            QStringLiteral("the order ended (%1) before this stream "
                                                           "opened; its history is in the snapshot")
                                                .arg(status)}}));
                }
                if (m_subscribers.contains(s))
                    closeNormally(s, m_subscribers[s], QStringLiteral("order ") + status);
                return;
            }
            markReady(s, maxSeq);
        }, Qt::QueuedConnection);
    });
    if (!queued)
        refuseOverloaded(socket);
}

void WsHub::snapshotAll(QWebSocket *socket)
{
    QPointer<QWebSocket> guard(socket);
    const bool queued = m_reads->post([this, guard](OrderStore &store, JobQueue &, RedisConnection &) {
        const reads::OrderPage page = reads::orders(store, std::nullopt, 50, 0);
        QMetaObject::invokeMethod(this, [this, guard, page] {
            if (!guard || !m_subscribers.contains(guard))
                return;
            QJsonArray list;
            for (const Order &o : page.orders)
                list.append(o.toJson());
            sendText(guard, m_subscribers[guard],
                     text({{QStringLiteral("type"), QStringLiteral("snapshot")},
                           {QStringLiteral("orders"), list},
                           {QStringLiteral("complete"), page.ok}}));
            markReady(guard, 0);
        }, Qt::QueuedConnection);
    });
    if (!queued)
        refuseOverloaded(socket);
}

void WsHub::markReady(QWebSocket *socket, int snapshotSeq)
{
    Subscriber &sub = m_subscribers[socket];
    sub.ready = true;
    sub.snapshotSeq = snapshotSeq;
    const Dialect dialect = sub.dialect;
    const QList<OrderEvent> buffered = std::exchange(sub.buffered, {});
    for (const OrderEvent &e : buffered) {
        const auto it = m_subscribers.find(socket);
        if (it == m_subscribers.end())
            return;
        deliver(socket, *it, e, eventText(e, dialect));
    }
}

QString WsHub::eventText(const OrderEvent &e, Dialect dialect)
{
    if (dialect == Dialect::Seed001) {
        QJsonObject o = e.toJsonWithMessage();
        o.insert(QStringLiteral("type"), QStringLiteral("status_update"));
        return text(o);
    }
    return QString::fromUtf8(e.message.isEmpty() ? e.toMessage() : e.message);
}

void WsHub::deliver(QWebSocket *socket, Subscriber &sub, const OrderEvent &e, const QString &text)
{
    if (!sub.orderId.isEmpty() && e.seq <= sub.snapshotSeq)
        return; // already in the snapshot
    const bool perOrder = !sub.orderId.isEmpty();
    if (!sendText(socket, sub, text))
        return;
    if (perOrder && isTerminal(e.status) && m_subscribers.contains(socket))
        closeNormally(socket, m_subscribers[socket], QStringLiteral("order ") + statusName(e.status));
}

bool WsHub::sendText(QWebSocket *socket, Subscriber &sub, const QString &text)
{
    if (sub.closing)
        return false;
    const qint64 bytes = text.size() + 4;
    sub.unsent += bytes;
    m_totalUnsent += bytes;
    // Past the per-client limit, or past the budget of all clients together (many slow
    // clients, each under its own limit) for one that is well behind: drop it.
    if (sub.unsent > m_maxUnsentBytes ||
        (m_totalUnsent > kMaxTotalUnsentBytes && sub.unsent > m_maxUnsentBytes / 8)) {
        sub.closing = true;
        drop(socket, sub.unsent);
        return false;
    }
    socket->sendTextMessage(text);
    return true;
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
        // Converted once per dialect in use, shared by every subscriber of that dialect.
        QString texts[3];
        const auto route = [&](QWebSocket *socket) {
            const auto it = m_subscribers.find(socket);
            if (it == m_subscribers.end())
                return;
            Subscriber &sub = *it;
            if (!sub.ready) {
                sub.buffered.append(e);
                return;
            }
            QString &t = texts[int(sub.dialect)];
            if (t.isNull())
                t = eventText(e, sub.dialect);
            deliver(socket, sub, e, t);
        };
        // Copies (cheap: implicitly shared until changed): closing a socket whose peer has
        // already gone emits disconnected at once, which removes it from these containers.
        const QList<QWebSocket *> perOrder = m_byOrder.values(e.orderId);
        for (QWebSocket *socket : perOrder)
            route(socket);
        const QSet<QWebSocket *> all = m_allOrders;
        for (QWebSocket *socket : all)
            route(socket);
    }
}

} // namespace oee
