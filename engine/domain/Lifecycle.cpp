#include "domain/Lifecycle.h"

namespace oee {

bool canFollow(std::optional<OrderStatus> from, OrderStatus to)
{
    using S = OrderStatus;
    if (!from)
        return to == S::Pending;
    switch (*from) {
    case S::Pending:
        return to == S::Routing || to == S::Pending || to == S::Failed || to == S::Cancelled;
    case S::Routing:
        return to == S::Building || to == S::Routing || to == S::Pending || to == S::Failed;
    case S::Building:
        return to == S::Submitted || to == S::Routing || to == S::Pending || to == S::Failed;
    case S::Submitted:
        return to == S::Confirmed || to == S::Pending || to == S::Failed;
    case S::Confirmed:
    case S::Failed:
    case S::Cancelled:
        return false;
    }
    return false;
}

} // namespace oee
