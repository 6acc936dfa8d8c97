#include "api/controllers/Controllers.h"

#include "api/HttpApi.h"
#include "api/Json.h"
#include "dex/Market.h"
#include "domain/OrderRequest.h"

#include <QUrlQuery>

namespace oee {

void QuotesController::registerRoutes()
{
    m_api.route(QStringLiteral("/api/quotes"), HttpApi::Method::Get,
                [this](const QHttpServerRequest &req, QHttpServerResponder &&r) {
        // Same validation as an order: build the JSON an order would carry.
        const QUrlQuery q = req.query();
        QJsonObject o;
        for (const QString &key : {QStringLiteral("tokenIn"), QStringLiteral("tokenOut")})
            if (q.hasQueryItem(key))
                o.insert(key, q.queryItemValue(key));
        if (q.hasQueryItem(QStringLiteral("amount"))) {
            const QString text = q.queryItemValue(QStringLiteral("amount"));
            bool ok = false;
            const double amount = text.toDouble(&ok);
            o.insert(QStringLiteral("amount"), ok ? QJsonValue(amount) : QJsonValue(text));
        }
        const Config &config = m_api.config();
        auto parsed = parseOrderRequest(compactJson(o), "application/json", Market::tokens(),
                                        config.defaultSlippage, config.maxBodyBytes);
        if (auto *e = std::get_if<ApiError>(&parsed)) {
            m_api.respondError(r, *e);
            return;
        }
        const OrderRequest &request = std::get<OrderRequest>(parsed);
        const Route route = m_api.market()->route(request.tokenIn, request.tokenOut, request.amount);
        QJsonObject body = route.toJson();
        body.insert(QStringLiteral("success"), true);
        body.insert(QStringLiteral("tokenIn"), request.tokenIn);
        body.insert(QStringLiteral("tokenOut"), request.tokenOut);
        body.insert(QStringLiteral("amount"), request.amount);
        m_api.respond(r, 200, compactJson(body));
    });
}

} // namespace oee
