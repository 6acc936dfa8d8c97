#pragma once
#include "domain/Order.h"

#include <optional>

namespace oee {

// The order lifecycle's one transition table: which status may follow which. Every status
// change a worker makes goes through canFollow(); an impossible one is refused and logged.
//
//   (new)     → pending
//   pending   → routing | pending (an attempt that failed before it routed) | failed
//             | open (a limit or sniper order that may not execute yet: it rests)
//             | cancelled | expired
//   open      → routing (its trigger: the price crossed, its token launched) | failed
//             | cancelled | expired
//   routing   → building | pending (the attempt failed: retry) | failed
//             | routing (a crash caught it mid-attempt: nothing was sent, it runs again)
//             | open (a resting order's attempt missed: it rests again) | expired (missed, and
//               its time is up)
//   building  → submitted | pending | failed | routing (crash, as above) | open | expired
//   submitted → confirmed | pending (the transaction missed: retry) | failed | open | expired
//   confirmed, failed, cancelled, expired: terminal, nothing follows
[[nodiscard]] bool canFollow(std::optional<OrderStatus> from, OrderStatus to);

} // namespace oee
