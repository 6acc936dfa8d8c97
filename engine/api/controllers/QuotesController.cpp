#include "api/controllers/Controllers.h"

#include "api/HttpApi.h"
#include "api/Json.h"
#include "dex/Market.h"
#include "domain/OrderRequest.h"

#include <QUrlQuery>

namespace oee {

void QuotesController::registerRoutes()
{
    m_api.route(
        QStringLiteral("/api/quotes"), HttpApi::Method::Get,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&r) {
            // Same validation as an order: build the JSON an order would carry.
            const QUrlQuery q = req.query();
            QJsonObject o;
            for (const QString &key : {QStringLiteral("tokenIn"), QStringLiteral("tokenOut")})
                if (q.hasQueryItem(key))
                    o.insert(key, q.queryItemValue(key));
            // The amount as the client wrote it: a decimal string, read exactly.
            if (q.hasQueryItem(QStringLiteral("amount")))
                o.insert(QStringLiteral("amount"), q.queryItemValue(QStringLiteral("amount")));
            const Config &config = m_api.config();
            auto parsed = parseOrderRequest(compactJson(o), "application/json",
                                            config.defaultSlippagePpm, config.maxBodyBytes);
            if (auto *e = std::get_if<ApiError>(&parsed)) {
                m_api.respondError(r, *e);
                return;
            }
            const OrderRequest &request = std::get<OrderRequest>(parsed);
            const RoutePlan plan =
                m_api.market()->route(request.tokenIn, request.tokenOut, request.amount);
            QJsonObject body = plan.toJson();
            body.insert(QStringLiteral("success"), plan.ok());
            body.insert(QStringLiteral("amount"), request.amountText());
            m_api.respond(r, 200, compactJson(body));
        });
}

} // namespace oee
