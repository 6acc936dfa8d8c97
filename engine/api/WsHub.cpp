#include "api/WsHub.h"

#include "api/Json.h"
#include "api/QueryService.h"
#include "api/Reads.h"
#include "api/WsFrameGuard.h"
#include "runtime/Logging.h"
#include "runtime/Metrics.h"
#include "store/OrderStore.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QRegularExpression>
#include <QUrlQuery>
#include <algorithm>
#include <sys/socket.h>

namespace oee {

namespace {

constexpr int kCloseBadRequest = 4400;
constexpr int kCloseNotFound = 4404;
constexpr int kCloseGone = 4410; // a resume point the event log no longer holds

QByteArray text(const QJsonObject &o)
{
    return compactJson(o);
}

// One unmasked text frame (RFC 6455, 5.2), as a server sends it.
QByteArray textFrame(const QByteArray &payload)
{
    QByteArray f;
    const qsizetype n = payload.size();
    f.reserve(n + 10);
    f.append(char(0x81)); // FIN, text
    if (n < 126) {
        f.append(char(n));
    } else if (n < 65536) {
        f.append(char(126));
        f.append(char((n >> 8) & 0xff));
        f.append(char(n & 0xff));
    } else {
        f.append(char(127));
        for (int shift = 56; shift >= 0; shift -= 8)
            f.append(char((quint64(n) >> shift) & 0xff));
    }
    f.append(payload);
    return f;
}

} // namespace

WsHub::WsHub(ReadPool *reads, QObject *parent) : QObject(parent), m_reads(reads)
{
    m_fanoutTimer.setSingleShot(true);
    m_fanoutTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_fanoutTimer, &QTimer::timeout, this, &WsHub::deliverOutbox);
    connect(&m_backlogTimer, &QTimer::timeout, this, &WsHub::checkBacklogs);
}

void WsHub::start()
{
    m_backlogTimer.start(250);
    // The same server name (and so the same 101 answer) as QHttpServer's own upgrades.
    m_upgrader = new QWebSocketServer(QCoreApplication::applicationName() + u'/' +
                                          QCoreApplication::applicationVersion(),
                                      QWebSocketServer::NonSecureMode, this);
    connect(m_upgrader, &QWebSocketServer::newConnection, this, [this] {
        while (QWebSocket *socket = m_upgrader->nextPendingConnection())
            accept(std::unique_ptr<QWebSocket>(socket));
    });
}

void WsHub::takeConnection(QTcpSocket *socket)
{
    socket->moveToThread(thread());
    QMetaObject::invokeMethod(
        this, [this, socket] { adopt(socket); }, Qt::QueuedConnection);
}

void WsHub::adopt(QTcpSocket *socket)
{
    // Its handshake is answered by m_upgrader, which deletes the socket if it disconnects
    // before; the hub's child until then, its QWebSocket's once upgraded (see accept()).
    socket->setParent(this);
    m_handshaking.removeIf(
        [](const QPointer<QTcpSocket> &t) { return t.isNull(); }); // gone before upgrading
    m_handshaking.append(socket);
    // Before m_upgrader connects to it: the guard's slot must run before Qt's.
    new WsFrameGuard(socket);
    // A head that never completes (WS_PORT's connections come here at once) is not kept.
    QTimer::singleShot(kHandshakeMs, socket, [this, socket] {
        if (m_handshaking.contains(socket))
            socket->abort();
    });
    m_upgrader->handleConnection(socket);
}

