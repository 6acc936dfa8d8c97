#pragma once
#include "domain/Order.h"

#include <optional>

namespace oee {

// The order lifecycle's one transition table: which status may follow which. Every status
// change a worker makes goes through canFollow(); an impossible one is refused and logged.
//
//   (new)     → pending
//   pending   → routing | pending (an attempt that failed before it routed) | failed
//             | cancelled (DELETE /api/orders/<id>; only while pending)
//   routing   → building | pending (the attempt failed: retry) | failed
//             | routing (a crash caught it mid-attempt: nothing was sent, it runs again)
//   building  → submitted | pending | failed | routing (crash, as above)
//   submitted → confirmed | pending (the transaction missed: retry) | failed
//   confirmed, failed, cancelled: terminal, nothing follows
[[nodiscard]] bool canFollow(std::optional<OrderStatus> from, OrderStatus to);

} // namespace oee
