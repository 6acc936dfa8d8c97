#include "RemoteBackend.h"

#include "dex/Market.h"
#include "dex/Venue.h"
#include "runtime/Logging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QPointer>
#include <QUrlQuery>

namespace oee::ui {

namespace {

constexpr int kMaxBackoffMs = 8000;

// The ErrorKind a REST error body's `code` names.
ErrorKind kindOf(const QString &code, int status)
{
    for (int k = 0; k <= int(ErrorKind::Paused); ++k)
        if (codeOf(ErrorKind(k)) == code)
            return ErrorKind(k);
    return status == 0 || status >= 500 ? ErrorKind::QueueUnavailable : ErrorKind::InvalidField;
}

ApiError errorOf(int status, const QJsonDocument &body, const QString &error)
{
    const QJsonObject o = body.object();
    if (status == 0)
        return {
            ErrorKind::NotServing, QStringLiteral("the engine is unreachable: ") + error, {}, {}};
    return {kindOf(o.value(QStringLiteral("code")).toString(), status),
            o.value(QStringLiteral("message")).toString(error),
            o.value(QStringLiteral("field")).toString(),
            {}};
}

QString text(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isDouble())
        return QString::number(v.toDouble(), 'g', 17);
    return {};
}

} // namespace

Order orderFromJson(const QJsonObject &o)
{
    Order r;
    r.id = o.value(QStringLiteral("id")).toString();
    r.orderType = o.value(QStringLiteral("orderType")).toString(QStringLiteral("market"));
    r.tokenIn = o.value(QStringLiteral("tokenIn")).toString();
    r.tokenOut = o.value(QStringLiteral("tokenOut")).toString();
    r.amount = text(o.value(QStringLiteral("amount")));
    r.slippage = text(o.value(QStringLiteral("slippage")));
    r.status =
        statusFromName(o.value(QStringLiteral("status")).toString()).value_or(OrderStatus::Pending);
    r.lastSeq = o.value(QStringLiteral("seq")).toInt();
    r.attempts = o.value(QStringLiteral("attempts")).toInt();
    r.dex = o.value(QStringLiteral("dex")).toString();
    r.txSignature = o.value(QStringLiteral("txSignature")).toString();
    r.executedPrice = text(o.value(QStringLiteral("executedPrice")));
    r.amountOut = text(o.value(QStringLiteral("amountOut")));
    r.error = o.value(QStringLiteral("error")).toString();
    r.createdAt =
        QDateTime::fromString(o.value(QStringLiteral("createdAt")).toString(), Qt::ISODateWithMs);
    r.updatedAt =
        QDateTime::fromString(o.value(QStringLiteral("updatedAt")).toString(), Qt::ISODateWithMs);
    r.terms = o.value(QStringLiteral("terms")).toObject();
    return r;
}

ControlState controlStateFromJson(const QJsonObject &o)
{
    ControlState s;
    const QJsonObject intake = o.value(QStringLiteral("intake")).toObject();
    s.paused = intake.value(QStringLiteral("paused")).toBool();
    s.pausedReason = intake.value(QStringLiteral("reason")).toString();
    s.pausedAt =
        QDateTime::fromString(intake.value(QStringLiteral("since")).toString(), Qt::ISODateWithMs);
    for (const QJsonValue &v : o.value(QStringLiteral("venues")).toArray())
        if (!v.toObject().value(QStringLiteral("routing")).toBool(true))
            s.disabledVenues << v.toObject().value(QStringLiteral("name")).toString();
    std::sort(s.disabledVenues.begin(), s.disabledVenues.end());
    // The engine's volatility, set or configured (this copy has no walk of its own to use it).
    s.volatility = o.value(QStringLiteral("simulator"))
                       .toObject()
                       .value(QStringLiteral("volatility"))
                       .toString();
    return s;
}

