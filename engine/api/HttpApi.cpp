#include "api/HttpApi.h"

#include "api/GuardedTcpServer.h"
#include "api/Json.h"
#include "api/QueryService.h"
#include "api/WsHub.h"
#include "api/controllers/Controllers.h"
#include "runtime/Logging.h"

#include <QHostAddress>
#include <QWebSocket>

namespace oee {

HttpApi::HttpApi(const Config &config, Ingest *ingest, ReadPool *reads, QueryService *health,
                 Market *market, WsHub *hub, QObject *parent)
    : QObject(parent), m_config(config), m_ingest(ingest), m_reads(reads), m_health(health),
      m_market(market), m_hub(hub)
{
    for (const QString &o : m_config.corsOrigins.split(QLatin1Char(','), Qt::SkipEmptyParts))
        m_corsOrigins << o.trimmed();
    // Registration order is matching order: the stream paths before /api/orders/<id>, the
    // catch-all last.
    m_streams = std::make_unique<StreamsController>(*this);
    m_system = std::make_unique<SystemController>(*this);
    m_orders = std::make_unique<OrdersController>(*this);
    m_quotes = std::make_unique<QuotesController>(*this);
    m_pools = std::make_unique<PoolsController>(*this);
    m_control = std::make_unique<ControlController>(*this);
    m_streams->registerRoutes();
    m_system->registerPreflight();
    m_orders->registerRoutes();
    m_quotes->registerRoutes();
    m_pools->registerRoutes();
    m_control->registerRoutes();
    m_system->registerRoutes();
    // Upgrades never reach QHttpServer (GuardedTcpServer hands them to the hub's thread);
    // the handler is what makes QHttpServer route them rather than answer 404 if one did.
    connect(&m_server, &QAbstractHttpServer::newWebSocketConnection, this, [this] {
        while (auto socket = m_server.nextPendingWebSocketConnection())
            socket->close(QWebSocketProtocol::CloseCodeGoingAway);
    });
}

HttpApi::~HttpApi()
{
    // The connections outlive m_lines (QHttpServer, a later member, deletes them after it is
    // gone): their destroyed() must not reach it.
    for (auto it = m_lines.keyBegin(); it != m_lines.keyEnd(); ++it)
        disconnect(*it, &QObject::destroyed, this, nullptr);
}

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
                                "(clients then send Authorization: Bearer <key>)")
                     .arg(host);
        return 0;
    }
    // Our own QTcpServer: QHttpServer's default listen backlog (50) drops connection bursts,
    // which then wait for SYN retransmits (1 s, 3 s, …).
    auto *tcp = new GuardedTcpServer(m_config.maxBodyBytes, m_config.requestTimeoutMs, this);
    tcp->setListenBacklogSize(1024);
    if (!tcp->listen(address, port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(host)
                     .arg(port)
                     .arg(tcp->errorString());
        delete tcp;
        return 0;
    }
    WsHub *hub = m_hub;
    tcp->setUpgradeHandler([hub](QTcpSocket *socket) { hub->takeConnection(socket); });
    m_server.bind(tcp);
    if (m_config.wsPort) {
        // Seed 000 served its streams on a port of their own (ws://host:3001/ws/<id>): the
        // hub listens there itself.
        QString wsError;
        QMetaObject::invokeMethod(
            m_hub, [&] { m_wsPort = m_hub->listen(address, m_config.wsPort, &wsError); },
            Qt::BlockingQueuedConnection);
        if (!m_wsPort) {
            *error = QStringLiteral("cannot listen on %1:%2 (WS_PORT): %3")
                         .arg(host)
                         .arg(m_config.wsPort)
                         .arg(wsError);
            return 0;
        }
    }
    return tcp->serverPort();
}

quint16 HttpApi::wsPort() const
{
    return m_wsPort;
}

bool HttpApi::enter(const QHttpServerRequest &req)
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
    return req.value("Upgrade").compare("websocket", Qt::CaseInsensitive) != 0;
}

void HttpApi::route(const QString &path, Methods methods, Handler handler)
{
    m_server.route(path, methods,
                   [this, handler](const QHttpServerRequest &req, QHttpServerResponder &&r) {
                       if (enter(req))
                           handler(req, std::move(r));
                   });
}

void HttpApi::route(const QString &path, Methods methods, ArgHandler handler)
{
    m_server.route(path, methods,
                   [this, handler](const QString &arg, const QHttpServerRequest &req,
                                   QHttpServerResponder &&r) {
                       if (enter(req))
                           handler(arg, req, std::move(r));
                   });
}

void HttpApi::routeAnyPath(Methods methods, UrlHandler handler)
{
    m_server.route(
        QStringLiteral("/<arg>"), methods,
        [this, handler](const QUrl &arg, const QHttpServerRequest &req, QHttpServerResponder &&r) {
            if (enter(req))
                handler(arg, req, std::move(r));
        });
}