quint16 WsHub::listen(const QHostAddress &address, quint16 port, QString *error)
{
    // Its own listener rather than QWebSocketServer's, so that its connections are watched
    // (WsFrameGuard) and written to directly, like those upgraded on the API's port.
    auto *server = new QTcpServer(this);
    if (!server->listen(address, port)) {
        *error = server->errorString();
        delete server;
        return 0;
    }
    connect(server, &QTcpServer::newConnection, this, [this, server] {
        while (QTcpSocket *socket = server->nextPendingConnection())
            adopt(socket);
    });
    return server->serverPort();
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
    qCWarning(lcWs, "dropping a WebSocket client that is %lld bytes behind",
              qlonglong(behindBytes));
    m_dropped.fetchAndAddRelaxed(1);
    metrics::registry().wsDropped.fetch_add(1, std::memory_order_relaxed);
    socket->close(QWebSocketProtocol::CloseCodeTooMuchData,
                  QStringLiteral("too far behind: reconnect with ?since=<last eventId or seq>"));
    // Queued: abort() emits disconnected at once, which would remove this subscriber while a
    // caller still holds it (or iterates over the subscribers).
    QMetaObject::invokeMethod(socket, &QWebSocket::abort, Qt::QueuedConnection);
}

void WsHub::refuseOverloaded(QWebSocket *socket)
{
    // Too many reads waiting: this client comes back later rather than queue without bound.
    m_subscribers[socket].closing = true;
    refuse(socket,
           {ErrorKind::Overloaded,
            QStringLiteral("too many reads are waiting; reconnect in a second"),
            {},
            {}},
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

void WsHub::refuseUnmasked(QWebSocket *socket)
{
    qCWarning(lcWs, "closing a WebSocket client that sent an unmasked frame (RFC 6455, 5.1)");
    if (const auto it = m_subscribers.find(socket); it != m_subscribers.end())
        it->closing = true;
    QTimer::singleShot(0, socket, [socket] {
        socket->close(QWebSocketProtocol::CloseCodeProtocolError,
                      QStringLiteral("client frames must be masked"));
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
    // The connection under it, found by its ports (QWebSocket does not tell), becomes its
    // child: QWebSocket does not own it, and once it is gone nothing else would delete it
    // (it disconnects everything from the connection, QWebSocketServer's clean-up included).
    // Event frames are written there directly. Streams on WS_PORT have none here.
    QPointer<QTcpSocket> tcp;
    for (qsizetype i = 0; i < m_handshaking.size();) {
        QTcpSocket *t = m_handshaking[i];
        if (t && (t->peerPort() != socket->peerPort() || t->localPort() != socket->localPort() ||
                  t->peerAddress() != socket->peerAddress())) {
            ++i;
            continue;
        }
        m_handshaking.removeAt(i); // it, or one already deleted
        if (t) {
            tcp = t;
            t->setParent(socket);
            break;
        }
    }
    // Clients send nothing but pings: a large message is an attack or a mistake (close 1009).
    socket->setMaxAllowedIncomingMessageSize(kMaxIncomingBytes);
    socket->setMaxAllowedIncomingFrameSize(kMaxIncomingBytes);
    // Closed sockets are deleted whatever path refused them.
    connect(socket, &QWebSocket::disconnected, this, [this, socket] { remove(socket); });
    if (auto *guard =
            tcp ? tcp->findChild<WsFrameGuard *>({}, Qt::FindDirectChildrenOnly) : nullptr) {
        connect(guard, &WsFrameGuard::unmaskedFrame, this,
                [this, socket] { refuseUnmasked(socket); });
        if (!guard->upgraded()) { // it came with the handshake
            refuseUnmasked(socket);
            return;
        }
    }

    const QUrl url = socket->requestUrl();
    const QString path = url.path();
    if (!m_apiKey.isEmpty()) {
        const QString token = QUrlQuery(url).queryItemValue(QStringLiteral("token"));
        const QByteArray header = socket->request().rawHeader("Authorization");
        if (token != m_apiKey && header != "Bearer " + m_apiKey.toUtf8()) {
            refuse(socket,
                   {ErrorKind::Unauthorized,
                    QStringLiteral("streams need Authorization: Bearer <API key> or "
                                   "?token=<API key>"),
                    QStringLiteral("Authorization"),
                    {}},
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
            refuse(socket,
                   {ErrorKind::InvalidField,
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
        refuse(socket,
               {ErrorKind::NotFound,
                QStringLiteral("no WebSocket stream at %1; use /ws/orders or "
                               "/ws/orders/<id>")
                    .arg(path.left(200)),
                {},
                QStringLiteral("Not found")},
               kCloseNotFound);
        return;
    }
    if (sub.dialect == Dialect::Seed001) {
        QJsonObject hello{
            {QStringLiteral("type"), QStringLiteral("connected")},
            {QStringLiteral("timestamp"), isoTime(QDateTime::currentDateTimeUtc())},
            {QStringLiteral("message"),
             all ? QStringLiteral("Connected to the stream of all orders.")
                 : QStringLiteral("WebSocket connected. Listening for order updates...")}};
        if (!all)
            hello.insert(QStringLiteral("orderId"), rawId.left(64));
        socket->sendTextMessage(QString::fromUtf8(text(hello)));
    }
    if (!all) {
        sub.orderId = canonicalOrderId(rawId);
        if (sub.orderId.isEmpty()) {
            refuse(socket,
                   {ErrorKind::OrderNotFound,
                    QStringLiteral("'%1' is not an order id (a UUID)").arg(rawId.left(64)),
                    {},
                    QStringLiteral("Order not found")},
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
    // ?since=: resume. On /ws/orders, an eventId (the events after it, from the log); on an
    // order's stream, a seq (its events after it). Replayed as ordinary event messages, then
    // live, with no duplicate and no hole.
    qint64 since = -1;
    if (const QUrlQuery query(url); query.hasQueryItem(QStringLiteral("since"))) {
        bool ok = false;
        since = query.queryItemValue(QStringLiteral("since")).toLongLong(&ok);
        if (!ok || since < 0 || (!all && since > std::numeric_limits<int>::max())) {
            refuse(socket,
                   {ErrorKind::InvalidField,
                    all ? QStringLiteral("since must be an eventId (an integer >= 0)")
                        : QStringLiteral("since must be a seq (an integer >= 0)"),
                    QStringLiteral("since"), QStringLiteral("Invalid since")},
                   kCloseBadRequest);
            return;
        }
    }
    sub.tcp = tcp;
    sub.batch = QUrlQuery(url).queryItemValue(QStringLiteral("batch")) == QStringLiteral("1");
    m_batchSubscribers += sub.batch;
    const QString orderId = sub.orderId;
    m_subscribers.insert(socket, std::move(sub));
    m_subscriberCount->storeRelaxed(int(m_subscribers.size()));
    if (all) {
        m_allOrders.insert(socket);
        if (since >= 0)
            replayAll(socket, since);
        else
            snapshotAll(socket);
    } else {
        m_byOrder.insert(orderId, socket);
        snapshotOrder(socket, orderId, int(since));
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
        m_batchSubscribers -= it->batch;
        m_subscribers.erase(it);
        m_subscriberCount->storeRelaxed(int(m_subscribers.size()));
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

void WsHub::snapshotOrder(QWebSocket *socket, const QString &orderId, int since)
{
    QPointer<QWebSocket> guard(socket);
    const bool queued = m_reads->post([this, guard, orderId, since](OrderStore &store, JobQueue &,
                                                                    RedisConnection &) {
        // Logged events only: the stream goes on with the log, which brings the rest.
        const reads::OrderLookup found = reads::order(store, orderId, true, true);
        QMetaObject::invokeMethod(
            this,
            [this, guard, orderId, since, found] {
                if (!guard || !m_subscribers.contains(guard))
                    return;
                QWebSocket *s = guard;
                Subscriber &sub = m_subscribers[s];
                if (found.result == reads::OrderLookup::Result::Unavailable) {
                    sub.closing = true;
                    refuse(s,
                           {ErrorKind::DatabaseUnavailable,
                            QStringLiteral("cannot read the order snapshot now"),
                            {},
                            {}},
                           4503);
                    return;
                }
                if (found.result == reads::OrderLookup::Result::Missing) {
                    sub.closing = true;
                    refuse(s,
                           {ErrorKind::OrderNotFound,
                            QStringLiteral("no order with id '%1'").arg(orderId),
                            {},
                            QStringLiteral("Order not found")},
                           kCloseNotFound);
                    return;
                }
                int maxSeq = 0;
                for (const OrderEvent &e : found.events)
                    maxSeq = qMax(maxSeq, e.seq);
                // Ended: its terminal event is logged (the row may be a moment ahead of the log).
                const bool ended =
                    !found.events.isEmpty() && isTerminal(found.events.last().status);
                if (since >= 0) {
                    // Resume: what came after `since`, as the live messages would have been.
                    for (const OrderEvent &e : found.events) {
                        if (e.seq <= since)
                            continue;
                        const QByteArray payload = eventPayload(e, sub.dialect);
                        enqueue(sub, e, framed(sub) ? textFrame(payload) : payload);
                    }
                    flush(s); // closes the stream after a terminal event it sent
                    if (!m_subscribers.contains(s) || m_subscribers[s].closing)
                        return;
                    if (ended) // the client had it all already
                        closeNormally(s, m_subscribers[s],
                                      QStringLiteral("order ") +
                                          statusName(found.events.last().status));
                    else
                        markReady(s, qMax(maxSeq, since));
                    return;
                }
                QJsonArray list;
                for (const OrderEvent &e : found.events)
                    list.append(e.toJson());
                const QString status = statusName(found.order.status);
                const bool sent =
                    sendText(s, sub,
                             text({{QStringLiteral("type"), QStringLiteral("snapshot")},
                                   {QStringLiteral("orderId"), orderId},
                                   {QStringLiteral("seq"), maxSeq},
                                   {QStringLiteral("status"), status},
                                   {QStringLiteral("order"), found.order.toJson()},
                                   {QStringLiteral("events"), list}}));
                if (!sent || !m_subscribers.contains(s))
                    return; // dropped, or gone while writing
                if (ended) {
                    // Nothing more will happen on this stream.
                    if (m_subscribers[s].dialect == Dialect::Seed004) {
                        sendText(s, m_subscribers[s],
                                 text({{QStringLiteral("success"), false},
                                       {QStringLiteral("error"),
                                        QStringLiteral("Order already processed")},
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
            },
            Qt::QueuedConnection);
    });
    if (!queued)
        refuseOverloaded(socket);
}

void WsHub::replayAll(QWebSocket *socket, qint64 since)
{
    QPointer<QWebSocket> guard(socket);
    const bool queued = m_reads->post([this, guard, since](OrderStore &store, JobQueue &,
                                                           RedisConnection &) {
        bool more = false, gone = false;
        const auto events = store.loggedEvents(since, kReplayPage, &more, &gone);
        QMetaObject::invokeMethod(
            this,
            [this, guard, since, events, more, gone] {
                if (!guard || !m_subscribers.contains(guard))
                    return;
                QWebSocket *s = guard;
                Subscriber &sub = m_subscribers[s];
                if (!events) {
                    sub.closing = true;
                    refuse(s,
                           {ErrorKind::DatabaseUnavailable,
                            QStringLiteral("cannot read the event log now"),
                            {},
                            {}},
                           4503);
                    return;
                }
                if (gone) {
                    sub.closing = true;
                    refuse(s,
                           {ErrorKind::InvalidField,
                            QStringLiteral("the events after %1 are no longer in the event log "
                                           "(EVENT_LOG_RETENTION_S): read the orders over REST and "
                                           "stream again without since, or from a newer eventId")
                                .arg(since),
                            QStringLiteral("since"), QStringLiteral("Resume point too old")},
                           kCloseGone);
                    return;
                }
                for (const OrderEvent &e : *events) {
                    const QByteArray payload = eventPayload(e, sub.dialect);
                    enqueue(sub, e, framed(sub) ? textFrame(payload) : payload);
                }
                sub.replayedTo = events->isEmpty() ? since : events->last().eventId;
                const qint64 next = sub.replayedTo;
                flush(s);
                if (!m_subscribers.contains(s) || m_subscribers[s].closing)
                    return; // too far behind already, or gone
                if (more)
                    replayAll(s, next); // live events wait in its buffer meanwhile
                else
                    markReady(s, 0);
            },
            Qt::QueuedConnection);
    });
    if (!queued)
        refuseOverloaded(socket);
}

void WsHub::snapshotAll(QWebSocket *socket)
{
    QPointer<QWebSocket> guard(socket);
    const bool queued =
        m_reads->post([this, guard](OrderStore &store, JobQueue &, RedisConnection &) {
            const reads::OrderPage page = reads::orders(store, std::nullopt, 50, 0);
            QMetaObject::invokeMethod(
                this,
                [this, guard, page] {
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
                },
                Qt::QueuedConnection);
        });
    if (!queued)
        refuseOverloaded(socket);
}

void WsHub::markReady(QWebSocket *socket, int snapshotSeq)
{
    Subscriber &sub = m_subscribers[socket];
    sub.ready = true;
    sub.snapshotSeq = snapshotSeq;
    const QList<OrderEvent> buffered = std::exchange(sub.buffered, {});
    for (const OrderEvent &e : buffered) {
        const QByteArray payload = eventPayload(e, sub.dialect);
        enqueue(sub, e, framed(sub) ? textFrame(payload) : payload);
    }
    flush(socket);
}

QByteArray WsHub::eventPayload(const OrderEvent &e, Dialect dialect)
{
    if (dialect == Dialect::Seed001) {
        QJsonObject o = e.toJsonWithMessage();
        o.insert(QStringLiteral("type"), QStringLiteral("status_update"));
        return text(o);
    }
    return e.message.isEmpty() ? e.toMessage() : e.message;
}

bool WsHub::enqueue(Subscriber &sub, const OrderEvent &e, const QByteArray &message)
{
    if (sub.closing || (!sub.orderId.isEmpty() && e.seq <= sub.snapshotSeq) ||
        (e.eventId && e.eventId <= sub.replayedTo))
        return false; // dropped or ending, or already in the snapshot or the replay
    const bool first = sub.pending.isEmpty();
    sub.pending.append(message);
    sub.pendingBytes += message.size();
    if (!sub.orderId.isEmpty() && isTerminal(e.status))
        sub.endsWith = statusName(e.status); // nothing follows it on this stream
    return first;
}

void WsHub::flush(QWebSocket *socket)
{
    const auto it = m_subscribers.find(socket);
    if (it == m_subscribers.end())
        return;
    Subscriber &sub = *it;
    const QList<QByteArray> pending = std::exchange(sub.pending, {});
    const qsizetype bytes = std::exchange(sub.pendingBytes, 0);
    if (pending.isEmpty())
        return;
    bool sent = true;
    if (sub.batch) {
        sent = sendBatch(socket, sub, pending, bytes);
    } else if (sub.tcp) {
        // Frames, each built once per dialect and round for every socket that gets it (not
        // encoded again per socket as QWebSocket would): the round's in one write.
        QByteArray frames;
        frames.reserve(bytes);
        for (const QByteArray &f : pending)
            frames.append(f);
        sent = writeFrames(socket, sub, frames, pending.size());
    } else {
        for (const QByteArray &p : pending)
            if (!(sent = sendText(socket, sub, p)))
                break;
    }
    if (sent && !sub.endsWith.isEmpty() && m_subscribers.contains(socket))
        closeNormally(socket, m_subscribers[socket], QStringLiteral("order ") + sub.endsWith);
}

bool WsHub::sendBatch(QWebSocket *socket, Subscriber &sub, const QList<QByteArray> &payloads,
                      qsizetype bytes)
{
    // Every subscriber of /ws/orders in one dialect queues the same events of a round as the
    // same shared payloads: the array (and its frame) is built once for all of them.
    const auto same = [](const QByteArray &a, const QByteArray &b) {
        return a.constData() == b.constData() && a.size() == b.size();
    };
    const bool sharedList =
        payloads.constData() == m_batchParts.constData() && payloads.size() == m_batchParts.size();
    if (!sharedList &&
        (payloads.size() != m_batchParts.size() ||
         !std::equal(payloads.cbegin(), payloads.cend(), m_batchParts.cbegin(), same))) {
        QByteArray array;
        array.reserve(bytes + payloads.size() + 2);
        array.append('[');
        for (const QByteArray &p : payloads) {
            if (array.size() > 1)
                array.append(',');
            array.append(p);
        }
        array.append(']');
        m_batchParts = payloads;
        m_batchArray = array;
        m_batchFrame.clear();
    }
    if (!sub.tcp)
        return sendText(socket, sub, m_batchArray);
    if (m_batchFrame.isNull())
        m_batchFrame = textFrame(m_batchArray);
    return writeFrames(socket, sub, m_batchFrame, 1);
}

bool WsHub::account(QWebSocket *socket, Subscriber &sub, qint64 bytes)
{
    if (sub.closing)
        return false;
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
    return true;
}

bool WsHub::sendText(QWebSocket *socket, Subscriber &sub, const QByteArray &payload)
{
    if (sub.tcp)
        return writeFrames(socket, sub, textFrame(payload), 1);
    if (!account(socket, sub, payload.size() + 4))
        return false;
    socket->sendTextMessage(QString::fromUtf8(payload));
    countSent(1, payload.size() + 4);
    return true;
}

void WsHub::countSent(qint64 frames, qint64 bytes)
{
    metrics::Registry &m = metrics::registry();
    m.wsFrames.fetch_add(quint64(frames), std::memory_order_relaxed);
    m.wsBytes.fetch_add(quint64(bytes), std::memory_order_relaxed);
}

bool WsHub::writeFrames(QWebSocket *socket, Subscriber &sub, const QByteArray &frames,
                        qint64 frameCount)
{
    if (sub.closing)
        return false;
    // Straight to the kernel when nothing of this connection waits in Qt's buffer: no copy
    // into the buffer, no write notifier, no pass of the event loop later; all of a round's
    // writes are done when the round ends. What the kernel does not take (its buffer is full)
    // goes through Qt's buffer, behind which everything else then queues, so bytes keep
    // their order.
    qsizetype sent = 0;
    if (sub.tcp->bytesToWrite() == 0) {
        const qintptr fd = sub.tcp->socketDescriptor();
        if (fd >= 0) {
            const ssize_t n = ::send(int(fd), frames.constData(), size_t(frames.size()),
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            sent = n > 0 ? qsizetype(n) : 0; // an error: Qt's write below reports it
        }
    }
    if (sent < frames.size()) {
        // Only what waits in Qt's buffer counts against the subscriber's limit.
        const qsizetype rest = frames.size() - sent;
        if (!account(socket, sub, rest))
            return false;
        // Whole frames into the connection QWebSocket writes its own (pongs, close) into:
        // both on this thread, each write complete, so frames never interleave.
        sub.tcp->write(frames.constData() + sent, rest);
    }
    countSent(frameCount, frames.size());
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
    // Batched subscribers get a frame per round: rounds of a few milliseconds for them too.
    // With hundreds of subscribers, longer rounds: each costs a write per socket.
    // A round every so often, counted from the last one's start: the time its writes took
    // is not added to the next one's wait.
    const qsizetype n = m_subscribers.size();
    const int every = n > kLongRoundsAbove                           ? kLongRoundMs
                      : n > kCoalesceAbove || m_batchSubscribers > 0 ? kCoalesceMs
                                                                     : 0;
    const qint64 since = m_roundStarted.isValid() ? m_roundStarted.elapsed() : every;
    m_fanoutTimer.start(int(std::max<qint64>(0, every - since)));
}

void WsHub::deliverOutbox()
{
    m_roundStarted.start();
    QList<OrderEvent> events = std::exchange(m_outbox, {});
    // The log brings each event once, in order; an id seen already is not sent again.
    events.removeIf([this](const OrderEvent &e) {
        if (e.eventId && e.eventId <= m_lastEventId)
            return true;
        m_lastEventId = qMax(m_lastEventId, e.eventId);
        return false;
    });
    if (events.isEmpty())
        return;
    QList<QWebSocket *> touched;    // subscribers with events of this round to write
    QList<QWebSocket *> overflowed; // waiting for a snapshot or replay, too much meanwhile
    // route() only queues (nothing is written or closed before the writes below), so the
    // containers stay as they are while iterated.
    const auto route = [&](QWebSocket *socket, Subscriber &sub, const OrderEvent &e,
                           const QByteArray &payload) {
        if (!sub.ready) {
            // Its snapshot or replay is being read: kept until then, within bounds.
            if (sub.closing)
                return;
            if (sub.buffered.size() >= kMaxBuffered) {
                sub.closing = true;
                overflowed.append(socket);
                return;
            }
            sub.buffered.append(e);
            return;
        }
        if (enqueue(sub, e, payload))
            touched.append(socket);
    };
    // Each event's message per dialect (and its frame), built once for every subscriber that
    // gets it.
    struct Encoded
    {
        QByteArray payload[3];
        QByteArray frame[3];
    };
    QList<Encoded> encoded(events.size());
    const auto message = [&](qsizetype i, const Subscriber &sub) -> const QByteArray & {
        Encoded &c = encoded[i];
        QByteArray &p = c.payload[int(sub.dialect)];
        if (p.isNull())
            p = eventPayload(events[i], sub.dialect);
        if (!framed(sub))
            return p;
        QByteArray &f = c.frame[int(sub.dialect)];
        if (f.isNull())
            f = textFrame(p);
        return f;
    };
    // An order's streams: the events of that order.
    for (qsizetype i = 0; i < events.size(); ++i) {
        const OrderEvent &e = events[i];
        for (auto it = m_byOrder.constFind(e.orderId);
             it != m_byOrder.cend() && it.key() == e.orderId; ++it) {
            const auto sub = m_subscribers.find(it.value());
            if (sub != m_subscribers.end())
                route(it.value(), *sub, e, message(i, *sub));
        }
    }
    // The streams of all orders: every event. Most of them, in step, get the whole round: one
    // shared list of messages per dialect and framing, handed over whole (Qt's lists are
    // shared, not copied), rather than a message appended per event and subscriber.
    QList<QByteArray> whole[3][2];
    qsizetype wholeBytes[3][2] = {};
    const qint64 firstId = events.first().eventId;
    for (QWebSocket *socket : std::as_const(m_allOrders)) {
        const auto it = m_subscribers.find(socket);
        if (it == m_subscribers.end())
            continue;
        Subscriber &sub = *it;
        if (sub.ready && !sub.closing && sub.pending.isEmpty() && sub.replayedTo < firstId) {
            QList<QByteArray> &list = whole[int(sub.dialect)][framed(sub)];
            qsizetype &bytes = wholeBytes[int(sub.dialect)][framed(sub)];
            if (list.isEmpty()) {
                list.reserve(events.size());
                for (qsizetype i = 0; i < events.size(); ++i) {
                    list.append(message(i, sub));
                    bytes += list.last().size();
                }
            }
            sub.pending = list;
            sub.pendingBytes = bytes;
            touched.append(socket);
            continue;
        }
        for (qsizetype i = 0; i < events.size(); ++i)
            route(socket, sub, events[i], message(i, sub));
    }
    // One write per subscriber for the whole round. Writing may drop or close a socket (which
    // can remove it from the containers at once): flush() looks each one up again.
    for (QWebSocket *socket : std::as_const(touched))
        flush(socket);
    m_batchParts.clear(); // the round's payloads are not held past it
    m_batchArray.clear();
    m_batchFrame.clear();
    for (QWebSocket *socket : std::as_const(overflowed))
        if (m_subscribers.contains(socket))
            drop(socket, 0);
}

} // namespace oee
