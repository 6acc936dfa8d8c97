#include "execution/SniperOrder.h"

#include "dex/Route.h"
#include "execution/MarketOrder.h"
#include "money/Tokens.h"

namespace oee {

QStringList SniperOrder::fields() const
{
    return {QStringLiteral("maxPrice"), QStringLiteral("expiresAt"), QStringLiteral("ttlSeconds")};
}

std::optional<ApiError> SniperOrder::parse(const QJsonObject &o, OrderRequest &r) const
{
    const QJsonValue max = o.value(QStringLiteral("maxPrice"));
    if (!max.isUndefined() && !max.isNull()) {
        const auto p = parsePrice(max);
        if (const auto *e = std::get_if<QString>(&p))
            return ApiError{ErrorKind::InvalidField,
                            QStringLiteral("maxPrice ") + *e,
                            QStringLiteral("maxPrice"),
                            {}};
        r.maxPrice = std::get<DecimalPrice>(p).text();
    }
    return parseExpiry(o, r);
}

std::optional<BaseUnits> SniperOrder::restingFloor(const OrderRequest &r) const
{
    const Token *in = TokenRegistry::instance().bySymbol(r.tokenIn);
    const Token *out = TokenRegistry::instance().find(r.tokenOut);
    if (!in || !out)
        return std::nullopt; // not launched yet
    if (r.maxPrice.isEmpty())
        return BaseUnits(0);
    const auto p = parsePrice(r.maxPrice);
    if (!std::holds_alternative<DecimalPrice>(p))
        return BaseUnits(0);
    return floorAtMaxCost(r.amount, in->decimals, out->decimals, std::get<DecimalPrice>(p))
        .value_or(kU64Max);
}

Decision SniperOrder::decide(const OrderRequest &r, const RoutePlan &plan) const
{
    const auto atMax = restingFloor(r);
    if (!atMax)
        return Decision{Decision::Rest, 0,
                        QStringLiteral("waiting for %1 to launch").arg(r.tokenOut)};
    if (!plan.ok())
        return Decision{Decision::Rest, 0,
                        QStringLiteral("%1 does not trade against %2 yet: %3")
                            .arg(r.tokenOut, r.tokenIn, plan.error())};
    const BaseUnits floor = qMax(*atMax, toleranceFloor(plan.best.amountOut, r.slippagePpm));
    if (plan.best.amountOut < floor)
        return Decision{Decision::Rest, 0,
                        QStringLiteral("the price is above maxPrice %1 %2 per %3")
                            .arg(r.maxPrice, r.tokenIn, plan.out->symbol)};
    return Decision{Decision::Execute, floor, {}};
}

} // namespace oee
