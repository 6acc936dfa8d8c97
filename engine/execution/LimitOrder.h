#pragma once
#include "execution/OrderType.h"

namespace oee {

// Rests in `open` until the router can fill the whole amount at limitPrice (tokenOut per
// tokenIn) or better after fees — or at minAmountOut — then executes with that floor. A missed
// attempt rests again. Optional expiresAt / ttlSeconds.
class LimitOrder final : public OrderType
{
public:
    [[nodiscard]] QString name() const override { return QStringLiteral("limit"); }
    [[nodiscard]] QStringList fields() const override;
    [[nodiscard]] std::optional<ApiError> parse(const QJsonObject &body,
                                                OrderRequest &r) const override;
    [[nodiscard]] Decision decide(const OrderRequest &r, const RoutePlan &plan) const override;
    [[nodiscard]] bool restsOnMiss() const override { return true; }
    [[nodiscard]] std::optional<BaseUnits> restingFloor(const OrderRequest &r) const override;
};

} // namespace oee