RemoteBackend::RemoteBackend(const QUrl &base, const QString &apiKey, QObject *parent)
    : Backend(parent), m_base(base), m_apiKey(apiKey)
{
    DexConfig quiet; // a copy for pricing only: no walk of its own, no simulated failures
    quiet.volatility = 0;
    m_market = std::make_unique<Market>(quiet);
    m_controls = std::make_unique<Controls>(m_market.get(), 0);
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &RemoteBackend::openStream);
    connect(&m_ws, &QWebSocket::connected, this, [this] {
        m_backoffMs = 1000;
        setConnected(true, QStringLiteral("connected"));
    });
    connect(&m_ws, &QWebSocket::disconnected, this, [this] {
        const int code = int(m_ws.closeCode());
        if (code == 4410) // the log no longer reaches back to where we were: start over
            m_lastEventId = 0;
        setConnected(
            false, QStringLiteral("disconnected (%1) — reconnecting in %2 s")
                       .arg(m_ws.closeReason().isEmpty() ? m_ws.errorString() : m_ws.closeReason())
                       .arg(m_backoffMs / 1000.0));
        m_reconnect.start(m_backoffMs);
        m_backoffMs = std::min(kMaxBackoffMs, m_backoffMs * 2);
    });
    connect(&m_ws, &QWebSocket::textMessageReceived, this, &RemoteBackend::onStreamText);
    connect(&m_poll, &QTimer::timeout, this, [this] {
        pollPools();
        pollControls();
    });
    m_poll.start(1000);
    call("GET", QStringLiteral("/api/metrics"), nullptr, this,
         [this](int status, const QJsonDocument &body, const QString &) {
             if (status != 200)
                 return;
             const QJsonObject limits = body.object().value(QStringLiteral("limits")).toObject();
             m_rateLimit = rateLimitText(limits.value(QStringLiteral("ratePerWindow")).toInt(),
                                         limits.value(QStringLiteral("rateWindowMs")).toInt());
             emit connectionChanged();
         });
    pollPools();
    pollControls();
    openStream();
}

RemoteBackend::~RemoteBackend()
{
    m_ws.disconnect(this);
    m_ws.abort();
}

QString RemoteBackend::restUrl() const
{
    return m_base.toString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash) +
           QStringLiteral("/api");
}

QString RemoteBackend::wsUrl() const
{
    QUrl ws = m_base;
    ws.setScheme(m_base.scheme() == QLatin1String("https") ? QStringLiteral("wss")
                                                           : QStringLiteral("ws"));
    return ws.toString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash) +
           QStringLiteral("/ws/orders");
}

void RemoteBackend::setConnected(bool up, const QString &state)
{
    const bool changed = up != m_connected || state != m_state;
    if (up && m_everConnected && !m_connected)
        ++m_reconnects;
    m_everConnected = m_everConnected || up;
    m_connected = up;
    m_state = state;
    if (changed)
        emit connectionChanged();
}

void RemoteBackend::openStream()
{
    QUrl url(wsUrl());
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("batch"), QStringLiteral("1"));
    if (m_lastEventId > 0) // resume exactly after the last event this console has
        q.addQueryItem(QStringLiteral("since"), QString::number(m_lastEventId));
    url.setQuery(q);
    QNetworkRequest request(url);
    if (!m_apiKey.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_apiKey.toUtf8());
    m_ws.open(request);
}

void RemoteBackend::onStreamText(const QString &message)
{
    const QJsonDocument doc = QJsonDocument::fromJson(message.toUtf8());
    QList<QJsonObject> items;
    if (doc.isArray()) {
        for (const QJsonValue &v : doc.array())
            items << v.toObject();
    } else {
        items << doc.object();
    }
    QList<OrderEvent> events;
    for (const QJsonObject &o : std::as_const(items)) {
        const QString type = o.value(QStringLiteral("type")).toString();
        if (type == QLatin1String("snapshot")) {
            // The stream's first message without `since`: the latest orders (rows).
            if (m_lastEventId == 0)
                emit resynced();
            continue;
        }
        auto e = OrderEvent::fromMessage(QJsonDocument(o).toJson(QJsonDocument::Compact));
        if (!e || (e->eventId > 0 && e->eventId <= m_lastEventId))
            continue; // not a status change, or one this console already has
        m_lastEventId = std::max(m_lastEventId, e->eventId);
        events << *e;
    }
    if (!events.isEmpty())
        emit orderEvents(events);
}

void RemoteBackend::call(const QByteArray &method, const QString &path, const QJsonObject *body,
                         QObject *context, Reply done)
{
    QUrl url = m_base;
    const qsizetype q = path.indexOf(QLatin1Char('?'));
    url.setPath(q < 0 ? path : path.left(q));
    if (q >= 0)
        url.setQuery(path.mid(q + 1));
    QNetworkRequest request(url);
    request.setTransferTimeout(10000);
    if (!m_apiKey.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_apiKey.toUtf8());
    QByteArray payload;
    if (body) {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        payload = QJsonDocument(*body).toJson(QJsonDocument::Compact);
    }
    QNetworkReply *reply = m_nam.sendCustomRequest(request, method, payload);
    QPointer<QObject> guard(context);
    connect(reply, &QNetworkReply::finished, this, [reply, guard, done = std::move(done)] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonDocument json = QJsonDocument::fromJson(reply->readAll());
        if (guard)
            done(status, json, reply->errorString());
    });
}

