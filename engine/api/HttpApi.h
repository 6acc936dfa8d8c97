#pragma once
#include "domain/OrderRequest.h"
#include "runtime/Config.h"

#include <QHash>
#include <QHttpServer>
#include <QObject>
#include <QPointer>
#include <QTcpSocket>
#include <memory>
#include <unordered_map>

namespace oee {

class Ingest;
class Market;
class QueryService;
class WsHub;

// The REST controllers: parse → hand to the engine → serialise. Runs on the HTTP thread and
// never blocks it: writes go to Ingest, reads to QueryService, and the answer is written when
// their reply comes back (the responder is parked here meanwhile, keyed by a token).
class HttpApi : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpApi)
public:
    HttpApi(const Config &config, Ingest *ingest, QueryService *queries, Market *market,
            WsHub *hub, QObject *parent = nullptr);
    ~HttpApi() override;

    // Returns the bound port, 0 on failure.
    quint16 listen(const QString &host, quint16 port, QString *error);

private:
    using Token = quint64;
    void registerRoutes();
    Token park(QHttpServerResponder &&responder);
    // Thread-safe: answers a parked request on the HTTP thread.
    void answer(Token token, int status, const QByteArray &json);
    void writeNow(Token token, int status, const QByteArray &json);
    // Per request, on the HTTP thread, before anything is written: the CORS origin to answer.
    void enter(const QHttpServerRequest &req);
    [[nodiscard]] bool authorized(const QHttpServerRequest &req) const;
    void respond(QHttpServerResponder &r, int status, const QByteArray &json);
    void respondError(QHttpServerResponder &r, const ApiError &e);
    static void respond(QHttpServerResponder &r, int status, const QByteArray &json,
                        const QByteArray &origin);

    Config m_config;
    Ingest *m_ingest;
    QueryService *m_queries;
    Market *m_market;
    WsHub *m_hub;
    QHttpServer m_server;
    struct Parked
    {
        std::unique_ptr<QHttpServerResponder> responder;
        QPointer<QTcpSocket> socket;
        QByteArray origin;
    };
    std::unordered_map<Token, Parked> m_parked;
    Token m_nextToken = 1;
    QStringList m_corsOrigins;
    QByteArray m_origin; // of the request being handled
};

} // namespace oee
