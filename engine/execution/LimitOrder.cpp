#include "execution/LimitOrder.h"

#include "dex/Route.h"
#include "money/Tokens.h"

namespace oee {

QStringList LimitOrder::fields() const
{
    return {QStringLiteral("limitPrice"), QStringLiteral("minAmountOut"),
            QStringLiteral("expiresAt"), QStringLiteral("ttlSeconds")};
}

std::optional<ApiError> LimitOrder::parse(const QJsonObject &o, OrderRequest &r) const
{
    const auto error = [](const QString &field, const QString &message) {
        return ApiError{ErrorKind::InvalidField, message, field, {}};
    };
    const QJsonValue price = o.value(QStringLiteral("limitPrice"));
    const QJsonValue minOut = o.value(QStringLiteral("minAmountOut"));
    const bool hasPrice = !price.isUndefined() && !price.isNull();
    const bool hasMin = !minOut.isUndefined() && !minOut.isNull();
    if (hasPrice == hasMin)
        return error(QStringLiteral("limitPrice"),
                     QStringLiteral("a limit order needs limitPrice (%1 per %2) or minAmountOut, "
                                    "one of them")
                         .arg(r.tokenOut, r.tokenIn));
    const Token *in = TokenRegistry::instance().bySymbol(r.tokenIn);
    const Token *out = TokenRegistry::instance().bySymbol(r.tokenOut);
    if (hasPrice) {
        const auto p = parsePrice(price);
        if (const auto *e = std::get_if<QString>(&p))
            return error(QStringLiteral("limitPrice"), QStringLiteral("limitPrice ") + *e);
        const DecimalPrice &dp = std::get<DecimalPrice>(p);
        const auto floor = floorAtPrice(r.amount, in->decimals, out->decimals, dp);
        if (!floor || *floor == 0)
            return error(
                QStringLiteral("limitPrice"),
                QStringLiteral("limitPrice %1 for amount %2 asks for an output no pool can "
                               "pay (out of range)")
                    .arg(dp.text(), r.amountText()));
        r.limitPrice = dp.text();
        r.limitMinOut = *floor;
    } else {
        const auto m = parseTokenAmount(minOut, out->decimals);
        if (const auto *e = std::get_if<QString>(&m))
            return error(QStringLiteral("minAmountOut"),
                         QStringLiteral("minAmountOut %1 (%2 has %3 decimals)")
                             .arg(*e, out->symbol)
                             .arg(out->decimals));
        r.limitMinOut = std::get<BaseUnits>(m);
    }
    return parseExpiry(o, r);
}

Decision LimitOrder::decide(const OrderRequest &r, const RoutePlan &plan) const
{
    if (!plan.ok())
        return Decision{Decision::Rest, 0, QStringLiteral("no route: ") + plan.error()};
    if (plan.best.amountOut < r.limitMinOut)
        return Decision{Decision::Rest, 0,
                        QStringLiteral("the best route pays %1 %3, the limit asks for %2 %3")
                            .arg(formatTokenAmount(plan.best.amountOut, plan.out->decimals),
                                 formatTokenAmount(r.limitMinOut, plan.out->decimals),
                                 plan.out->symbol)};
    return Decision{Decision::Execute, r.limitMinOut, {}};
}

std::optional<BaseUnits> LimitOrder::restingFloor(const OrderRequest &r) const
{
    return r.limitMinOut;
}

} // namespace oee