void RemoteBackend::pollPools()
{
    call("GET", QStringLiteral("/api/pools"), nullptr, this,
         [this](int status, const QJsonDocument &body, const QString &) {
             if (status != 200)
                 return;
             QList<std::shared_ptr<Pool>> states;
             for (const QJsonValue &v : body.array()) {
                 QString error;
                 // A launched token this console's registry does not know is skipped.
                 if (auto pool = poolFromJson(v.toObject(), &error))
                     states << std::shared_ptr<Pool>(std::move(pool));
             }
             m_market->update(states);
         });
}

void RemoteBackend::pollControls()
{
    call("GET", QStringLiteral("/api/control"), nullptr, this,
         [this](int status, const QJsonDocument &body, const QString &) {
             if (status == 200)
                 m_controls->apply(controlStateFromJson(body.object()));
         });
}

void RemoteBackend::submit(const QJsonObject &order, const OrderRequest &, QObject *context,
                           std::function<void(const SubmitResult &)> done)
{
    call("POST", QStringLiteral("/api/orders/execute"), &order, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &error) {
             SubmitResult r;
             const QJsonObject o = body.object();
             if (status == 200) {
                 r.ok = true;
                 r.orderId = o.value(QStringLiteral("orderId")).toString();
                 r.replayed = o.value(QStringLiteral("replayed")).toBool();
                 r.createdAt = QDateTime::fromString(
                     o.value(QStringLiteral("createdAt")).toString(), Qt::ISODateWithMs);
             } else {
                 r.error = errorOf(status, body, error);
             }
             done(r);
         });
}

void RemoteBackend::cancel(const QString &orderId, QObject *context,
                           std::function<void(const Ingest::CancelResult &)> done)
{
    call("DELETE", QStringLiteral("/api/orders/") + orderId, nullptr, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &error) {
             Ingest::CancelResult r;
             r.ok = status == 200 || status == 404 || status == 409;
             r.cancelled = status == 200;
             if (status == 409)
                 r.current =
                     statusFromName(body.object().value(QStringLiteral("status")).toString());
             if (!r.ok)
                 r.error = errorOf(status, body, error).message;
             done(r);
         });
}

void RemoteBackend::launch(const QJsonObject &body, const LaunchSpec &, QObject *context,
                           std::function<void(const Ingest::LaunchReply &)> done)
{
    call("POST", QStringLiteral("/api/launches"), &body, context,
         [done = std::move(done)](int status, const QJsonDocument &reply, const QString &error) {
             Ingest::LaunchReply r;
             const QJsonObject o = reply.object();
             if (status == 201) {
                 LaunchResult l;
                 l.symbol = o.value(QStringLiteral("symbol")).toString();
                 l.mint = o.value(QStringLiteral("mint")).toString();
                 l.poolId = o.value(QStringLiteral("poolId")).toString();
                 l.venue = o.value(QStringLiteral("venue")).toString();
                 l.decimals = o.value(QStringLiteral("decimals")).toInt();
                 r.launched = l;
             } else {
                 r.conflict = status == 409;
                 r.error = errorOf(status, reply, error).message;
             }
             done(r);
         });
}

void RemoteBackend::control(const ControlAction &action, QObject *context,
                            std::function<void(const ControlReply &)> done)
{
    QString path;
    QJsonObject body;
    switch (action.kind) {
    case ControlAction::Kind::Pause:
        path = QStringLiteral("/api/control/pause");
        body.insert(QStringLiteral("reason"), action.reason);
        break;
    case ControlAction::Kind::Resume:
        path = QStringLiteral("/api/control/resume");
        break;
    case ControlAction::Kind::Kill:
        path = QStringLiteral("/api/control/kill");
        body.insert(QStringLiteral("reason"), action.reason);
        break;
    case ControlAction::Kind::Venue:
        path = QStringLiteral("/api/control/venues/") + action.venue;
        body.insert(QStringLiteral("routing"), action.enabled);
        break;
    case ControlAction::Kind::Volatility:
        path = QStringLiteral("/api/control/simulator");
        body.insert(QStringLiteral("volatility"), action.volatility);
        break;
    }
    call("POST", path, &body, context,
         [this, done = std::move(done)](int status, const QJsonDocument &reply,
                                        const QString &error) {
             ControlReply r;
             const QJsonObject o = reply.object();
             r.ok = status == 200;
             if (r.ok) {
                 r.auditId = qint64(o.value(QStringLiteral("actionId")).toDouble());
                 for (const QJsonValue &v : o.value(QStringLiteral("cancelled")).toArray())
                     r.cancelled << v.toString();
                 m_controls->apply(controlStateFromJson(o)); // the state after it, at once
             } else {
                 r.error = errorOf(status, reply, error);
             }
             done(r);
         });
}

