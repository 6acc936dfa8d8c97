#include "api/HttpApi.h"

#include "api/GuardedTcpServer.h"
#include "api/Ingest.h"
#include "api/Json.h"
#include "api/QueryService.h"
#include "api/WsHub.h"
#include "dex/Market.h"
#include "queue/RedisConnection.h"
#include "runtime/Logging.h"
#include "store/OrderStore.h"

#include <QHostAddress>
#include <QRegularExpression>
#include <QTcpServer>
#include <QJsonArray>
#include <QMetaEnum>
#include <QUrlQuery>
#include <QUuid>
#include <QWebSocket>

namespace oee {

namespace {

using Method = QHttpServerRequest::Method;

ApiError notFound(const QString &what)
{
    return ApiError{404, QStringLiteral("not_found"), what, {}};
}

ApiError unavailable(const QString &what)
{
    return ApiError{503, QStringLiteral("service_unavailable"), what, {}};
}

bool isOrderId(const QString &id)
{
    return id.size() == 36 && !QUuid::fromString(id).isNull();
}

} // namespace

HttpApi::HttpApi(const Config &config, Ingest *ingest, QueryService *queries, Market *market,
                 WsHub *hub, QObject *parent)
    : QObject(parent), m_config(config), m_ingest(ingest), m_queries(queries), m_market(market),
      m_hub(hub)
{
    for (const QString &o : m_config.corsOrigins.split(QLatin1Char(','), Qt::SkipEmptyParts))
        m_corsOrigins << o.trimmed();
    registerRoutes();
    connect(&m_server, &QAbstractHttpServer::newWebSocketConnection, this, [this] {
        while (auto socket = m_server.nextPendingWebSocketConnection())
            m_hub->accept(std::move(socket));
    });
}

HttpApi::~HttpApi() = default;

quint16 HttpApi::listen(const QString &host, quint16 port, QString *error)
{
    QHostAddress address;
    if (host == QStringLiteral("localhost"))
        address = QHostAddress::LocalHost;
    else if (!address.setAddress(host)) {
        *error = QStringLiteral("HOST '%1' is not an IP address").arg(host);
        return 0;
    }
    if (!address.isLoopback() && m_config.apiKey.isEmpty()) {
        *error = QStringLiteral("binding %1 (not loopback) requires an API key: set API_KEY "
                                "(clients then send Authorization: Bearer <key>)").arg(host);
        return 0;
    }
    // Our own QTcpServer: QHttpServer's default listen backlog (50) drops connection bursts,
    // which then wait for SYN retransmits (1 s, 3 s, …).
    auto *tcp = new GuardedTcpServer(m_config.maxBodyBytes, m_config.requestTimeoutMs, this);
    tcp->setListenBacklogSize(1024);
    if (!tcp->listen(address, port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3").arg(host).arg(port).arg(tcp->errorString());
        delete tcp;
        return 0;
    }
    m_server.bind(tcp);
    return tcp->serverPort();
}

void HttpApi::enter(const QHttpServerRequest &req)
{
    // CORS: "*" allows every origin; otherwise the request's Origin if it is listed.
    m_origin.clear();
    if (m_config.corsOrigins == QStringLiteral("*")) {
        m_origin = "*";
    } else {
        const QByteArray origin = req.value("Origin");
        if (!origin.isEmpty() && m_corsOrigins.contains(QString::fromUtf8(origin)))
            m_origin = origin;
    }
}

bool HttpApi::authorized(const QHttpServerRequest &req) const
{
    return m_config.apiKey.isEmpty() ||
           req.value("Authorization") == "Bearer " + m_config.apiKey.toUtf8();
}

void HttpApi::respond(QHttpServerResponder &r, int status, const QByteArray &json,
                      const QByteArray &origin)
{
    const auto code = QHttpServerResponder::StatusCode(status);
    if (origin.isEmpty())
        r.write(json, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}, code);
    else
        r.write(json,
                {{"Content-Type", "application/json"},
                 {"Cache-Control", "no-store"},
                 {"Access-Control-Allow-Origin", origin},
                 {"Vary", "Origin"}},
                code);
}

void HttpApi::respond(QHttpServerResponder &r, int status, const QByteArray &json)
{
    respond(r, status, json, m_origin);
}

void HttpApi::respondError(QHttpServerResponder &r, const ApiError &e)
{
    respond(r, e.httpStatus, errorJson(e));
}

HttpApi::Token HttpApi::park(QHttpServerResponder &&responder)
{
    const Token token = m_nextToken++;
    Parked p;
    p.origin = m_origin;
    p.socket = responder.socket();
    p.responder = std::make_unique<QHttpServerResponder>(std::move(responder));
    m_parked.emplace(token, std::move(p));
    return token;
}

void HttpApi::answer(Token token, int status, const QByteArray &json)
{
    QMetaObject::invokeMethod(
        this, [this, token, status, json] { writeNow(token, status, json); },
        Qt::QueuedConnection);
}

void HttpApi::writeNow(Token token, int status, const QByteArray &json)
{
    auto it = m_parked.find(token);
    if (it == m_parked.end())
        return;
    Parked p = std::move(it->second);
    m_parked.erase(it);
    if (!p.socket || p.socket->state() != QAbstractSocket::ConnectedState)
        return; // the client went away: nothing to write to (the responder's destructor
                // does not touch the socket in Qt 6.4)
    respond(*p.responder, status, json, p.origin);
}

void HttpApi::registerRoutes()
{
    // --- WebSocket streams: QHttpServer 6.4 upgrades only requests a route handled. The
    // handler writes nothing for an upgrade; WsHub takes the socket and checks the path.
    const auto upgradeOnly = [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
        if (req.value("Upgrade").compare("websocket", Qt::CaseInsensitive) == 0)
            return;
        respondError(responder, {426, QStringLiteral("upgrade_required"),
                               QStringLiteral("this is a WebSocket stream; connect with a "
                                              "WebSocket client"),
                               {}});
    };
    const auto upgradeOnlyWithId = [upgradeOnly](const QString &, const QHttpServerRequest &req,
                                                 QHttpServerResponder &&responder) {
        upgradeOnly(req, std::move(responder));
    };
    m_server.route(QStringLiteral("/ws/orders"), Method::Get, upgradeOnly);
    m_server.route(QStringLiteral("/api/orders/stream/all"), Method::Get, upgradeOnly);
    m_server.route(QStringLiteral("/ws/orders/<arg>"), Method::Get, upgradeOnlyWithId);
    m_server.route(QStringLiteral("/api/orders/<arg>/stream"), Method::Get, upgradeOnlyWithId);
    m_server.route(QStringLiteral("/ws/<arg>"), Method::Get, upgradeOnlyWithId);

    // --- CORS preflight for every path ----------------------------------------------------
    m_server.route(QStringLiteral("/<arg>"), Method::Options,
                   [this](const QUrl &, const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
        if (m_origin.isEmpty()) {
            responder.write(QHttpServerResponder::StatusCode::NoContent);
            return;
        }
        responder.write({{"Access-Control-Allow-Origin", m_origin},
                         {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                         {"Access-Control-Allow-Headers", "Content-Type, Authorization, Idempotency-Key"},
                         {"Access-Control-Max-Age", "600"},
                         {"Vary", "Origin"}},
                        QHttpServerResponder::StatusCode::NoContent);
    });

    // --- submit --------------------------------------------------------------------------
    m_server.route(
        QStringLiteral("/api/orders/execute"), Method::Post,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
            if (!authorized(req)) {
                respondError(responder, {401, QStringLiteral("unauthorized"),
                                         QStringLiteral("this server requires Authorization: "
                                                        "Bearer <API key> to submit orders"),
                                         QStringLiteral("Authorization")});
                return;
            }
            auto parsed = parseOrderRequest(req.body(), req.value("Content-Type"),
                                            Market::tokens(), m_config.defaultSlippage,
                                            m_config.maxBodyBytes);
            if (auto *e = std::get_if<ApiError>(&parsed)) {
                respondError(responder, *e);
                return;
            }
            const QByteArray key = req.value("Idempotency-Key");
            static const QRegularExpression keyPattern(QStringLiteral("^[\\x21-\\x7e]{1,255}$"));
            if (!key.isNull() && !keyPattern.match(QString::fromLatin1(key)).hasMatch()) {
                respondError(responder, {400, QStringLiteral("invalid_field"),
                                       QStringLiteral("Idempotency-Key must be 1-255 visible ASCII "
                                                      "characters"),
                                       QStringLiteral("Idempotency-Key")});
                return;
            }
            QByteArray host = req.value("Host");
            if (host.isEmpty())
                host = m_config.host.toUtf8() + ':' + QByteArray::number(m_config.port);
            const Token token = park(std::move(responder));
            m_ingest->submit(std::get<OrderRequest>(parsed), QString::fromLatin1(key),
                             [this, token, host](const SubmitResult &r) {
                if (!r.ok) {
                    answer(token, r.error.httpStatus, errorJson(r.error));
                    return;
                }
                const QString path = QStringLiteral("/ws/orders/") + r.orderId;
                // A replay answers with the original order; its current status is at GET.
                answer(token, r.replayed ? 200 : 201, compactJson({
                    {QStringLiteral("success"), true},
                    {QStringLiteral("replayed"), r.replayed},
                    {QStringLiteral("orderId"), r.orderId},
                    {QStringLiteral("status"), r.replayed ? QJsonValue(QJsonValue::Null)
                                                          : QJsonValue(QStringLiteral("pending"))},
                    {QStringLiteral("message"),
                     QStringLiteral("Order accepted. Connect to the WebSocket for live updates.")},
                    {QStringLiteral("wsUrl"),
                     QStringLiteral("ws://") + QString::fromUtf8(host) + path},
                    {QStringLiteral("wsPath"), path},
                    {QStringLiteral("websocketUrl"),
                     QStringLiteral("/api/orders/%1/stream").arg(r.orderId)},
                    {QStringLiteral("createdAt"), isoTime(r.createdAt)},
                }));
            });
        });

    // --- reads ---------------------------------------------------------------------------
    m_server.route(
        QStringLiteral("/api/orders"), Method::Get,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
            const QUrlQuery q = req.query();
            std::optional<OrderStatus> status;
            if (q.hasQueryItem(QStringLiteral("status"))) {
                status = statusFromName(q.queryItemValue(QStringLiteral("status")));
                if (!status) {
                    respondError(responder, {400, QStringLiteral("invalid_field"),
                                           QStringLiteral("status must be one of pending, "
                                                          "routing, building, submitted, "
                                                          "confirmed, failed"),
                                           QStringLiteral("status")});
                    return;
                }
            }
            int limit = 50;
            if (q.hasQueryItem(QStringLiteral("limit"))) {
                bool ok = false;
                limit = q.queryItemValue(QStringLiteral("limit")).toInt(&ok);
                if (!ok || limit < 1 || limit > 500) {
                    respondError(responder, {400, QStringLiteral("invalid_field"),
                                           QStringLiteral("limit must be an integer in [1, 500]"),
                                           QStringLiteral("limit")});
                    return;
                }
            }
            qint64 before = 0;
            if (q.hasQueryItem(QStringLiteral("before"))) {
                bool ok = false;
                before = q.queryItemValue(QStringLiteral("before")).toLongLong(&ok);
                if (!ok || before < 1) {
                    respondError(responder, {400, QStringLiteral("invalid_field"),
                                           QStringLiteral("before must be a positive integer "
                                                          "(the nextCursor of a previous page)"),
                                           QStringLiteral("before")});
                    return;
                }
            }
            const Token token = park(std::move(responder));
            m_queries->post([this, token, status, limit, before](OrderStore &store, JobQueue &,
                                                                RedisConnection &) {
                const auto orders = store.orders(status, limit, before);
                if (!orders) {
                    answer(token, 503, errorJson(unavailable(
                                           QStringLiteral("PostgreSQL is unavailable"))));
                    return;
                }
                QJsonArray list;
                for (const Order &o : *orders)
                    list.append(o.toJson());
                QJsonObject body{{QStringLiteral("success"), true},
                                 {QStringLiteral("orders"), list},
                                 {QStringLiteral("count"), list.size()}};
                body.insert(QStringLiteral("nextCursor"),
                            orders->size() == limit ? QJsonValue(double(orders->last().orderNo))
                                                    : QJsonValue(QJsonValue::Null));
                answer(token, 200, compactJson(body));
            });
        });

