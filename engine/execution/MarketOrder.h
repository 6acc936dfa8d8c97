#pragma once
#include "execution/OrderType.h"

namespace oee {

// Executes at once at the best route, with the quote less the tolerance as its floor.
class MarketOrder final : public OrderType
{
public:
    [[nodiscard]] QString name() const override { return QStringLiteral("market"); }
    [[nodiscard]] Decision decide(const OrderRequest &r, const RoutePlan &plan) const override;
};

// The quote less the tolerance, rounded down: a market order's floor (and a sniper's).
[[nodiscard]] BaseUnits toleranceFloor(BaseUnits quoted, quint32 slippagePpm);

} // namespace oee
