#pragma once
#include "execution/OrderType.h"

namespace oee {

// Buys a token the moment its first pool appears (a launch): rests in `open` while tokenOut
// does not trade, fires on the launch itself, with the quote less the tolerance as its floor —
// and, with maxPrice (tokenIn per tokenOut), never above it: above it, it rests like a limit.
class SniperOrder final : public OrderType
{
public:
    [[nodiscard]] QString name() const override { return QStringLiteral("sniper"); }
    [[nodiscard]] QStringList fields() const override;
    [[nodiscard]] std::optional<ApiError> parse(const QJsonObject &body,
                                                OrderRequest &r) const override;
    [[nodiscard]] bool acceptsUnknownTokenOut() const override { return true; }
    [[nodiscard]] Decision decide(const OrderRequest &r, const RoutePlan &plan) const override;
    [[nodiscard]] bool restsOnMiss() const override { return true; }
    [[nodiscard]] std::optional<BaseUnits> restingFloor(const OrderRequest &r) const override;
};

} // namespace oee