bool HttpApi::admit(const QHttpServerRequest &req, QHttpServerResponder &responder,
                    const char *what)
{
    if (authorized(req))
        return true;
    respondError(responder,
                 {ErrorKind::Unauthorized,
                  QStringLiteral("this server requires Authorization: Bearer <API key> ") +
                      QLatin1String(what),
                  QStringLiteral("Authorization"),
                  {}});
    return false;
}

QString HttpApi::source(const QHttpServerRequest &req)
{
    return QStringLiteral("rest ") + req.remoteAddress().toString();
}

bool HttpApi::authorized(const QHttpServerRequest &req) const
{
    return m_config.apiKey.isEmpty() ||
           req.value("Authorization") == "Bearer " + m_config.apiKey.toUtf8();
}

void HttpApi::write(QHttpServerResponder &r, int status, const QByteArray &body,
                    const Headers &headers, const QByteArray &origin)
{
    r.writeStatusLine(QHttpServerResponder::StatusCode(status));
    bool typed = false;
    for (const auto &[key, value] : headers) {
        typed = typed || key.compare("Content-Type", Qt::CaseInsensitive) == 0;
        r.writeHeader(key, value);
    }
    if (!typed)
        r.writeHeader("Content-Type", "application/json");
    r.writeHeader("Cache-Control", "no-store");
    if (!origin.isEmpty()) {
        r.writeHeader("Access-Control-Allow-Origin", origin);
        r.writeHeader("Access-Control-Expose-Headers", "Link, X-Next-Cursor, Location");
        r.writeHeader("Vary", "Origin");
    }
    r.writeHeader("Content-Length", QByteArray::number(body.size()));
    r.writeBody(body);
}

void HttpApi::respond(QHttpServerResponder &r, int status, const QByteArray &body,
                      const Headers &headers)
{
    if (const auto line = m_lines.constFind(r.socket());
        line != m_lines.cend() && !line->empty()) { // an earlier request is not answered yet
        writeNow(park(std::move(r)), status, body, headers);
        return;
    }
    write(r, status, body, headers, m_origin);
}

void HttpApi::respondError(QHttpServerResponder &r, const ApiError &e)
{
    respond(r, e.httpStatus(), errorJson(e));
}

HttpApi::Token HttpApi::park(QHttpServerResponder &&responder, metrics::Histogram *timing)
{
    const Token token = m_nextToken++;
    Parked p;
    p.timing = timing;
    if (timing)
        p.since.start();
    p.origin = m_origin;
    p.socket = responder.socket();
    p.responder = std::make_unique<QHttpServerResponder>(std::move(responder));
    QTcpSocket *socket = p.socket;
    m_parked.emplace(token, std::move(p));
    if (socket) {
        auto line = m_lines.find(socket);
        if (line == m_lines.end()) {
            // Kept while the connection lives. Gone: its answers have nowhere to go (writeNow
            // drops them by token).
            line = m_lines.insert(socket, {});
            connect(socket, &QObject::destroyed, this, [this, socket] { m_lines.remove(socket); });
        }
        line->push_back(token);
    }
    return token;
}

void HttpApi::answer(Token token, int status, const QByteArray &body, const Headers &headers)
{
    QMetaObject::invokeMethod(
        this, [this, token, status, body, headers] { writeNow(token, status, body, headers); },
        Qt::QueuedConnection);
}

void HttpApi::read(Token token,
                   std::function<void(OrderStore &, JobQueue &, RedisConnection &)> task)
{
    if (m_reads->post(std::move(task)))
        return;
    answer(token, 503,
           errorJson({ErrorKind::Overloaded,
                      QStringLiteral("too many reads are waiting; retry in a second"),
                      {},
                      {}}),
           {{"Retry-After", "1"}});
}

void HttpApi::answerError(Token token, const ApiError &error)
{
    answer(token, error.httpStatus(), errorJson(error));
}

void HttpApi::writeNow(Token token, int status, const QByteArray &body, const Headers &headers)
{
    auto it = m_parked.find(token);
    if (it == m_parked.end())
        return;
    QTcpSocket *socket = it->second.socket;
    if (!socket || socket->state() != QAbstractSocket::ConnectedState) {
        // The client went away: nothing to write to (the responder's destructor does not
        // touch the socket in Qt 6.4).
        m_parked.erase(it);
        if (socket)
            writeInOrder(socket); // its line moves on (it drops the rest)
        return;
    }
    it->second.answer = Parked::Answer{status, body, headers};
    writeInOrder(socket);
}

void HttpApi::writeInOrder(QTcpSocket *socket)
{
    const auto line = m_lines.find(socket);
    if (line == m_lines.end())
        return;
    const bool connected = socket->state() == QAbstractSocket::ConnectedState;
    while (!line->empty()) {
        const auto it = m_parked.find(line->front());
        if (it != m_parked.end()) {
            if (connected && !it->second.answer)
                break; // the next to answer is not ready
            Parked p = std::move(it->second);
            m_parked.erase(it);
            if (connected) {
                write(*p.responder, p.answer->status, p.answer->body, p.answer->headers, p.origin);
                if (p.timing)
                    p.timing->observe(double(p.since.nsecsElapsed()) / 1e9);
            }
        }
        line->pop_front();
    }
}

} // namespace oee