    m_server.route(
        QStringLiteral("/api/orders/<arg>"), Method::Get,
        [this](const QString &id, const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
            if (!isOrderId(id)) {
                respondError(responder, notFound(QStringLiteral("no order with id '%1'").arg(id.left(64))));
                return;
            }
            const Token token = park(std::move(responder));
            m_queries->post([this, token, id](OrderStore &store, JobQueue &, RedisConnection &) {
                const auto order = store.order(id);
                if (!order)
                    answer(token, 503, errorJson(unavailable(QStringLiteral("PostgreSQL is unavailable"))));
                else if (!*order)
                    answer(token, 404, errorJson(notFound(QStringLiteral("no order with id '%1'").arg(id))));
                else
                    answer(token, 200, compactJson({{QStringLiteral("success"), true},
                                                    {QStringLiteral("order"), (*order)->toJson()}}));
            });
        });

    m_server.route(
        QStringLiteral("/api/orders/<arg>/events"), Method::Get,
        [this](const QString &id, const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
            if (!isOrderId(id)) {
                respondError(responder, notFound(QStringLiteral("no order with id '%1'").arg(id.left(64))));
                return;
            }
            const Token token = park(std::move(responder));
            m_queries->post([this, token, id](OrderStore &store, JobQueue &, RedisConnection &) {
                const auto order = store.order(id);
                const auto events = order && *order ? store.events(id) : std::nullopt;
                if (!order || (*order && !events)) {
                    answer(token, 503, errorJson(unavailable(QStringLiteral("PostgreSQL is unavailable"))));
                    return;
                }
                if (!*order) {
                    answer(token, 404, errorJson(notFound(QStringLiteral("no order with id '%1'").arg(id))));
                    return;
                }
                QJsonArray list;
                for (const OrderEvent &e : *events)
                    list.append(e.toJson());
                answer(token, 200, compactJson({{QStringLiteral("success"), true},
                                                {QStringLiteral("orderId"), id},
                                                {QStringLiteral("status"), statusName((*order)->status)},
                                                {QStringLiteral("events"), list}}));
            });
        });

