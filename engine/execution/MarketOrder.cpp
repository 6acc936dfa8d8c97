#include "execution/MarketOrder.h"

#include "dex/Route.h"

namespace oee {

BaseUnits toleranceFloor(BaseUnits quoted, quint32 slippagePpm)
{
    return BaseUnits(u128(quoted) * (kPpm - slippagePpm) / kPpm);
}

Decision MarketOrder::decide(const OrderRequest &r, const RoutePlan &plan) const
{
    if (!plan.ok())
        return Decision{Decision::Fail, 0, plan.error()};
    return Decision{Decision::Execute, toleranceFloor(plan.best.amountOut, r.slippagePpm), {}};
}

} // namespace oee
