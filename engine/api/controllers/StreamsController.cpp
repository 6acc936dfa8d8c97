#include "api/controllers/Controllers.h"

#include "api/HttpApi.h"

namespace oee {

void StreamsController::registerRoutes()
{
    // Reached only by a plain GET: HttpApi::route() leaves every upgrade to the WsHub.
    const auto plainGet = [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
        m_api.respondError(r, {ErrorKind::UpgradeRequired,
                               QStringLiteral("this is a WebSocket stream; connect with a "
                                              "WebSocket client"),
                               {},
                               QStringLiteral("Upgrade required")});
    };
    const auto plainGetWithId = [plainGet](const QString &, const QHttpServerRequest &req,
                                           QHttpServerResponder &&r) {
        plainGet(req, std::move(r));
    };
    using Method = HttpApi::Method;
    m_api.route(QStringLiteral("/ws/orders"), Method::Get, plainGet);
    m_api.route(QStringLiteral("/api/orders/stream/all"), Method::Get, plainGet);
    m_api.route(QStringLiteral("/api/orders/ws"), Method::Get, plainGet);
    m_api.route(QStringLiteral("/ws/orders/<arg>"), Method::Get, plainGetWithId);
    m_api.route(QStringLiteral("/api/orders/<arg>/stream"), Method::Get, plainGetWithId);
    m_api.route(QStringLiteral("/ws/<arg>"), Method::Get, plainGetWithId);
}

} // namespace oee
