#pragma once
#include "domain/ApiError.h"
#include "runtime/Config.h"
#include "runtime/Metrics.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHttpServer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpSocket>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

namespace oee {

class Ingest;
class Market;
class ReadPool;
class OrdersController;
class QuotesController;
class PoolsController;
class StreamsController;
class SystemController;
class ControlController;
class Controls;
class QueryService;
class WsHub;
class RestingBook;
class OrderStore;
class JobQueue;
class RedisConnection;

// The HTTP front: routing, CORS, the API key, and parking a request while the engine works on
// it. The routes themselves live in thin controllers (api/controllers/), one per scope; they
// parse, hand work to the Ingest or the query thread, and serialise. Runs on the HTTP thread and
// never blocks it: the responder is parked under a token and written when the reply comes back.
//
// A WebSocket upgrade gets exactly one answer: no route writes anything for an upgrade request
// (whatever its path), so QHttpServer hands every upgrade to the WsHub, which answers on the
// socket (an unknown path or order gets an error frame and a close, never a second HTTP reply).
class HttpApi : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpApi)
public:
    using Token = quint64;
    using Headers = QList<std::pair<QByteArray, QByteArray>>;
    using Method = QHttpServerRequest::Method;
    using Methods = QHttpServerRequest::Methods;
    using Handler = std::function<void(const QHttpServerRequest &, QHttpServerResponder &&)>;
    using ArgHandler =
        std::function<void(const QString &, const QHttpServerRequest &, QHttpServerResponder &&)>;
    using UrlHandler =
        std::function<void(const QUrl &, const QHttpServerRequest &, QHttpServerResponder &&)>;

    HttpApi(const Config &config, Ingest *ingest, ReadPool *reads, QueryService *health,
            Market *market, WsHub *hub, QObject *parent = nullptr);
    ~HttpApi() override;

    // Returns the bound port, 0 on failure. With config.wsPort, also a WebSocket-only port.
    quint16 listen(const QString &host, quint16 port, QString *error);
    [[nodiscard]] quint16 wsPort() const;

    // --- for the controllers ---------------------------------------------------------------
    void route(const QString &path, Methods methods, Handler handler);
    void route(const QString &path, Methods methods, ArgHandler handler);
    // A path of any depth ("/<arg>" with a QUrl argument): preflight and the catch-all.
    void routeAnyPath(Methods methods, UrlHandler handler);
    // With `timing`, the time from here to the answer written is observed in it.
    // Answers go out in the order their requests came on a connection (HTTP/1.1 pipelining:
    // QHttpServer hands over the next request while an earlier one is parked): one that is
    // ready waits for those before it, and respond() waits behind parked ones too.
    Token park(QHttpServerResponder &&responder, metrics::Histogram *timing = nullptr);
    // Thread-safe: answers a parked request on the HTTP thread.
    void answer(Token token, int status, const QByteArray &body, const Headers &headers = {});
    void answerError(Token token, const ApiError &error);
    void respond(QHttpServerResponder &r, int status, const QByteArray &body,
                 const Headers &headers = {});
    void respondError(QHttpServerResponder &r, const ApiError &e);
    [[nodiscard]] bool authorized(const QHttpServerRequest &req) const;
    // A write's gate: true if authorized; otherwise answers 401 naming Authorization ("this
    // server requires … <what>") and returns false.
    bool admit(const QHttpServerRequest &req, QHttpServerResponder &responder, const char *what);
    // Who asked, for the operator's audit trail: "rest <peer address>".
    [[nodiscard]] static QString source(const QHttpServerRequest &req);
    [[nodiscard]] const Config &config() const { return m_config; }
    // The process's RestingBook (its counters in /api/metrics); null when it has none.
    void setRestingBook(RestingBook *book) { m_book = book; }
    [[nodiscard]] RestingBook *restingBook() const { return m_book; }
    void setControls(Controls *controls) { m_controls = controls; }
    [[nodiscard]] Controls *controls() const { return m_controls; }
    [[nodiscard]] Ingest *ingest() const { return m_ingest; }
    // Runs a read on the read pool; answers 503 (Retry-After: 1) if too many reads wait.
    void read(Token token, std::function<void(OrderStore &, JobQueue &, RedisConnection &)> task);
    [[nodiscard]] QueryService *health() const { return m_health; }
    [[nodiscard]] Market *market() const { return m_market; }
    [[nodiscard]] WsHub *hub() const { return m_hub; }
    [[nodiscard]] const QByteArray &corsOrigin() const { return m_origin; }

private:
    // Per request, before anything is written: the CORS origin to answer. False for a
    // WebSocket upgrade, which no route answers (see the class comment).
    bool enter(const QHttpServerRequest &req);
    void writeNow(Token token, int status, const QByteArray &body, const Headers &headers);
    // Writes the ready answers at the head of a connection's line.
    void writeInOrder(QTcpSocket *socket);
    static void write(QHttpServerResponder &r, int status, const QByteArray &body,
                      const Headers &headers, const QByteArray &origin);

    Config m_config;
    Ingest *m_ingest;
    ReadPool *m_reads;
    QueryService *m_health;
    Market *m_market;
    WsHub *m_hub;
    QHttpServer m_server;
    quint16 m_wsPort = 0; // WS_PORT, served by the hub
    // The controllers' route handlers point at them: they live as long as the server.
    std::unique_ptr<StreamsController> m_streams;
    std::unique_ptr<SystemController> m_system;
    std::unique_ptr<OrdersController> m_orders;
    std::unique_ptr<QuotesController> m_quotes;
    std::unique_ptr<PoolsController> m_pools;
    std::unique_ptr<ControlController> m_control;
    struct Parked
    {
        std::unique_ptr<QHttpServerResponder> responder;
        QPointer<QTcpSocket> socket;
        QByteArray origin;
        metrics::Histogram *timing = nullptr;
        QElapsedTimer since;
        struct Answer
        {
            int status;
            QByteArray body;
            Headers headers;
        };
        std::optional<Answer> answer; // ready, waiting for an earlier request's
    };
    std::unordered_map<Token, Parked> m_parked;
    // Per connection (while it lives), its parked requests in the order they came.
    QHash<QTcpSocket *, std::deque<Token>> m_lines;
    Token m_nextToken = 1;
    QStringList m_corsOrigins;
    QByteArray m_origin; // of the request being handled
    RestingBook *m_book = nullptr;
    Controls *m_controls = nullptr;
};

} // namespace oee