    m_server.route(
        QStringLiteral("/api/quotes"), Method::Get,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
            // Same validation as an order: build the JSON an order would carry.
            const QUrlQuery q = req.query();
            QJsonObject o{{QStringLiteral("tokenIn"), q.queryItemValue(QStringLiteral("tokenIn"))},
                          {QStringLiteral("tokenOut"), q.queryItemValue(QStringLiteral("tokenOut"))}};
            if (!q.hasQueryItem(QStringLiteral("tokenIn")))
                o.remove(QStringLiteral("tokenIn"));
            if (!q.hasQueryItem(QStringLiteral("tokenOut")))
                o.remove(QStringLiteral("tokenOut"));
            const QString amountText = q.queryItemValue(QStringLiteral("amount"));
            if (q.hasQueryItem(QStringLiteral("amount"))) {
                bool ok = false;
                const double amount = amountText.toDouble(&ok);
                o.insert(QStringLiteral("amount"), ok ? QJsonValue(amount) : QJsonValue(amountText));
            }
            auto parsed = parseOrderRequest(compactJson(o), "application/json", Market::tokens(),
                                            m_config.defaultSlippage, m_config.maxBodyBytes);
            if (auto *e = std::get_if<ApiError>(&parsed)) {
                respondError(responder, *e);
                return;
            }
            const OrderRequest &r = std::get<OrderRequest>(parsed);
            const Route route = m_market->route(r.tokenIn, r.tokenOut, r.amount);
            QJsonObject body = route.toJson();
            body.insert(QStringLiteral("success"), true);
            body.insert(QStringLiteral("tokenIn"), r.tokenIn);
            body.insert(QStringLiteral("tokenOut"), r.tokenOut);
            body.insert(QStringLiteral("amount"), r.amount);
            respond(responder, 200, compactJson(body));
        });

    m_server.route(
        QStringLiteral("/api/metrics"), Method::Get,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
            const Token token = park(std::move(responder));
            const Config cfg = m_config;
            const int subscribers = m_hub->subscriberCount();
            const qint64 dropped = m_hub->droppedCount();
            m_queries->post([this, token, cfg, subscribers, dropped](OrderStore &store, JobQueue &queue,
                                                           RedisConnection &) {
                const QueueCounts c = queue.counts();
                const auto byStatus = store.countsByStatus();
                QJsonObject body{{QStringLiteral("success"), true},
                                 {QStringLiteral("timestamp"),
                                  isoTime(QDateTime::currentDateTimeUtc())}};
                if (c.ok) {
                    body.insert(QStringLiteral("queue"),
                                QJsonObject{{QStringLiteral("waiting"), double(c.waiting)},
                                            {QStringLiteral("active"), double(c.active)},
                                            {QStringLiteral("delayed"), double(c.delayed)},
                                            {QStringLiteral("completed"), double(c.completed)},
                                            {QStringLiteral("failed"), double(c.failed)},
                                            {QStringLiteral("stalled"), double(c.stalled)}});
                } else {
                    body.insert(QStringLiteral("queue"), QJsonValue::Null);
                    body.insert(QStringLiteral("queueError"), c.error);
                }
                if (byStatus) {
                    QJsonObject orders;
                    qint64 total = 0;
                    for (OrderStatus s : allStatuses()) {
                        const qint64 n = byStatus->value(statusName(s));
                        orders.insert(statusName(s), double(n));
                        total += n;
                    }
                    orders.insert(QStringLiteral("total"), double(total));
                    body.insert(QStringLiteral("orders"), orders);
                } else {
                    body.insert(QStringLiteral("orders"), QJsonValue::Null);
                }
                body.insert(QStringLiteral("limits"),
                            QJsonObject{{QStringLiteral("concurrency"), cfg.concurrency},
                                        {QStringLiteral("ratePerWindow"), cfg.ratePerWindow},
                                        {QStringLiteral("rateWindowMs"), cfg.rateWindowMs},
                                        {QStringLiteral("maxAttempts"), cfg.maxAttempts}});
                body.insert(QStringLiteral("webSocketSubscribers"), subscribers);
                body.insert(QStringLiteral("webSocketDropped"), double(dropped));
                answer(token, (c.ok && byStatus) ? 200 : 503, compactJson(body));
            });
        });

    m_server.route(
        QStringLiteral("/health"), Method::Get,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
            const Token token = park(std::move(responder));
            m_queries->post([this, token](OrderStore &store, JobQueue &, RedisConnection &redis) {
                RedisReply pong = redis.command({"PING"});
                if (pong.type == RedisReply::IoError)
                    pong = redis.command({"PING"}); // one reconnect after a server restart
                const bool redisUp = pong.ok();
                const bool pgUp = store.ping();
                const QString redisState = redisUp ? QStringLiteral("up")
                                                   : QStringLiteral("down: ") + QString::fromUtf8(pong.str);
                const QString pgState = pgUp ? QStringLiteral("up")
                                             : QStringLiteral("down: ") + store.lastError();
                QJsonObject body{{QStringLiteral("status"),
                                  redisUp && pgUp ? QStringLiteral("healthy")
                                                  : QStringLiteral("unhealthy")},
                                 {QStringLiteral("redis"), redisState},
                                 {QStringLiteral("postgres"), pgState},
                                 {QStringLiteral("timestamp"), isoTime(QDateTime::currentDateTimeUtc())}};
                if (!(redisUp && pgUp)) {
                    QStringList down;
                    if (!redisUp)
                        down << QStringLiteral("redis");
                    if (!pgUp)
                        down << QStringLiteral("postgres");
                    body.insert(QStringLiteral("error"),
                                QJsonObject{{QStringLiteral("code"), QStringLiteral("dependency_down")},
                                            {QStringLiteral("message"),
                                             QStringLiteral("not answering: ") + down.join(QStringLiteral(", "))}});
                }
                answer(token, redisUp && pgUp ? 200 : 503, compactJson(body));
            });
        });

    m_server.setMissingHandler([this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        enter(req);
        const char *method = QMetaEnum::fromType<QHttpServerRequest::Method>().valueToKey(
            int(req.method()));
        respondError(responder, notFound(QStringLiteral("no route for %1 %2")
                                           .arg(QString::fromLatin1(method).toUpper(),
                                                req.url().path().left(200))));
    });
}

} // namespace oee
