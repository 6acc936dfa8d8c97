#include "domain/Lifecycle.h"

namespace oee {

bool canFollow(std::optional<OrderStatus> from, OrderStatus to)
{
    using S = OrderStatus;
    if (!from)
        return to == S::Pending;
    const bool missed = to == S::Open || to == S::Expired; // a resting order's attempt missed
    switch (*from) {
    case S::Pending:
        return to == S::Routing || to == S::Pending || to == S::Failed || to == S::Open ||
               to == S::Cancelled || to == S::Expired;
    case S::Open:
        return to == S::Routing || to == S::Failed || to == S::Cancelled || to == S::Expired;
    case S::Routing:
        return to == S::Building || to == S::Routing || to == S::Pending || to == S::Failed ||
               missed;
    case S::Building:
        return to == S::Submitted || to == S::Routing || to == S::Pending || to == S::Failed ||
               missed;
    case S::Submitted:
        return to == S::Confirmed || to == S::Pending || to == S::Failed || missed;
    case S::Confirmed:
    case S::Failed:
    case S::Cancelled:
    case S::Expired:
        return false;
    }
    return false;
}

} // namespace oee