void RemoteBackend::retry(const QString &orderId, QObject *context,
                          std::function<void(const Ingest::RetryResult &)> done)
{
    call("POST", QStringLiteral("/api/orders/%1/retry").arg(orderId), nullptr, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &error) {
             Ingest::RetryResult r;
             const QJsonObject o = body.object();
             if (status == 200 || status == 201) {
                 r.submit.ok = true;
                 r.submit.orderId = o.value(QStringLiteral("orderId")).toString();
                 r.submit.replayed = status == 200;
             } else {
                 r.submit.error = errorOf(status, body, error);
                 if (status == 409)
                     r.current = statusFromName(o.value(QStringLiteral("status")).toString());
             }
             done(r);
         });
}

void RemoteBackend::fetchOrderEvents(const QString &orderId, QObject *context,
                                     std::function<void(const QList<OrderEvent> &)> done)
{
    call("GET", QStringLiteral("/api/orders/%1/events").arg(orderId), nullptr, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &) {
             QList<OrderEvent> events;
             if (status == 200)
                 for (const QJsonValue &v : body.object().value(QStringLiteral("events")).toArray())
                     if (auto e = OrderEvent::fromMessage(
                             QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact)))
                         events << *e;
             done(events);
         });
}

void RemoteBackend::fetchRecentOrders(int limit, QObject *context,
                                      std::function<void(const QList<Order> &)> done)
{
    call("GET", QStringLiteral("/api/orders?limit=%1").arg(limit), nullptr, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &) {
             QList<Order> orders;
             if (status == 200)
                 for (const QJsonValue &v : body.array())
                     orders << orderFromJson(v.toObject());
             done(orders);
         });
}

void RemoteBackend::fetchQueueCounts(QObject *context,
                                     std::function<void(const QueueCounts &)> done)
{
    call("GET", QStringLiteral("/api/metrics"), nullptr, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &error) {
             QueueCounts c;
             const QJsonObject q = body.object().value(QStringLiteral("queue")).toObject();
             c.ok = status == 200 && !q.isEmpty();
             c.error = c.ok ? QString() : error;
             c.waiting = q.value(QStringLiteral("waiting")).toInteger();
             c.active = q.value(QStringLiteral("active")).toInteger();
             c.delayed = q.value(QStringLiteral("delayed")).toInteger();
             c.completed = q.value(QStringLiteral("completed")).toInteger();
             c.failed = q.value(QStringLiteral("failed")).toInteger();
             done(c);
         });
}

void RemoteBackend::checkHealth(
    QObject *context, std::function<void(bool, const QString &, bool, const QString &)> done)
{
    call("GET", QStringLiteral("/health"), nullptr, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &error) {
             if (status == 0) {
                 const QString why = QStringLiteral("engine unreachable: ") + error;
                 done(false, why, false, why);
                 return;
             }
             const QJsonObject o = body.object();
             const QString redis = o.value(QStringLiteral("redis")).toString();
             const QString pg = o.value(QStringLiteral("postgres")).toString();
             done(redis == QLatin1String("up") || redis == QLatin1String("connected"), redis,
                  pg == QLatin1String("up") || pg == QLatin1String("connected"), pg);
         });
}

void RemoteBackend::fetchActions(int limit, QObject *context,
                                 std::function<void(const QList<OperatorAction> &)> done)
{
    call("GET", QStringLiteral("/api/control/actions?limit=%1").arg(limit), nullptr, context,
         [done = std::move(done)](int status, const QJsonDocument &body, const QString &) {
             QList<OperatorAction> actions;
             if (status == 200)
                 for (const QJsonValue &v :
                      body.object().value(QStringLiteral("actions")).toArray()) {
                     const QJsonObject o = v.toObject();
                     OperatorAction a;
                     a.id = qint64(o.value(QStringLiteral("id")).toDouble());
                     a.at = QDateTime::fromString(o.value(QStringLiteral("at")).toString(),
                                                  Qt::ISODateWithMs);
                     a.action = o.value(QStringLiteral("action")).toString();
                     a.target = o.value(QStringLiteral("target")).toString();
                     a.detail = o.value(QStringLiteral("detail")).toObject();
                     a.source = o.value(QStringLiteral("source")).toString();
                     actions << a;
                 }
             done(actions);
         });
}

} // namespace oee::ui
